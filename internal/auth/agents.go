package auth

import (
	"context"
	"strings"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
)

// AgentAccounts adapts the identity service to what the Agent product
// needs (insurance.Accounts): agent applications create accounts that
// cannot sign in until approval gives them an agent code.
type AgentAccounts struct{ S *Service }

// CreateAgentAccount validates the applicant's identity and creates a user
// with role agent and no agent code, inside tx. Field errors name body.*.
func (a AgentAccounts) CreateAgentAccount(ctx context.Context, tx *database.Tx, name, email, phone, password string) (string, error) {
	s := a.S
	nu := newUser{ID: ids.New(), Name: strings.TrimSpace(name), Role: string(access.Agent)}
	var fields []apperr.FieldError
	addErr := func(err error) {
		if e, ok := apperr.As(err); ok {
			fields = append(fields, e.Fields...)
		}
	}
	if nu.Name == "" {
		fields = append(fields, apperr.FieldError{Location: "body.name", Message: "must not be blank"})
	}
	p, err := NormalizePhone("body.phone", phone)
	addErr(err)
	nu.Phone = strOrNil(p)
	if email != "" {
		e, err := NormalizeEmail("body.email", email)
		addErr(err)
		nu.Email = strOrNil(e)
	}
	addErr(ValidatePassword("password", password, email, phone, name))
	if len(fields) > 0 {
		return "", &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: fields}
	}
	nu.Hash = ptr(HashPassword(password, s.opts.Password))
	if err := insertUser(ctx, tx, nu, s.Now()); err != nil {
		return "", err
	}
	return nu.ID, nil
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
