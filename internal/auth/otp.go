package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/riverqueue/river"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/httpx"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/ratelimit"
	"mitra/internal/platform/sms"
)

// OTP purposes.
const (
	PurposeLogin         = "login"
	PurposeVerifyPhone   = "verify_phone"
	PurposeResetPassword = "reset_password"
)

// One-time code rules (PRODUCT.md P4).
const (
	otpLife        = 5 * time.Minute
	otpMaxAttempts = 5
	otpCooldown    = 60 * time.Second
	resetLife      = 15 * time.Minute
)

var (
	otpPerPhone = ratelimit.PerHour(5, 5)
	otpPerIP    = ratelimit.PerHour(20, 10)
)

// SendOTPInput asks for a code.
type SendOTPInput struct {
	Phone   string `json:"phone" minLength:"6" maxLength:"32" example:"+6281234567890"`
	Purpose string `json:"purpose" enum:"login,verify_phone,reset_password"`
}

// OTPSent is the answer to SendOTP, the same whether or not the phone has
// an account.
type OTPSent struct {
	Status      string `json:"status" example:"sent"`
	ExpiresIn   int    `json:"expires_in" example:"300" doc:"Seconds the code stays valid"`
	ResendAfter int    `json:"resend_after" example:"60" doc:"Seconds before another code may be asked for"`
}

var errInvalidOTP = &apperr.Error{Code: "invalid_otp", Status: 400, Message: "the code is wrong or has expired"}

// SendOTP creates a code and, when the phone belongs to an active account,
// queues its delivery. The answer does not tell whether it does.
func (s *Service) SendOTP(ctx context.Context, in SendOTPInput, c Client) (*OTPSent, error) {
	phone, err := NormalizePhone("body.phone", in.Phone)
	if err != nil {
		return nil, err
	}
	phoneKey := mac(s.otpKey, "phone", phone)
	coolKey := "otp:cool:" + phoneKey + ":" + in.Purpose
	if wait, err := s.Limiter.Blocked(ctx, coolKey); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, &apperr.Error{Code: "otp_cooldown", Status: 429, Message: "a code was sent moments ago; wait before asking again", RetryAfter: wait}
	}
	// The IP's budget first: a refusal there must not spend the phone's.
	for _, l := range []struct {
		key   string
		limit ratelimit.Limit
	}{{"otp:ip:" + httpx.LimitKey(c.IP), otpPerIP}, {"otp:phone:" + phoneKey, otpPerPhone}} {
		res, err := s.Limiter.Allow(ctx, l.key, l.limit)
		if err != nil {
			return nil, err
		}
		if !res.Allowed {
			return nil, &apperr.Error{Code: apperr.RateLimited, Message: "too many codes asked for; try again later", RetryAfter: res.RetryAfter}
		}
	}
	if err := s.Limiter.Block(ctx, coolKey, otpCooldown); err != nil {
		return nil, err
	}
	code, err := newCode()
	if err != nil {
		return nil, err
	}
	u, err := getUser(ctx, s.DB, "phone", phone)
	if err != nil && !errors.Is(err, errNotFound) {
		return nil, err
	}
	deliver := u != nil && u.Status == StatusActive
	now := s.Now()
	otpID := ids.New()
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		// Only the newest code of a phone and purpose is valid.
		if _, err := tx.Exec(ctx, `UPDATE otp_codes SET consumed_at = ? WHERE phone = ? AND purpose = ? AND consumed_at IS NULL`, now, phone, in.Purpose); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO otp_codes (id, phone, purpose, code_hash, ip, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			otpID, phone, in.Purpose, mac(s.otpKey, "code", otpID, code), c.IP, now, now.Add(otpLife)); err != nil {
			return err
		}
		if !deliver {
			return nil
		}
		_, err := s.Jobs.InsertTx(ctx, tx, OTPDeliveryArgs{OTPID: otpID, Phone: phone, Purpose: in.Purpose,
			SealedCode: s.Vault.SealString(code, "otp:"+otpID)}, &river.InsertOpts{MaxAttempts: 5})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("auth: send otp: %w", err)
	}
	return &OTPSent{Status: "sent", ExpiresIn: int(otpLife.Seconds()), ResendAfter: int(otpCooldown.Seconds())}, nil
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// VerifyOTPInput presents a code.
type VerifyOTPInput struct {
	Phone   string `json:"phone" minLength:"6" maxLength:"32" example:"+6281234567890"`
	Code    string `json:"code" pattern:"^[0-9]{6}$" example:"123456"`
	Purpose string `json:"purpose" enum:"login,verify_phone,reset_password"`
}

// OTPVerified is the answer to a correct code: tokens for login, the
// verified flag for verify_phone, a reset token for reset_password.
type OTPVerified struct {
	Purpose string `json:"purpose"`
	*Tokens
	Verified       bool   `json:"verified,omitempty"`
	ResetToken     string `json:"reset_token,omitempty" doc:"For POST /api/v1/auth/password/reset"`
	ResetExpiresIn int    `json:"reset_expires_in,omitempty"`
}

