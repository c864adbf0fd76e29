package ai

import (
	"context"
	"fmt"

	"mitra/internal/platform/database"
)

// Name names the gateway's part of a user's data export.
func (g *Gateway) Name() string { return "ai" }

// Export returns the user's AI calls (the latest 1000), for a privacy
// export.
func (g *Gateway) Export(ctx context.Context, q database.Querier, userID string) (any, error) {
	rows, err := q.Query(ctx, `SELECT `+recordColumns+` FROM ai_usage WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 1000`, userID)
	if err != nil {
		return nil, fmt.Errorf("ai: export: %w", err)
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("ai: export: %w", err)
		}
		out = append(out, r)
	}
	return map[string]any{"calls": out}, rows.Err()
}

// Erase detaches the user's AI calls from them (the rows stay, anonymous,
// for cost accounting) and deletes their counters.
func (g *Gateway) Erase(ctx context.Context, tx *database.Tx, userID string) error {
	if _, err := tx.Exec(ctx, `UPDATE ai_usage SET user_id = 'erased', request_id = '' WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("ai: erase: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM ai_usage_counters WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("ai: erase: %w", err)
	}
	return nil
}
