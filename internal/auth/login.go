package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/httpx"
	"mitra/internal/platform/ids"
)

// RegisterInput is a public sign-up. There is no role, status or owner
// field: the schema refuses unknown properties.
type RegisterInput struct {
	Email    string `json:"email,omitempty" maxLength:"254" example:"rina@example.com"`
	Phone    string `json:"phone,omitempty" maxLength:"32" example:"0812-3456-7890"`
	Password string `json:"password" minLength:"1" maxLength:"1024" example:"correct horse battery staple"`
	Name     string `json:"name" minLength:"1" maxLength:"100" example:"Rina Putri"`
}

// newAccount validates a sign-up (a name, a password, an email or a phone;
// a phone when phoneRequired) and hashes the password: the slow part, done
// before any transaction. Field errors name body.*.
func (s *Service) newAccount(name, email, phone, password string, role access.Role, phoneRequired bool) (newUser, error) {
	nu := newUser{ID: ids.New(), Name: strings.TrimSpace(name), Role: string(role)}
	var fields []apperr.FieldError
	addErr := func(err error) {
		if e, ok := apperr.As(err); ok {
			fields = append(fields, e.Fields...)
		}
	}
	switch {
	case phoneRequired && phone == "":
		fields = append(fields, apperr.FieldError{Location: "body.phone", Message: "required"})
	case email == "" && phone == "":
		fields = append(fields, apperr.FieldError{Location: "body", Message: "give an email, a phone or both"})
	}
	if email != "" {
		e, err := NormalizeEmail("body.email", email)
		addErr(err)
		nu.Email = strOrNil(e)
	}
	if phone != "" {
		p, err := NormalizePhone("body.phone", phone)
		addErr(err)
		nu.Phone = strOrNil(p)
	}
	if nu.Name == "" {
		fields = append(fields, apperr.FieldError{Location: "body.name", Message: "must not be blank"})
	}
	addErr(ValidatePassword("password", password, email, phone, name))
	if len(fields) > 0 {
		return nu, &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: fields}
	}
	nu.Hash = ptr(HashPassword(password, s.opts.Password))
	return nu, nil
}

// Register creates a member (or customer) account and signs it in.
func (s *Service) Register(ctx context.Context, in RegisterInput, c Client) (*Tokens, error) {
	nu, err := s.newAccount(in.Name, in.Email, in.Phone, in.Password, s.opts.SignupRole, false)
	if err != nil {
		return nil, err
	}
	var out *Tokens
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if err := insertUser(ctx, tx, nu, s.Now()); err != nil {
			return err
		}
		u, err := getUserByID(ctx, tx, nu.ID)
		if err != nil {
			return err
		}
		if out, err = s.startSession(ctx, tx, u, c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "auth.registered", ActorID: u.ID, ActorRole: string(u.Role), TargetType: "user", TargetID: u.ID,
			After: map[string]any{"role": u.Role, "email": nu.Email != nil, "phone": nu.Phone != nil}})
	})
	return out, err
}

// LoginInput signs in with a password. identifier may be an email, a phone
// or an agent code; the explicit fields are accepted too.
type LoginInput struct {
	Identifier string `json:"identifier,omitempty" maxLength:"254" example:"rina@example.com" doc:"Email, phone or agent code"`
	Email      string `json:"email,omitempty" maxLength:"254"`
	Phone      string `json:"phone,omitempty" maxLength:"32"`
	AgentCode  string `json:"agent_code,omitempty" maxLength:"20"`
	Password   string `json:"password" minLength:"1" maxLength:"1024"`
}

func (in LoginInput) identifier() (kind, value string) {
	switch {
	case in.Identifier != "":
		return classify(in.Identifier)
	case in.Email != "":
		if e, err := NormalizeEmail("", in.Email); err == nil {
			return "email", e
		}
	case in.Phone != "":
		if p, err := NormalizePhone("", in.Phone); err == nil {
			return "phone", p
		}
	case in.AgentCode != "":
		if c, ok := NormalizeAgentCode(in.AgentCode); ok {
			return "agent_code", c
		}
	}
	return "", ""
}

// Throttling of password sign-in (PRODUCT.md P4).
//
// Failures are counted per account and IP pair and per account (windows of
// an hour). From the 3rd failure of a pair, that pair waits 1s, 2s, 4s...
// (at most 15 minutes) before the next try. From the 10th failure of an
// account across all IPs, the account waits likewise, except from IPs that
// signed in to it successfully before: an attacker can slow an account down
// from everywhere else, but never lock its owner out of their own devices
// (and one-time codes by SMS still work).
const (
	pairFreeFailures    = 3
	accountFreeFailures = 10
	maxThrottle         = 15 * time.Minute
	failureWindow       = time.Hour
)

