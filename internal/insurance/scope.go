package insurance

import (
	"context"
	"errors"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
)

// Scope is what a caller may see of the book of business: an agent their
// own (AgentID), a provider admin their provider's (ProviderID), an
// administrator everything (All).
type Scope struct {
	Principal  access.Principal
	AgentID    string
	ProviderID string
	All        bool
}

// scope resolves the caller's scope. Roles without book access get
// forbidden (the route's permission normally stops them first).
func (s *Service) scope(ctx context.Context) (Scope, error) {
	p, ok := access.From(ctx)
	if !ok {
		return Scope{}, apperr.New(apperr.Unauthorized, "missing or invalid access token")
	}
	sc := Scope{Principal: p}
	switch {
	case p.Role.IsAdmin():
		sc.All = true
	case p.Role == access.Agent:
		// The agent record decides, not the account alone: only an
		// approved agent works a book.
		var status string
		err := s.DB.QueryRow(ctx, `SELECT status FROM agents WHERE user_id = ?`, p.UserID).Scan(&status)
		if err != nil && !errors.Is(err, database.ErrNoRows) {
			return Scope{}, err
		}
		if status != AgentApproved {
			return Scope{}, &apperr.Error{Code: "agent_not_approved", Status: 403, Message: "only an approved agent works a book"}
		}
		sc.AgentID = p.UserID
	case p.Role == access.ProviderAdmin:
		err := s.DB.QueryRow(ctx, `SELECT provider_id FROM provider_staff WHERE user_id = ?`, p.UserID).Scan(&sc.ProviderID)
		if errors.Is(err, database.ErrNoRows) {
			return Scope{}, apperr.New(apperr.Forbidden, "this provider admin is not linked to a provider yet")
		} else if err != nil {
			return Scope{}, err
		}
	default:
		return Scope{}, apperr.New(apperr.Forbidden, "this needs an agent, provider admin or administrator account")
	}
	return sc, nil
}

// mayWrite reports whether the scope may change an agent's book: the agent
// themself and administrators; provider admins read only.
func (sc Scope) mayWrite() bool { return sc.All || sc.AgentID != "" }

// sees reports whether an object of agent agentID at provider providerID is
// visible in the scope.
func (sc Scope) sees(agentID, providerID string) bool {
	switch {
	case sc.All:
		return true
	case sc.AgentID != "":
		return sc.AgentID == agentID
	default:
		return sc.ProviderID != "" && sc.ProviderID == providerID
	}
}
