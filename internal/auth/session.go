package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/logging"
)

// Tokens is the answer of every sign-in and refresh.
type Tokens struct {
	User         *User  `json:"user"`
	AccessToken  string `json:"access_token" doc:"ES256 JWT; send as 'Authorization: Bearer <token>'"`
	RefreshToken string `json:"refresh_token" doc:"Opaque; rotated on every use"`
	TokenType    string `json:"token_type" example:"Bearer"`
	ExpiresIn    int    `json:"expires_in" example:"900" doc:"Seconds until the access token expires"`
	SessionID    string `json:"session_id"`
}

// Client describes where a request came from, for the session list.
type Client struct {
	IP        string
	UserAgent string
}

const refreshPrefix = "mrt_"

// refreshToken derives the refresh token of a session at a sequence
// number. Only its hash is stored; deriving it (rather than storing it)
// lets the grace window answer a retry with the same current token.
func (s *Service) refreshToken(sessionID string, seq int64) string {
	return refreshPrefix + mac(s.refreshKey, sessionID, strconv.FormatInt(seq, 10))
}

// startSession creates a session for u inside tx and returns its tokens.
func (s *Service) startSession(ctx context.Context, tx *database.Tx, u *User, c Client) (*Tokens, error) {
	now := s.Now()
	sid := ids.New()
	ua := c.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	if _, err := tx.Exec(ctx, `INSERT INTO sessions (id, user_id, refresh_seq, rotated_at, user_agent, ip, created_at, last_used_at, expires_at)
		VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)`, sid, u.ID, now, ua, c.IP, now, now, now.Add(s.opts.SessionMax)); err != nil {
		return nil, fmt.Errorf("auth: start session: %w", err)
	}
	rt := s.refreshToken(sid, 1)
	if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, seq, created_at) VALUES (?, ?, 1, ?)`, hashToken(rt), sid, now); err != nil {
		return nil, fmt.Errorf("auth: start session: %w", err)
	}
	s.users.forget(u.ID)
	if _, err := tx.Exec(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, now, u.ID); err != nil {
		return nil, fmt.Errorf("auth: start session: %w", err)
	}
	u.LastLoginAt = &now
	return s.tokens(u, sid, rt)
}

func (s *Service) tokens(u *User, sid, refresh string) (*Tokens, error) {
	now := s.Now()
	at, err := s.Keys.sign(accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opts.Issuer, Subject: u.ID, Audience: jwt.ClaimStrings{s.opts.Audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(s.opts.AccessTTL)),
		},
		SID: sid, Role: string(u.Role),
	})
	if err != nil {
		return nil, fmt.Errorf("auth: sign: %w", err)
	}
	return &Tokens{User: u, AccessToken: at, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(s.opts.AccessTTL.Seconds()), SessionID: sid}, nil
}

var (
	errInvalidRefresh = &apperr.Error{Code: "invalid_refresh_token", Status: 401, Message: "refresh token is invalid, expired or revoked"}
	errRefreshReused  = &apperr.Error{Code: "refresh_token_reused", Status: 401, Message: "refresh token was already used; the session has been ended for safety"}
	// ErrTokenExpired and ErrTokenInvalid are the answers for a bad access token.
	ErrTokenExpired = &apperr.Error{Code: "token_expired", Status: 401, Message: "access token expired; refresh it"}
	ErrTokenInvalid = &apperr.Error{Code: apperr.Unauthorized, Message: "missing or invalid access token"}
)

type sessionRow struct {
	ID, UserID            string
	Seq                   int64
	RotatedAt             *time.Time
	LastUsedAt, ExpiresAt time.Time
	RevokedAt             *time.Time
}

// forUpdate locks the selected rows on PostgreSQL; SQLite's IMMEDIATE
// transactions already serialise writers.
func forUpdate(tx *database.Tx) string {
	if tx.Dialect() == database.Postgres {
		return ` FOR UPDATE`
	}
	return ""
}

func (s *Service) lockSession(ctx context.Context, tx *database.Tx, sid string) (*sessionRow, error) {
	q := `SELECT id, user_id, refresh_seq, rotated_at, last_used_at, expires_at, revoked_at FROM sessions WHERE id = ?` + forUpdate(tx)
	var r sessionRow
	err := tx.QueryRow(ctx, q, sid).Scan(&r.ID, &r.UserID, &r.Seq, &r.RotatedAt, &r.LastUsedAt, &r.ExpiresAt, &r.RevokedAt)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *sessionRow) live(now time.Time, idle time.Duration) bool {
	return r.RevokedAt == nil && now.Before(r.ExpiresAt) && now.Before(r.LastUsedAt.Add(idle))
}

// Refresh exchanges a refresh token for new tokens. The token is rotated;
// presenting an older token of the session (other than the previous one
// within the grace window) ends the whole session and is audited.
func (s *Service) Refresh(ctx context.Context, token string, c Client) (*Tokens, error) {
	if len(token) < len(refreshPrefix)+10 || len(token) > 200 {
		return nil, errInvalidRefresh
	}
	var out *Tokens
	var reused string
	// Not cancelled by the client: a reuse must end the session whatever happens.
	err := s.DB.InTx(context.WithoutCancel(ctx), func(tx *database.Tx) error {
		var sid string
		var seq int64
		err := tx.QueryRow(ctx, `SELECT session_id, seq FROM refresh_tokens WHERE token_hash = ?`, hashToken(token)).Scan(&sid, &seq)
		if errors.Is(err, database.ErrNoRows) {
			return errInvalidRefresh
		}
		if err != nil {
			return err
		}
		sess, err := s.lockSession(ctx, tx, sid)
		if err != nil {
			return err
		}
		now := s.Now()
		if !sess.live(now, s.opts.SessionIdle) {
			return errInvalidRefresh
		}
		u, err := getUserByID(ctx, tx, sess.UserID)
		if err != nil || u.Status != StatusActive {
			return errInvalidRefresh
		}
		switch {
		case seq == sess.Seq:
			next := sess.Seq + 1
			rt := s.refreshToken(sid, next)
			if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (token_hash, session_id, seq, created_at) VALUES (?, ?, ?, ?)`, hashToken(rt), sid, next, now); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE sessions SET refresh_seq = ?, rotated_at = ?, last_used_at = ?, ip = ? WHERE id = ?`, next, now, now, c.IP, sid); err != nil {
				return err
			}
			out, err = s.tokens(u, sid, rt)
			return err
		case seq == sess.Seq-1 && sess.RotatedAt != nil && now.Sub(*sess.RotatedAt) <= s.opts.RefreshGrace:
			// A concurrent retry of the refresh that just rotated: answer with
			// the current token, not a new one, so both answers agree.
			rt := s.refreshToken(sid, sess.Seq)
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM refresh_tokens WHERE token_hash = ?`, hashToken(rt)).Scan(&n); err != nil || n != 1 {
				return errInvalidRefresh // the encryption key rotated in between
			}
			out, err = s.tokens(u, sid, rt)
			return err
		default:
			reused = sess.ID
			if err := s.revokeSessionTx(ctx, tx, sess.ID, sess.UserID, "refresh_token_reuse"); err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Entry{Action: "auth.refresh_token_reused", ActorID: sess.UserID, TargetType: "session", TargetID: sess.ID,
				After: map[string]any{"presented_seq": seq, "current_seq": sess.Seq}})
		}
	})
	if err != nil {
		return nil, err
	}
	if reused != "" {
		logging.FromContext(ctx).Warn("refresh token reuse: session revoked", "session_id", reused)
		return nil, errRefreshReused
	}
	return out, nil
}

