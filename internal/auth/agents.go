package auth

import (
	"context"

	"mitra/internal/platform/access"
	"mitra/internal/platform/database"
)

// AgentAccounts adapts the identity service to what the Agent product
// needs (insurance.Accounts): agent applications create accounts that
// cannot sign in until approval gives them an agent code.
type AgentAccounts struct{ S *Service }

// NewAgentAccount validates an applicant's identity (a phone is required)
// and hashes the password: the slow part, done before any transaction.
// The returned function inserts the account, with role agent and no agent
// code, inside the caller's transaction. Field errors name body.*.
func (a AgentAccounts) NewAgentAccount(name, email, phone, password string) (func(context.Context, *database.Tx) (string, error), error) {
	nu, err := a.S.newAccount(name, email, phone, password, access.Agent, true)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *database.Tx) (string, error) {
		if err := insertUser(ctx, tx, nu, a.S.Now()); err != nil {
			return "", err
		}
		return nu.ID, nil
	}, nil
}

// SetAgentCode gives an approved agent the code they sign in with.
func (a AgentAccounts) SetAgentCode(ctx context.Context, tx *database.Tx, userID, code string) error {
	_, err := tx.Exec(ctx, `UPDATE users SET agent_code = ?, updated_at = ? WHERE id = ? AND role = ?`, code, a.S.Now(), userID, string(access.Agent))
	if database.IsUniqueViolation(err) {
		return conflictFor(err)
	}
	a.S.users.forget(userID)
	return err
}

// SetActive deactivates an account (ending its sessions at once, on every
// node) or reactivates it, inside tx.
func (a AgentAccounts) SetActive(ctx context.Context, tx *database.Tx, userID string, active bool) error {
	s := a.S
	status := StatusDeactivated
	if active {
		status = StatusActive
	}
	s.users.forget(userID)
	if _, err := tx.Exec(ctx, `UPDATE users SET status = ?, updated_at = ? WHERE id = ? AND status <> ?`, status, s.Now(), userID, StatusErased); err != nil {
		return err
	}
	if !active {
		if _, err := s.revokeUserSessions(ctx, tx, userID, "", "suspended"); err != nil {
			return err
		}
	}
	return nil
}
