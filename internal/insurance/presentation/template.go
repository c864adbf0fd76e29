package presentation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"mitra/internal/platform/database"
)

// TemplateSlide is one slide of a template (templates carry text slides
// only: they have no files).
type TemplateSlide struct {
	Type            string  `json:"type" enum:"text"`
	DurationSeconds int     `json:"duration_seconds"`
	Overlay         Overlay `json:"overlay"`
}

// Template is a ready-made presentation an agent starts from.
type Template struct {
	ID          string          `json:"id"`
	Name        string          `json:"name" example:"Term plan basics"`
	Description string          `json:"description"`
	Category    string          `json:"category" example:"protection"`
	Slides      []TemplateSlide `json:"slides"`
}

// Templates lists the templates in their showing order.
func (s *Service) Templates(ctx context.Context) ([]Template, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT id, name, description, category, slides FROM presentation_templates ORDER BY sort_order, name`)
	if err != nil {
		return nil, fmt.Errorf("presentation: templates: %w", err)
	}
	defer rows.Close()
	out := []Template{}
	for rows.Next() {
		t, err := scanTemplate(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("presentation: templates: %w", err)
	}
	return out, nil
}

// Template returns one template, or template_not_found.
func (s *Service) Template(ctx context.Context, id string) (*Template, error) {
	row := s.DB.QueryRow(ctx, `SELECT id, name, description, category, slides FROM presentation_templates WHERE id = ?`, id)
	t, err := scanTemplate(row.Scan)
	if errors.Is(err, database.ErrNoRows) {
		return nil, notFound("template")
	}
	return t, err
}

func scanTemplate(scan func(...any) error) (*Template, error) {
	var t Template
	var slides string
	if err := scan(&t.ID, &t.Name, &t.Description, &t.Category, &slides); err != nil {
		if errors.Is(err, database.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("presentation: template: %w", err)
	}
	if err := json.Unmarshal([]byte(slides), &t.Slides); err != nil {
		return nil, fmt.Errorf("presentation: template %s slides: %w", t.ID, err)
	}
	return &t, nil
}

func marshalOverlay(o *Overlay) string {
	b, _ := json.Marshal(o) // a struct of strings and ints always marshals
	return string(b)
}

func unmarshalOverlay(s string) (*Overlay, error) {
	var o Overlay
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return nil, fmt.Errorf("presentation: overlay: %w", err)
	}
	return &o, nil
}