// revokeSessionTx ends a session in tx and denies its access tokens on
// every node. The denylist entry is written right away (before commit):
// a denial of a session that then fails to end costs one extra sign-in,
// while the reverse would leave a window.
func (s *Service) revokeSessionTx(ctx context.Context, tx database.Querier, sid, userID, reason string) error {
	now := s.Now()
	if _, err := tx.Exec(ctx, `UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL`, now, reason, sid); err != nil {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	if err := s.Revocations.Revoke(rctx, sid, now.Add(s.opts.AccessTTL+time.Minute)); err != nil {
		s.Logger.Error("revocation not shared; other nodes accept the session's access tokens until they expire", "session_id", sid, "err", err)
	}
	return nil
}

// revokeUserSessions ends every live session of a user except keep.
func (s *Service) revokeUserSessions(ctx context.Context, tx database.Querier, userID, keep, reason string) (int, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND id <> ?`, userID, keep)
	if err != nil {
		return 0, err
	}
	var sids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		sids = append(sids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, sid := range sids {
		if err := s.revokeSessionTx(ctx, tx, sid, userID, reason); err != nil {
			return 0, err
		}
	}
	return len(sids), nil
}

// Verify checks an access token and returns its principal. Expired tokens
// give ErrTokenExpired; anything else wrong (signature, algorithm,
// audience, issuer, not yet valid, revoked session) gives ErrTokenInvalid.
func (s *Service) Verify(ctx context.Context, token string) (access.Principal, error) {
	if t, ok := s.verified.get(token); ok {
		now := s.Now()
		switch {
		case now.After(t.expiresAt.Add(tokenLeeway)):
			return access.Principal{}, ErrTokenExpired
		case now.Before(t.notBefore.Add(-tokenLeeway)):
			return access.Principal{}, ErrTokenInvalid
		case s.Revocations.Revoked(t.p.SessionID):
			return access.Principal{}, ErrTokenInvalid
		}
		return t.p, nil
	}
	var c accessClaims
	_, err := jwt.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return s.Keys.publicKey(ctx, kid)
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithAudience(s.opts.Audience),
		jwt.WithIssuer(s.opts.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.Now),
		jwt.WithLeeway(tokenLeeway),
	)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return access.Principal{}, ErrTokenExpired
		}
		return access.Principal{}, ErrTokenInvalid
	}
	role := access.Role(c.Role)
	if c.Subject == "" || c.SID == "" || !role.Valid() {
		return access.Principal{}, ErrTokenInvalid
	}
	if s.Revocations.Revoked(c.SID) {
		return access.Principal{}, ErrTokenInvalid
	}
	p := access.Principal{UserID: c.Subject, SessionID: c.SID, Role: role}
	nbf := c.IssuedAt.Time
	if c.NotBefore != nil {
		nbf = c.NotBefore.Time
	}
	s.verified.put(token, cachedToken{p: p, notBefore: nbf, expiresAt: c.ExpiresAt.Time}, s.Now())
	return p, nil
}

// tokenLeeway is the clock skew tolerated on token times.
const tokenLeeway = 5 * time.Second

// Logout ends the caller's session.
func (s *Service) Logout(ctx context.Context, p access.Principal) error {
	return s.DB.InTx(context.WithoutCancel(ctx), func(tx *database.Tx) error {
		if err := s.revokeSessionTx(ctx, tx, p.SessionID, p.UserID, "logout"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "auth.logout", TargetType: "session", TargetID: p.SessionID})
	})
}

// SessionInfo is one session in the caller's list.
type SessionInfo struct {
	ID         string    `json:"id"`
	Current    bool      `json:"current"`
	UserAgent  string    `json:"user_agent" example:"PersonaApp/2.3 (Android 14)"`
	IP         string    `json:"ip" example:"203.0.113.7"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// Sessions lists the caller's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, p access.Principal) ([]SessionInfo, error) {
	now := s.Now()
	rows, err := s.DB.Query(ctx, `SELECT id, user_agent, ip, created_at, last_used_at, expires_at FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND last_used_at > ? ORDER BY created_at DESC LIMIT 100`,
		p.UserID, now, now.Add(-s.opts.SessionIdle))
	if err != nil {
		return nil, fmt.Errorf("auth: sessions: %w", err)
	}
	defer rows.Close()
	out := []SessionInfo{}
	for rows.Next() {
		var si SessionInfo
		if err := rows.Scan(&si.ID, &si.UserAgent, &si.IP, &si.CreatedAt, &si.LastUsedAt, &si.ExpiresAt); err != nil {
			return nil, fmt.Errorf("auth: sessions: %w", err)
		}
		si.Current = si.ID == p.SessionID
		out = append(out, si)
	}
	return out, rows.Err()
}

// RevokeSession ends one of the caller's sessions. Another user's session
// id answers not_found.
func (s *Service) RevokeSession(ctx context.Context, p access.Principal, sid string) error {
	return s.DB.InTx(context.WithoutCancel(ctx), func(tx *database.Tx) error {
		var owner string
		err := tx.QueryRow(ctx, `SELECT user_id FROM sessions WHERE id = ? AND revoked_at IS NULL`, sid).Scan(&owner)
		if errors.Is(err, database.ErrNoRows) || (err == nil && owner != p.UserID) {
			return apperr.New(apperr.NotFound, "session not found")
		}
		if err != nil {
			return err
		}
		if err := s.revokeSessionTx(ctx, tx, sid, p.UserID, "revoked_by_user"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "auth.session_revoked", TargetType: "session", TargetID: sid})
	})
}

// RevokeOtherSessions ends all the caller's sessions but the current one
// (all of them with includeCurrent) and returns how many ended.
func (s *Service) RevokeOtherSessions(ctx context.Context, p access.Principal, includeCurrent bool) (int, error) {
	var n int
	// A revocation completes even if the client hangs up.
	err := s.DB.InTx(context.WithoutCancel(ctx), func(tx *database.Tx) error {
		keep := p.SessionID
		if includeCurrent {
			keep = ""
		}
		var err error
		if n, err = s.revokeUserSessions(ctx, tx, p.UserID, keep, "revoked_by_user"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "auth.sessions_revoked", TargetType: "user", TargetID: p.UserID,
			After: map[string]any{"count": n, "include_current": includeCurrent}})
	})
	return n, err
}
