package auth

import (
	"context"
	"fmt"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
)

// DataSource is a domain's part of a user's data: Export returns what the
// domain holds about the user; Erase removes or anonymises it inside the
// erasure's transaction. Domains register theirs when they are wired.
type DataSource interface {
	Name() string
	Export(ctx context.Context, q database.Querier, userID string) (any, error)
	Erase(ctx context.Context, tx *database.Tx, userID string) error
}

// Export is everything Mitra holds about a user (Indonesia's PDP law,
// India's DPDP Act).
type Export struct {
	ExportedAt  time.Time      `json:"exported_at"`
	User        *User          `json:"user"`
	Preferences Preferences    `json:"preferences"`
	Sessions    []SessionInfo  `json:"sessions"`
	Audit       []audit.Stored `json:"audit" doc:"Events the user did and events done to their account (the latest 100 of each)"`
	Domains     map[string]any `json:"domains" doc:"Data of each product area"`
}

// ExportUser gathers a user's data: the caller's own, or anyone's for
// administrators.
func (s *Service) ExportUser(ctx context.Context, p access.Principal, id string) (*Export, error) {
	u, err := s.visibleUser(ctx, s.DB, p, id, access.UsersExportAny)
	if err != nil {
		return nil, err
	}
	out := &Export{ExportedAt: s.Now(), User: u, Domains: map[string]any{}}
	if out.Preferences, err = s.loadPreferences(ctx, s.DB, u); err != nil {
		return nil, err
	}
	if out.Sessions, err = s.Sessions(ctx, access.Principal{UserID: u.ID}); err != nil {
		return nil, err
	}
	byActor, _, err := audit.List(ctx, s.DB, audit.Filter{ActorID: u.ID, Limit: 100})
	if err != nil {
		return nil, err
	}
	byTarget, _, err := audit.List(ctx, s.DB, audit.Filter{TargetID: u.ID, Limit: 100})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, r := range append(byActor, byTarget...) {
		if !seen[r.ID] {
			seen[r.ID] = true
			out.Audit = append(out.Audit, r)
		}
	}
	for _, src := range s.dataSources {
		data, err := src.Export(ctx, s.DB, u.ID)
		if err != nil {
			return nil, fmt.Errorf("auth: export %s: %w", src.Name(), err)
		}
		out.Domains[src.Name()] = data
	}
	if err := audit.Record(ctx, s.DB, audit.Entry{Action: "user.exported", TargetType: "user", TargetID: u.ID}); err != nil {
		return nil, err
	}
	return out, nil
}

// RegisterDataSource adds a domain's data to export and erasure.
func (s *Service) RegisterDataSource(d DataSource) { s.dataSources = append(s.dataSources, d) }

// EraseUser anonymises an account on request (the caller's own, or one an
// administrator manages): identifiers, name and password are removed,
// sessions end, preferences and one-time codes are deleted, and each domain
// erases its part. The row stays, anonymous, so the audit log and records
// kept by law still point somewhere.
func (s *Service) EraseUser(ctx context.Context, p access.Principal, id string) error {
	defer s.users.forget(id) // after commit too
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		u, err := s.visibleUser(ctx, tx, p, id, access.UsersEraseAny)
		if err != nil {
			return err
		}
		if !p.Owns(u.ID) && !mayManage(p, u) {
			return apperr.New(apperr.Forbidden, "only an administrator above this user may erase them")
		}
		if u.Status == StatusErased {
			return nil
		}
		now := s.Now()
		if u.Phone != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM otp_codes WHERE phone = ?`, *u.Phone); err != nil {
				return err
			}
		}
		for _, q := range []string{
			`DELETE FROM user_preferences WHERE user_id = ?`,
			`DELETE FROM password_resets WHERE user_id = ?`,
			`DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = ?)`,
		} {
			if _, err := tx.Exec(ctx, q, u.ID); err != nil {
				return err
			}
		}
		if _, err := s.revokeUserSessions(ctx, tx, u.ID, "", "erased"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET user_agent = '', ip = '' WHERE user_id = ?`, u.ID); err != nil {
			return err
		}
		for _, src := range s.dataSources {
			if err := src.Erase(ctx, tx, u.ID); err != nil {
				return fmt.Errorf("auth: erase %s: %w", src.Name(), err)
			}
		}
		s.users.forget(u.ID)
		if _, err := tx.Exec(ctx, `UPDATE users SET email = NULL, phone = NULL, agent_code = NULL, name = 'Deleted user', password_hash = NULL,
			email_verified_at = NULL, phone_verified_at = NULL, status = ?, updated_at = ? WHERE id = ?`, StatusErased, now, u.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "user.erased", TargetType: "user", TargetID: u.ID,
			Before: map[string]any{"status": u.Status}, After: map[string]any{"status": StatusErased}})
	})
}
