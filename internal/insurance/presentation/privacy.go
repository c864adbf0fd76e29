package presentation

import (
	"context"
	"fmt"
	"time"

	"mitra/internal/platform/database"
)

// Name names the carousel's part of a user's data export.
func (s *Service) Name() string { return "presentations" }

// exportedMedia describes an uploaded file (not its bytes).
type exportedMedia struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	SizeBytes   int64     `json:"size_bytes"`
	CreatedAt   time.Time `json:"created_at"`
}

// Export lists the agent's presentations (titles and schedules) and the
// files they uploaded.
func (s *Service) Export(ctx context.Context, q database.Querier, userID string) (any, error) {
	type pres struct {
		ID        string    `json:"id"`
		Title     string    `json:"title"`
		CreatedAt time.Time `json:"created_at"`
	}
	presentations := []pres{}
	rows, err := q.Query(ctx, `SELECT id, title, created_at FROM presentations WHERE agent_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("presentation: export: %w", err)
	}
	for rows.Next() {
		var p pres
		if err := rows.Scan(&p.ID, &p.Title, &p.CreatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("presentation: export: %w", err)
		}
		presentations = append(presentations, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	media := []exportedMedia{}
	rows, err = q.Query(ctx, `SELECT id, kind, content_type, size_bytes, created_at FROM presentation_media WHERE owner_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("presentation: export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m exportedMedia
		if err := rows.Scan(&m.ID, &m.Kind, &m.ContentType, &m.SizeBytes, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("presentation: export: %w", err)
		}
		media = append(media, m)
	}
	return map[string]any{"presentations": presentations, "media": media}, rows.Err()
}

// Erase deletes the agent's presentations (their slides go with them) and
// uploaded files: the rows in tx, then the stored bytes. A blob that
// cannot be removed is logged and left orphaned, never kept referenced.
func (s *Service) Erase(ctx context.Context, tx *database.Tx, userID string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM presentations WHERE agent_id = ?`, userID); err != nil {
		return fmt.Errorf("presentation: erase: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT blob_key FROM presentation_media WHERE owner_id = ?`, userID)
	if err != nil {
		return fmt.Errorf("presentation: erase: %w", err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return fmt.Errorf("presentation: erase: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Slides of other agents never show this agent's media (upload and
	// slide checks are per owner), so the rows can go.
	if _, err := tx.Exec(ctx, `DELETE FROM presentation_media WHERE owner_id = ?`, userID); err != nil {
		return fmt.Errorf("presentation: erase: %w", err)
	}
	for _, k := range keys {
		s.removeBlob(ctx, k)
	}
	return nil
}