var errBadCredentials = &apperr.Error{Code: "invalid_credentials", Status: 401, Message: "wrong identifier or password"}

func throttled(wait time.Duration) error {
	secs := int(wait.Round(time.Second).Seconds())
	if secs < 1 {
		secs = 1
	}
	return &apperr.Error{Code: "login_throttled", Status: 429, Message: fmt.Sprintf("too many failed sign-ins; try again in %d seconds", secs), RetryAfter: wait}
}

func backoff(failures, free int) time.Duration {
	n := failures - free
	if n < 0 {
		return 0
	}
	if n > 10 {
		return maxThrottle
	}
	return min(time.Second<<n, maxThrottle)
}

// Login signs in with a password. Unknown accounts and wrong passwords
// answer the same invalid_credentials after the same work; agents who are
// not approved yet answer agent_not_approved only after a correct password.
func (s *Service) Login(ctx context.Context, in LoginInput, c Client) (*Tokens, error) {
	kind, value := in.identifier()
	subject := mac(s.otpKey, "login", kind, value) // throttle key that does not reveal the identifier
	pairKey, acctKey := "login:pair:"+subject+":"+httpx.LimitKey(c.IP), "login:acct:"+subject
	if wait, err := s.Limiter.Blocked(ctx, pairKey); err != nil {
		return nil, err
	} else if wait > 0 {
		return nil, throttled(wait)
	}
	u, err := findByIdentifier(ctx, s.DB, kind, value)
	if err != nil && !errors.Is(err, errNotFound) {
		return nil, err
	}
	if wait, err := s.Limiter.Blocked(ctx, acctKey); err != nil {
		return nil, err
	} else if wait > 0 && (u == nil || !s.knownIP(ctx, u.ID, c.IP)) {
		return nil, throttled(wait)
	}
	hash := s.dummyHash
	if u != nil && u.passwordHash != nil {
		hash = *u.passwordHash
	}
	ok, err := CheckPassword(hash, in.Password)
	if err != nil {
		return nil, fmt.Errorf("auth: check password: %w", err)
	}
	if !ok || u == nil || u.passwordHash == nil || u.Status != StatusActive {
		return nil, s.loginFailed(ctx, u, subject, pairKey, acctKey)
	}
	if u.Role == access.Agent && u.AgentCode == nil {
		return nil, &apperr.Error{Code: "agent_not_approved", Status: 403, Message: "your agent application has not been approved yet"}
	}
	_ = s.Limiter.Reset(ctx, pairKey)
	_ = s.Limiter.Reset(ctx, pairKey+":n")
	var out *Tokens
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if out, err = s.startSession(ctx, tx, u, c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "auth.login", ActorID: u.ID, ActorRole: string(u.Role), TargetType: "session", TargetID: out.SessionID,
			After: map[string]any{"method": "password", "identifier": kind}})
	})
	return out, err
}

func (s *Service) loginFailed(ctx context.Context, u *User, subject, pairKey, acctKey string) error {
	pair, err := s.Limiter.Incr(ctx, pairKey+":n", failureWindow)
	if err != nil {
		return err
	}
	acct, err := s.Limiter.Incr(ctx, acctKey+":n", failureWindow)
	if err != nil {
		return err
	}
	if d := backoff(int(pair), pairFreeFailures); d > 0 {
		_ = s.Limiter.Block(ctx, pairKey, d)
	}
	if d := backoff(int(acct), accountFreeFailures); d > 0 {
		_ = s.Limiter.Block(ctx, acctKey, d)
	}
	// Every failure is audited, so both paths do the same work: real
	// accounts by id; unknown identifiers only by their keyed hash (which
	// still shows one identifier being sprayed, without storing it).
	e := audit.Entry{Action: "auth.login_failed", TargetType: "login_identifier", TargetID: subject,
		After: map[string]any{"failures_from_ip": pair, "failures": acct}}
	if u != nil {
		e.ActorID, e.ActorRole, e.TargetType, e.TargetID = u.ID, string(u.Role), "user", u.ID
	}
	if err := audit.Record(ctx, s.DB, e); err != nil {
		return err
	}
	return errBadCredentials
}

// knownIP reports whether the user has signed in from ip in the last 90
// days.
func (s *Service) knownIP(ctx context.Context, userID, ip string) bool {
	if ip == "" {
		return false
	}
	var n int
	err := s.DB.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE user_id = ? AND ip = ? AND created_at > ?`, userID, ip, s.Now().Add(-90*24*time.Hour)).Scan(&n)
	return err == nil && n > 0
}