// VerifyOTP checks a code: at most 5 tries, single use, 5 minutes.
func (s *Service) VerifyOTP(ctx context.Context, in VerifyOTPInput, c Client) (*OTPVerified, error) {
	phone, err := NormalizePhone("body.phone", in.Phone)
	if err != nil {
		return nil, err
	}
	var out *OTPVerified
	var failure error
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		now := s.Now()
		var id, hash string
		var attempts int
		// The row is locked (PostgreSQL; SQLite's IMMEDIATE transaction
		// already serialises writers): concurrent tries cannot share an
		// attempt count or use one code twice.
		err := tx.QueryRow(ctx, `SELECT id, code_hash, attempts FROM otp_codes WHERE phone = ? AND purpose = ? AND consumed_at IS NULL AND expires_at > ?
			ORDER BY created_at DESC LIMIT 1`+forUpdate(tx), phone, in.Purpose, now).Scan(&id, &hash, &attempts)
		if errors.Is(err, database.ErrNoRows) {
			failure = errInvalidOTP
			return nil
		}
		if err != nil {
			return err
		}
		if !hmac.Equal([]byte(hash), []byte(mac(s.otpKey, "code", id, in.Code))) {
			attempts++
			var consumed *time.Time
			if attempts >= otpMaxAttempts {
				consumed = &now // that was the last try: the code is dead
			}
			_, err := tx.Exec(ctx, `UPDATE otp_codes SET attempts = ?, consumed_at = ? WHERE id = ?`, attempts, consumed, id)
			failure = errInvalidOTP
			return err
		}
		if res, err := tx.Exec(ctx, `UPDATE otp_codes SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL`, now, id); err != nil {
			return err
		} else if res.RowsAffected() != 1 {
			failure = errInvalidOTP // used by a concurrent request
			return nil
		}
		u, err := getUser(ctx, tx, "phone", phone)
		if err != nil || u.Status != StatusActive {
			failure = errInvalidOTP
			return nil
		}
		if !u.PhoneVerified {
			s.users.forget(u.ID)
			if _, err := tx.Exec(ctx, `UPDATE users SET phone_verified_at = ?, updated_at = ? WHERE id = ?`, now, now, u.ID); err != nil {
				return err
			}
			u.PhoneVerified = true
		}
		out = &OTPVerified{Purpose: in.Purpose}
		switch in.Purpose {
		case PurposeLogin:
			if u.Role == "agent" && u.AgentCode == nil {
				failure = &apperr.Error{Code: "agent_not_approved", Status: 403, Message: "your agent application has not been approved yet"}
				return nil
			}
			if out.Tokens, err = s.startSession(ctx, tx, u, c); err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Entry{Action: "auth.login", ActorID: u.ID, ActorRole: string(u.Role), TargetType: "session", TargetID: out.SessionID,
				After: map[string]any{"method": "otp"}})
		case PurposeVerifyPhone:
			out.Verified = true
			return audit.Record(ctx, tx, audit.Entry{Action: "auth.phone_verified", ActorID: u.ID, ActorRole: string(u.Role), TargetType: "user", TargetID: u.ID})
		default:
			token := "mpr_" + randomToken()
			if _, err := tx.Exec(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
				hashToken(token), u.ID, now, now.Add(resetLife)); err != nil {
				return err
			}
			out.ResetToken, out.ResetExpiresIn = token, int(resetLife.Seconds())
			return audit.Record(ctx, tx, audit.Entry{Action: "auth.password_reset_requested", ActorID: u.ID, ActorRole: string(u.Role), TargetType: "user", TargetID: u.ID})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("auth: verify otp: %w", err)
	}
	if failure != nil {
		return nil, failure
	}
	if out != nil && out.Tokens != nil {
		s.users.forget(out.User.ID)
	}
	return out, nil
}

// OTPDeliveryArgs is the durable job that sends a code. The code travels
// sealed with the vault: the job table never holds it in clear.
type OTPDeliveryArgs struct {
	OTPID      string `json:"otp_id"`
	Phone      string `json:"phone"`
	Purpose    string `json:"purpose"`
	SealedCode string `json:"sealed_code"`
}

// Kind names the job.
func (OTPDeliveryArgs) Kind() string { return "otp_delivery" }

// OTPDeliveryWorker sends codes through the configured sender.
type OTPDeliveryWorker struct {
	river.WorkerDefaults[OTPDeliveryArgs]
	Service *Service
	Sender  sms.OTPSender
}

// Work sends the code unless it is already used or expired. A permanent
// failure (rejected number, bad credentials) is not retried.
func (w *OTPDeliveryWorker) Work(ctx context.Context, job *river.Job[OTPDeliveryArgs]) error {
	a := job.Args
	var live int
	if err := w.Service.DB.QueryRow(ctx, `SELECT count(*) FROM otp_codes WHERE id = ? AND consumed_at IS NULL AND expires_at > ?`, a.OTPID, w.Service.Now()).Scan(&live); err != nil {
		return err
	}
	if live == 0 {
		return nil // used, replaced or expired: sending it would only confuse
	}
	code, err := w.Service.Vault.OpenString(a.SealedCode, "otp:"+a.OTPID)
	if err != nil {
		return river.JobCancel(errors.New("otp: sealed code does not open"))
	}
	if err := w.Sender.SendOTP(ctx, a.Phone, code, a.Purpose); err != nil {
		if errors.Is(err, sms.ErrPermanent) {
			return river.JobCancel(err)
		}
		return err
	}
	return nil
}

// Timeout bounds one delivery attempt.
func (w *OTPDeliveryWorker) Timeout(*river.Job[OTPDeliveryArgs]) time.Duration {
	return 30 * time.Second
}
