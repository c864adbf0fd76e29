// Package auth is identity and access: accounts, passwords, one-time codes,
// sessions with rotating refresh tokens, ES256 access tokens and their
// JWKS, brute-force throttling, users and their preferences, privacy
// export and erasure, the audit log's API and feature flags.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"mitra/internal/platform/access"
	"mitra/internal/platform/database"
	"mitra/internal/platform/logging"
	"mitra/internal/platform/ratelimit"
	"mitra/internal/platform/vault"
)

// Options are the identity settings.
type Options struct {
	Issuer      string        // "iss" of access tokens
	Audience    string        // "aud" of access tokens
	AccessTTL   time.Duration // access token life (15 minutes)
	SessionIdle time.Duration // a session unused this long ends (30 days)
	SessionMax  time.Duration // a session ends this long after sign-in (90 days)
	// RefreshGrace is how long the previous refresh token still answers
	// (with the current one) after a rotation, for a client's concurrent
	// retry, as Supabase does.
	RefreshGrace time.Duration
	Password     PasswordParams
	// SignupRole is the role of public sign-ups: member when Persona is
	// served, customer when only Agent is.
	SignupRole access.Role
}

func (o *Options) defaults() {
	if o.Issuer == "" {
		o.Issuer = "mitra"
	}
	if o.Audience == "" {
		o.Audience = "mitra-api"
	}
	if o.AccessTTL == 0 {
		o.AccessTTL = 15 * time.Minute
	}
	if o.SessionIdle == 0 {
		o.SessionIdle = 30 * 24 * time.Hour
	}
	if o.SessionMax == 0 {
		o.SessionMax = 90 * 24 * time.Hour
	}
	if o.RefreshGrace == 0 {
		o.RefreshGrace = 10 * time.Second
	}
	if o.Password.MemoryKiB == 0 {
		o.Password = DefaultPasswordParams
	}
	if o.SignupRole == "" {
		o.SignupRole = access.Member
	}
}

// Limiter is the shared limiter and counter store (ratelimit.Store).
type Limiter = ratelimit.Store

// Enqueuer inserts durable jobs in a transaction (jobs.Queue).
type Enqueuer interface {
	InsertTx(ctx context.Context, tx *database.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error)
}

// Deps are the service's collaborators.
type Deps struct {
	DB          *database.DB
	Vault       *vault.Keyring
	Keys        *KeySet
	Revocations Revocations
	Limiter     Limiter
	Jobs        Enqueuer
	Now         func() time.Time
	Logger      *slog.Logger
}

// Service implements identity and access.
type Service struct {
	Deps
	opts       Options
	dummyHash  string
	refreshKey []byte
	otpKey     []byte

	dataSources  []DataSource
	flagDefaults map[string]bool
	verified     *tokenCache
	users        userCache
}

// NewService returns the service.
func NewService(d Deps, o Options) *Service {
	o.defaults()
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = logging.Discard()
	}
	return &Service{
		Deps: d, opts: o,
		// Unknown accounts are checked against this hash so that they cost
		// the same time as known ones.
		dummyHash:  HashPassword("mitra-no-such-account-placeholder", o.Password),
		refreshKey: d.Vault.Derive("refresh-token"),
		otpKey:     d.Vault.Derive("otp"),
		verified:   newTokenCache(100_000),
	}
}

// Options returns the settings in force.
func (s *Service) Options() Options { return s.opts }

// hashToken is how opaque tokens (refresh, reset) are stored: SHA-256. They
// carry 256 bits of entropy, so a fast hash is enough.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// mac is a keyed hash, for low-entropy secrets (OTP codes) and for keys
// that must not reveal the identifier they name.
func mac(key []byte, parts ...string) string {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

var errStop = errors.New("stop")
