// Package insurance is the Agent product: insurance providers and their
// plan master, agents and their approval, an agent's customers and
// policies. An agent's id is their user id; everything an agent owns
// carries it, and every read is scoped by who asks (scope.go).
package insurance

import (
	"context"
	"time"

	"mitra/internal/platform/database"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/vault"
)

// Accounts is what insurance needs from identity (implemented by
// auth.Service, wired in cmd/mitra): agent applications create accounts,
// approval gives them their sign-in code, suspension ends their sessions.
type Accounts interface {
	// NewAgentAccount validates an applicant's identity and hashes the
	// password (slow: call it before any transaction). The function it
	// returns creates, inside tx, a user with role agent and no agent code
	// (so it cannot sign in yet). Field errors name body.name, body.email,
	// body.phone, body.password.
	NewAgentAccount(name, email, phone, password string) (create func(context.Context, *database.Tx) (userID string, err error), err error)
	// SetAgentCode gives an approved agent the code they sign in with.
	SetAgentCode(ctx context.Context, tx *database.Tx, userID, code string) error
	// SetActive deactivates (ending every session) or reactivates an account.
	SetActive(ctx context.Context, tx *database.Tx, userID string, active bool) error
}

// Service implements the Agent features.
type Service struct {
	DB       *database.DB
	Vault    *vault.Keyring
	Accounts Accounts
	Jobs     *jobs.Queue // optional: the daily policy status job is registered on it
	Now      func() time.Time
}

// NewService returns the service.
func NewService(db *database.DB, v *vault.Keyring, accounts Accounts, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{DB: db, Vault: v, Accounts: accounts, Now: now}
}
