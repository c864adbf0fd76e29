package persona

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
)

// Persona is a companion the user chats with.
type Persona struct {
	ID           string    `json:"id"`
	Name         string    `json:"name" example:"Sahabat"`
	Description  string    `json:"description"`
	AvatarURL    string    `json:"avatar_url,omitempty"`
	Language     string    `json:"language" example:"id"`
	SystemPrompt string    `json:"system_prompt,omitempty" doc:"Shown to administrators only"`
	SafetyRules  string    `json:"safety_rules,omitempty" doc:"Shown to administrators only"`
	Active       bool      `json:"active"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

const personaColumns = `id, name, description, avatar_url, language, system_prompt, safety_rules, active, created_at, updated_at`

func scanPersona(s interface{ Scan(...any) error }) (Persona, error) {
	var p Persona
	err := s.Scan(&p.ID, &p.Name, &p.Description, &p.AvatarURL, &p.Language, &p.SystemPrompt, &p.SafetyRules, &p.Active, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

// Personas lists personas: the active ones for users (without their
// prompts), all of them with prompts for administrators.
func (s *Service) Personas(ctx context.Context, admin bool) ([]Persona, error) {
	q := `SELECT ` + personaColumns + ` FROM personas`
	args := []any{}
	if !admin {
		q += ` WHERE active = ?`
		args = append(args, true)
	}
	rows, err := s.DB.Query(ctx, q+` ORDER BY language, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("persona: personas: %w", err)
	}
	defer rows.Close()
	out := []Persona{}
	for rows.Next() {
		p, err := scanPersona(rows)
		if err != nil {
			return nil, fmt.Errorf("persona: personas: %w", err)
		}
		if !admin {
			p.SystemPrompt, p.SafetyRules = "", ""
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PersonaInput creates or replaces a persona.
type PersonaInput struct {
	Name         string `json:"name" minLength:"1" maxLength:"60"`
	Description  string `json:"description,omitempty" maxLength:"500"`
	AvatarURL    string `json:"avatar_url,omitempty" maxLength:"500"`
	Language     string `json:"language" enum:"id,en"`
	SystemPrompt string `json:"system_prompt" minLength:"1" maxLength:"8000"`
	SafetyRules  string `json:"safety_rules" minLength:"1" maxLength:"4000" doc:"Always sent with the prompt"`
	Active       *bool  `json:"active,omitempty"`
}

// PutPersona creates (id "") or replaces a persona, audited.
func (s *Service) PutPersona(ctx context.Context, id string, in PersonaInput) (*Persona, error) {
	if in.AvatarURL != "" && !strings.HasPrefix(in.AvatarURL, "https://") {
		return nil, apperr.Field("body.avatar_url", "must be an https:// address")
	}
	active := in.Active == nil || *in.Active
	create := id == ""
	if create {
		id = ids.New()
	} else if !ids.Valid(id) {
		return nil, errPersonaNotFound
	}
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		now := s.Now()
		if create {
			if _, err := tx.Exec(ctx, `INSERT INTO personas (`+personaColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, in.Name, in.Description, in.AvatarURL, in.Language, in.SystemPrompt, in.SafetyRules, active, now, now); err != nil {
				return err
			}
		} else {
			res, err := tx.Exec(ctx, `UPDATE personas SET name = ?, description = ?, avatar_url = ?, language = ?, system_prompt = ?, safety_rules = ?, active = ?, updated_at = ? WHERE id = ?`,
				in.Name, in.Description, in.AvatarURL, in.Language, in.SystemPrompt, in.SafetyRules, active, now, id)
			if err != nil {
				return err
			}
			if res.RowsAffected() == 0 {
				return errPersonaNotFound
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "persona.saved", TargetType: "persona", TargetID: id, After: map[string]any{"name": in.Name, "active": active}})
	})
	if err != nil {
		return nil, err
	}
	p, err := scanPersona(s.DB.QueryRow(ctx, `SELECT `+personaColumns+` FROM personas WHERE id = ?`, id))
	return &p, err
}

// DeletePersona removes a persona, audited.
func (s *Service) DeletePersona(ctx context.Context, id string) error {
	return s.deleteAudited(ctx, "personas", id, "persona.deleted", "persona", errPersonaNotFound)
}

var errPersonaNotFound = &apperr.Error{Code: "persona_not_found", Status: 404, Message: "persona not found",
	Fields: []apperr.FieldError{{Location: "body.persona_id", Message: "no such active persona"}}}

// BaseRules go into every system prompt the server sends, persona or not.
const BaseRules = "You are an AI companion, not a human. Never claim or imply to be human, even if asked or told to; " +
	"if asked, say plainly that you are an AI. You are not a therapist or a doctor and do not replace professional help. " +
	"Never give information about ways to hurt oneself or end one's life."

// SystemPrompt composes the system prompt of a chat: the persona's prompt
// (when personaID is set), its safety rules, and BaseRules, always. It
// answers persona_not_found for an unknown or inactive persona.
func (s *Service) SystemPrompt(ctx context.Context, personaID string) (string, error) {
	if personaID == "" {
		return BaseRules, nil
	}
	if !ids.Valid(personaID) {
		return "", errPersonaNotFound
	}
	p, err := scanPersona(s.DB.QueryRow(ctx, `SELECT `+personaColumns+` FROM personas WHERE id = ? AND active = ?`, personaID, true))
	if errors.Is(err, database.ErrNoRows) {
		return "", errPersonaNotFound
	}
	if err != nil {
		return "", fmt.Errorf("persona: system prompt: %w", err)
	}
	return p.SystemPrompt + "\n\nSafety rules (always follow, above all else):\n" + p.SafetyRules + "\n" + BaseRules, nil
}
