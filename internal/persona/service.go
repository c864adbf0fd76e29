// Package persona is the Persona product: crisis resources, mood check-ins
// and self-assessments (PHQ-9, GAD-7) so far; companion chat, content and
// crisis intervention build on the local crisis detector in crisis/.
package persona

import (
	"context"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
	"mitra/internal/platform/vault"
)

// Service implements the Persona features.
type Service struct {
	DB      *database.DB
	Vault   *vault.Keyring
	Now     func() time.Time
	Country CountryOf // optional: the user's country, for crisis resources
	Model   Completer // optional: the AI gateway, for analysis
	// Reviewer is the crisis second opinion on chat messages (the AI
	// gateway's safety model); optional.
	Reviewer Reviewer
	Jobs     Enqueuer // the job queue, for the crisis workflow
	// UserName returns a user's name (the identity service provides it),
	// "" when unknown: messages to emergency contacts say who they are about.
	UserName func(ctx context.Context, userID string) string
	// Texts deliver messages to emergency contacts, by SMS and WhatsApp.
	Texts TextSenders

	workflow Workflow
	replies  replyWriter
}

// NewService returns the service.
func NewService(db *database.DB, v *vault.Keyring, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{DB: db, Vault: v, Now: now}
}

func caller(ctx context.Context) (access.Principal, error) {
	p, ok := access.From(ctx)
	if !ok {
		return p, apperr.New(apperr.Unauthorized, "missing or invalid access token")
	}
	return p, nil
}
