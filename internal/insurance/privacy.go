package insurance

import (
	"context"
	"errors"
	"fmt"

	"mitra/internal/platform/database"
)

// Name names the Agent product's part of a user's data export.
func (s *Service) Name() string { return "insurance" }

// Export returns an agent's profile and provider links (commission terms).
// The customers and policies an agent entered are the insurer's records
// about other people, not the agent's personal data, and are not exported
// with the agent's account.
func (s *Service) Export(ctx context.Context, q database.Querier, userID string) (any, error) {
	a, err := s.agent(ctx, q, userID)
	if errors.Is(err, errAgentNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("insurance: export: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT provider_id, commission, created_at FROM agent_providers WHERE agent_id = ? ORDER BY provider_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("insurance: export: %w", err)
	}
	defer rows.Close()
	type link struct {
		ProviderID string `json:"provider_id"`
		Commission string `json:"commission"`
	}
	links := []link{}
	for rows.Next() {
		var l link
		var created any
		if err := rows.Scan(&l.ProviderID, &l.Commission, &created); err != nil {
			return nil, fmt.Errorf("insurance: export: %w", err)
		}
		links = append(links, l)
	}
	return map[string]any{"agent": a, "provider_links": links}, rows.Err()
}

// Erase removes an agent's personal details (licence number, city, bio,
// photo) and leaves the agent suspended, so the account can never work a
// book again. The agent row stays, anonymous, because the insurer's
// customers and policies the agent entered keep referring to it.
func (s *Service) Erase(ctx context.Context, tx *database.Tx, userID string) error {
	_, err := tx.Exec(ctx, `UPDATE agents SET licence_number = ?, city = '', bio = '', photo_url = '', status = ?, status_reason = 'account erased', updated_at = ?
		WHERE user_id = ?`, "ERASED-"+userID, AgentSuspended, s.Now(), userID)
	if err != nil {
		return fmt.Errorf("insurance: erase: %w", err)
	}
	return nil
}
