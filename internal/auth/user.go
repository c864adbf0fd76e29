package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
)

// Account statuses.
const (
	StatusActive      = "active"
	StatusDeactivated = "deactivated"
	StatusErased      = "erased"
)

// User is an account as the API shows it.
type User struct {
	ID            string      `json:"id" example:"0193a0c4-6f1e-7c5e-9d2a-3b8f1f0e9a11"`
	Email         *string     `json:"email" example:"rina@example.com"`
	Phone         *string     `json:"phone" example:"+6281234567890"`
	AgentCode     *string     `json:"agent_code,omitempty" example:"AG-10023"`
	Name          string      `json:"name" example:"Rina Putri"`
	Role          access.Role `json:"role" example:"member"`
	Status        string      `json:"status" enum:"active,deactivated,erased" example:"active"`
	EmailVerified bool        `json:"email_verified"`
	PhoneVerified bool        `json:"phone_verified"`
	HasPassword   bool        `json:"has_password"`
	LastLoginAt   *time.Time  `json:"last_login_at"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`

	passwordHash *string
}

const userColumns = `id, email, phone, agent_code, name, password_hash, role, status, email_verified_at, phone_verified_at, last_login_at, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner) (*User, error) {
	var u User
	var emailV, phoneV *time.Time
	var role string
	if err := s.Scan(&u.ID, &u.Email, &u.Phone, &u.AgentCode, &u.Name, &u.passwordHash, &role, &u.Status, &emailV, &phoneV, &u.LastLoginAt, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.Role = access.Role(role)
	u.EmailVerified, u.PhoneVerified, u.HasPassword = emailV != nil, phoneV != nil, u.passwordHash != nil
	return &u, nil
}

// errNotFound is the one answer for a user that does not exist or may not
// be seen: an id of someone else's answers exactly like a missing one.
var errNotFound = apperr.New(apperr.NotFound, "user not found")

func getUser(ctx context.Context, q database.Querier, column, value string) (*User, error) {
	u, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+column+` = ?`, value))
	if errors.Is(err, database.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("auth: get user: %w", err)
	}
	return u, nil
}

// getUserByID returns a user by id.
func getUserByID(ctx context.Context, q database.Querier, id string) (*User, error) {
	return getUser(ctx, q, "id", id)
}

// findByIdentifier looks an identifier up by its kind.
func findByIdentifier(ctx context.Context, q database.Querier, kind, value string) (*User, error) {
	switch kind {
	case "email", "phone", "agent_code":
		return getUser(ctx, q, kind, value)
	}
	return nil, errNotFound
}

// newUser is what insertUser writes.
type newUser struct {
	ID, Name, Role                string
	Email, Phone, AgentCode, Hash *string
	EmailVerified, PhoneVerified  bool
}

func insertUser(ctx context.Context, q database.Querier, nu newUser, now time.Time) error {
	var ev, pv *time.Time
	if nu.EmailVerified {
		ev = &now
	}
	if nu.PhoneVerified {
		pv = &now
	}
	_, err := q.Exec(ctx, `INSERT INTO users (id, email, phone, agent_code, name, password_hash, role, status, email_verified_at, phone_verified_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)`,
		nu.ID, nu.Email, nu.Phone, nu.AgentCode, nu.Name, nu.Hash, nu.Role, ev, pv, now, now)
	if database.IsUniqueViolation(err) {
		return conflictFor(err)
	}
	if err != nil {
		return fmt.Errorf("auth: insert user: %w", err)
	}
	return nil
}

// conflictFor names the identifier already taken, without saying whose.
func conflictFor(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "email"):
		return &apperr.Error{Code: "email_taken", Status: 409, Message: "an account with this email already exists",
			Fields: []apperr.FieldError{{Location: "body.email", Message: "already registered"}}}
	case strings.Contains(msg, "phone"):
		return &apperr.Error{Code: "phone_taken", Status: 409, Message: "an account with this phone already exists",
			Fields: []apperr.FieldError{{Location: "body.phone", Message: "already registered"}}}
	case strings.Contains(msg, "agent_code"):
		return &apperr.Error{Code: "agent_code_taken", Status: 409, Message: "this agent code is already in use"}
	}
	return apperr.Wrap(err, apperr.Conflict, "already exists")
}

func ptr[T any](v T) *T { return &v }

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
