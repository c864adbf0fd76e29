package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
)

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errInvalidReset = &apperr.Error{Code: "invalid_reset_token", Status: 400, Message: "the reset token is wrong, used or expired"}

// ResetPassword sets a new password with a reset token from VerifyOTP and
// ends every session of the account.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	hash := hashToken(token)
	// Check and hash first, outside the write transaction: argon2id takes
	// tens of milliseconds, and SQLite has one writer.
	var userID string
	err := s.DB.QueryRow(ctx, `SELECT user_id FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?`, hash, s.Now()).Scan(&userID)
	if errors.Is(err, database.ErrNoRows) {
		return errInvalidReset
	}
	if err != nil {
		return fmt.Errorf("auth: reset password: %w", err)
	}
	u, err := getUserByID(ctx, s.DB, userID)
	if err != nil || u.Status != StatusActive {
		return errInvalidReset
	}
	if err := ValidatePassword("new_password", password, deref(u.Email), deref(u.Phone), u.Name); err != nil {
		return err
	}
	newHash := HashPassword(password, s.opts.Password)
	var failure error
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		now := s.Now()
		// Use the token exactly once, even against a concurrent request.
		res, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND user_id = ? AND used_at IS NULL AND expires_at > ?`, now, hash, userID, now)
		if err != nil {
			return err
		}
		if res.RowsAffected() != 1 {
			failure = errInvalidReset
			return nil
		}
		if err := s.setPassword(ctx, tx, u.ID, newHash, now); err != nil {
			return err
		}
		if _, err := s.revokeUserSessions(ctx, tx, u.ID, "", "password_reset"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "auth.password_reset", ActorID: u.ID, ActorRole: string(u.Role), TargetType: "user", TargetID: u.ID})
	})
	if err != nil {
		return fmt.Errorf("auth: reset password: %w", err)
	}
	s.users.forget(u.ID)
	return failure
}

// ChangePassword replaces the caller's password after checking the current
// one, and ends their other sessions.
func (s *Service) ChangePassword(ctx context.Context, p access.Principal, current, next string) error {
	u, err := getUserByID(ctx, s.DB, p.UserID)
	if err != nil {
		return err
	}
	if u.passwordHash != nil {
		ok, err := CheckPassword(*u.passwordHash, current)
		if err != nil {
			return err
		}
		if !ok {
			return &apperr.Error{Code: "invalid_credentials", Status: 401, Message: "the current password is wrong",
				Fields: []apperr.FieldError{{Location: "body.current_password", Message: "is wrong"}}}
		}
	}
	if current == next {
		return apperr.Field("body.new_password", "must differ from the current password")
	}
	if err := ValidatePassword("new_password", next, deref(u.Email), deref(u.Phone), u.Name); err != nil {
		return err
	}
	newHash := HashPassword(next, s.opts.Password)
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if err := s.setPassword(ctx, tx, u.ID, newHash, s.Now()); err != nil {
			return err
		}
		if _, err := s.revokeUserSessions(ctx, tx, u.ID, p.SessionID, "password_changed"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "auth.password_changed", TargetType: "user", TargetID: u.ID})
	})
	if err == nil {
		s.users.forget(u.ID)
	}
	return err
}

// setPassword stores an already computed hash.
func (s *Service) setPassword(ctx context.Context, tx database.Querier, userID, hash string, now time.Time) error {
	s.users.forget(userID)
	_, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, now, userID)
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
