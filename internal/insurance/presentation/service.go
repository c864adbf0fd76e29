// Package presentation is the Agent app's presentation carousel (PRODUCT.md
// I5): an agent's presentations of ordered slides (image, video or text,
// each with an optional styled text overlay), started from templates,
// scheduled, one active at a time, and the media files they show.
//
// Who sees what: a presentation belongs to one agent (the agent id is the
// user id). The agent and administrators see and change it; anyone else
// is told it does not exist (404 presentation_not_found, media_not_found
// or agent_not_found), for every route naming a presentation, a file or an
// agent. Routes about the caller's own carousel (list, create, upload)
// answer 403 not_an_agent to roles that have none (provider
// administrators hold book:work for customers and policies).
package presentation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/blob"
	"mitra/internal/platform/database"
)

// Error codes of this package, beyond apperr's base codes.
const (
	CodeNoActive             apperr.Code = "no_active_presentation" // 404: the agent has nothing to show now
	CodeNotAnAgent           apperr.Code = "not_an_agent"           // 403: the caller's role has no carousel
	CodePresentationEmpty    apperr.Code = "presentation_empty"     // 422: an active presentation needs a slide
	CodeMediaType            apperr.Code = "media_type_not_allowed" // 415: not JPEG, PNG, WebP or MP4
	CodeMediaTooLarge        apperr.Code = "media_too_large"        // 413: over the size limit of its kind
	CodeImageDimensions      apperr.Code = "image_dimensions"       // 422: image too small or too large
	CodeMediaUnreadable      apperr.Code = "media_unreadable"       // 422: the bytes do not decode
	CodeMediaQuota           apperr.Code = "media_quota_exceeded"   // 413: the owner's files would exceed their storage quota
	CodeMediaInUse           apperr.Code = "media_in_use"           // 409: a slide shows the file
	CodePresentationNotFound apperr.Code = "presentation_not_found" // 404
	CodeMediaNotFound        apperr.Code = "media_not_found"        // 404
	CodeAgentNotFound        apperr.Code = "agent_not_found"        // 404: no such agent, or not one the caller may act for
	CodeTemplateNotFound     apperr.Code = "template_not_found"     // 404
)

// DefaultMediaQuota is how many bytes of files an agent may keep when the
// service sets no quota: 500 MiB, ten of the largest videos or fifty of
// the largest images (a carousel shows at most 20 slides a presentation).
const DefaultMediaQuota = 500 << 20

// Service implements presentations, templates and media.
type Service struct {
	DB    *database.DB
	Blobs *blob.Store
	Now   func() time.Time
	// MediaQuota is the bytes of files one agent may keep; 0 means
	// DefaultMediaQuota.
	MediaQuota int64
}

// NewService returns the service; now nil means time.Now.
func NewService(db *database.DB, blobs *blob.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{DB: db, Blobs: blobs, Now: now}
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func caller(ctx context.Context) (access.Principal, error) {
	p, ok := access.From(ctx)
	if !ok {
		return p, apperr.New(apperr.Unauthorized, "missing or invalid access token")
	}
	return p, nil
}

// notFoundCodes names what is missing in the 404 codes.
var notFoundCodes = map[string]apperr.Code{"presentation": CodePresentationNotFound, "file": CodeMediaNotFound, "agent": CodeAgentNotFound, "template": CodeTemplateNotFound}

// notFound is the 404 of a missing presentation, file, agent or template
// (or one the caller may not see).
func notFound(what string) *apperr.Error {
	return &apperr.Error{Code: notFoundCodes[what], Status: http.StatusNotFound, Message: "no such " + what}
}

// sees reports whether p may see what agentID owns.
func sees(p access.Principal, agentID string) bool {
	return p.Role.IsAdmin() || (p.Role == access.Agent && p.Owns(agentID))
}

// agentFor resolves the agent an operation acts for. agentID "" means the
// caller, who must then be an agent (administrators must name one when
// required is set). A named agent must be the caller (agents), or an
// existing user with role agent (administrators); otherwise
// agent_not_found.
// field names the input that carried agentID, for field errors.
func (s *Service) agentFor(ctx context.Context, p access.Principal, agentID, field string, required bool) (string, error) {
	switch {
	case agentID == "" && p.Role == access.Agent:
		return p.UserID, nil
	case agentID == "" && p.Role.IsAdmin():
		if required {
			return "", apperr.Field(field, "administrators name the agent")
		}
		return "", nil
	case agentID == "":
		return "", fail(CodeNotAnAgent, "", "only agents have presentations")
	case p.Role == access.Agent:
		if p.Owns(agentID) {
			return agentID, nil
		}
		return "", notFound("agent")
	case p.Role.IsAdmin():
		var role string
		err := s.DB.QueryRow(ctx, `SELECT role FROM users WHERE id = ?`, agentID).Scan(&role)
		if errors.Is(err, database.ErrNoRows) || (err == nil && role != string(access.Agent)) {
			return "", notFound("agent")
		}
		if err != nil {
			return "", fmt.Errorf("presentation: agent: %w", err)
		}
		return agentID, nil
	}
	return "", notFound("agent")
}

// statusOf gives each of this package's codes its HTTP status.
var statusOf = map[apperr.Code]int{
	CodeNoActive:          http.StatusNotFound,
	CodeNotAnAgent:        http.StatusForbidden,
	CodePresentationEmpty: http.StatusUnprocessableEntity,
	CodeMediaType:         http.StatusUnsupportedMediaType,
	CodeMediaTooLarge:     http.StatusRequestEntityTooLarge,
	CodeImageDimensions:   http.StatusUnprocessableEntity,
	CodeMediaUnreadable:   http.StatusUnprocessableEntity,
	CodeMediaQuota:        http.StatusRequestEntityTooLarge,
	CodeMediaInUse:        http.StatusConflict,
}

// fail returns an error with one of this package's codes, its status and,
// when field is set, the input field at fault.
func fail(code apperr.Code, field, message string) *apperr.Error {
	e := &apperr.Error{Code: code, Status: statusOf[code], Message: message}
	if field != "" {
		e.Fields = []apperr.FieldError{{Location: field, Message: message}}
	}
	return e
}
