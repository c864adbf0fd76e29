package persona

import (
	"context"
	"net/http"

	"mitra/internal/platform/httpx"
)

// Handlers are the Persona HTTP operations in huma's typed form.
type Handlers struct{ S *Service }

// ResourcesRequest selects a country.
type ResourcesRequest struct {
	Country string `query:"country" minLength:"2" maxLength:"2" example:"ID" doc:"ISO 3166-1 alpha-2; international resources are always included"`
}

// ResourcesOutput lists resources.
type ResourcesOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Country   string     `json:"country"`
		Resources []Resource `json:"resources"`
	}
}

// Resources serves GET /api/v1/crisis/resources.
func (h Handlers) Resources(ctx context.Context, in *ResourcesRequest) (*ResourcesOutput, error) {
	c := "ZZ"
	if in.Country != "" {
		var err error
		if c, err = NormalizeCountry("query.country", in.Country); err != nil {
			return nil, err
		}
	}
	list, err := h.S.Resources(ctx, c)
	if err != nil {
		return nil, err
	}
	out := &ResourcesOutput{CacheControl: "public, max-age=300"}
	out.Body.Country, out.Body.Resources = c, list
	return out, nil
}

// AllResourcesOutput lists every resource.
type AllResourcesOutput struct {
	Body struct {
		Resources []Resource `json:"resources"`
	}
}

// AllResources serves the administrators' list.
func (h Handlers) AllResources(ctx context.Context, _ *struct{}) (*AllResourcesOutput, error) {
	list, err := h.S.AllResources(ctx)
	if err != nil {
		return nil, err
	}
	out := &AllResourcesOutput{}
	out.Body.Resources = list
	return out, nil
}

// CreateResourceRequest is POST /api/v1/crisis/resources.
type CreateResourceRequest struct{ Body ResourceInput }

// ResourceOutput answers with one resource.
type ResourceOutput struct {
	Status int
	Body   *Resource
}

// CreateResource adds a resource.
func (h Handlers) CreateResource(ctx context.Context, in *CreateResourceRequest) (*ResourceOutput, error) {
	r, err := h.S.PutResource(ctx, "", in.Body)
	if err != nil {
		return nil, err
	}
	return &ResourceOutput{Status: http.StatusCreated, Body: r}, nil
}

// ResourcePath names a resource.
type ResourcePath struct {
	ResourceID string `path:"resource_id" maxLength:"36"`
}

// UpdateResourceRequest is PUT /api/v1/crisis/resources/{resource_id}.
type UpdateResourceRequest struct {
	ResourcePath
	Body ResourceInput
}

// UpdateResource replaces a resource.
func (h Handlers) UpdateResource(ctx context.Context, in *UpdateResourceRequest) (*ResourceOutput, error) {
	r, err := h.S.PutResource(ctx, in.ResourceID, in.Body)
	if err != nil {
		return nil, err
	}
	return &ResourceOutput{Status: http.StatusOK, Body: r}, nil
}

// DeleteResource removes a resource.
func (h Handlers) DeleteResource(ctx context.Context, in *ResourcePath) (*struct{}, error) {
	return nil, h.S.DeleteResource(ctx, in.ResourceID)
}

// AddMoodRequest is POST /api/v1/moods.
type AddMoodRequest struct{ Body MoodInput }

// MoodOutput answers with one check-in.
type MoodOutput struct {
	Status int
	Body   *Mood
}

// AddMood records a check-in.
func (h Handlers) AddMood(ctx context.Context, in *AddMoodRequest) (*MoodOutput, error) {
	m, err := h.S.AddMood(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &MoodOutput{Status: http.StatusCreated, Body: m}, nil
}

// MoodsOutput is the caller's history.
type MoodsOutput struct{ Body *MoodHistory }

// Moods lists check-ins and weekly trends.
func (h Handlers) Moods(ctx context.Context, in *MoodQuery) (*MoodsOutput, error) {
	m, err := h.S.Moods(ctx, *in)
	if err != nil {
		return nil, err
	}
	return &MoodsOutput{Body: m}, nil
}

// AddAssessmentRequest is POST /api/v1/assessments.
type AddAssessmentRequest struct{ Body AssessmentInput }

// AssessmentOutput answers with one scored questionnaire.
type AssessmentOutput struct {
	Status int
	Body   *Assessment
}

// AddAssessment scores a questionnaire.
func (h Handlers) AddAssessment(ctx context.Context, in *AddAssessmentRequest) (*AssessmentOutput, error) {
	a, err := h.S.AddAssessment(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &AssessmentOutput{Status: http.StatusCreated, Body: a}, nil
}

// AssessmentsRequest filters the history.
type AssessmentsRequest struct {
	Type  string `query:"type" enum:"phq9,gad7"`
	Limit int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
}

// AssessmentsOutput is the history.
type AssessmentsOutput struct {
	Body struct {
		Assessments []Assessment `json:"assessments"`
	}
}

// Assessments lists the caller's questionnaires.
func (h Handlers) Assessments(ctx context.Context, in *AssessmentsRequest) (*AssessmentsOutput, error) {
	list, err := h.S.Assessments(ctx, in.Type, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &AssessmentsOutput{}
	out.Body.Assessments = list
	return out, nil
}

// PersonasOutput lists personas.
type PersonasOutput struct {
	Body struct {
		Personas []Persona `json:"personas"`
	}
}

// Personas serves GET /api/v1/personas (active ones, without prompts).
func (h Handlers) Personas(ctx context.Context, _ *struct{}) (*PersonasOutput, error) {
	list, err := h.S.Personas(ctx, false)
	if err != nil {
		return nil, err
	}
	out := &PersonasOutput{}
	out.Body.Personas = list
	return out, nil
}

// AllPersonas serves the administrators' list, prompts included.
func (h Handlers) AllPersonas(ctx context.Context, _ *struct{}) (*PersonasOutput, error) {
	list, err := h.S.Personas(ctx, true)
	if err != nil {
		return nil, err
	}
	out := &PersonasOutput{}
	out.Body.Personas = list
	return out, nil
}

// CreatePersonaRequest is POST /api/v1/personas.
type CreatePersonaRequest struct{ Body PersonaInput }

// PersonaOutput answers with one persona.
type PersonaOutput struct {
	Status int
	Body   *Persona
}

// CreatePersona adds a persona.
func (h Handlers) CreatePersona(ctx context.Context, in *CreatePersonaRequest) (*PersonaOutput, error) {
	p, err := h.S.PutPersona(ctx, "", in.Body)
	if err != nil {
		return nil, err
	}
	return &PersonaOutput{Status: http.StatusCreated, Body: p}, nil
}

// PersonaPath names a persona.
type PersonaPath struct {
	PersonaID string `path:"persona_id" maxLength:"36"`
}

// UpdatePersonaRequest is PUT /api/v1/personas/{persona_id}.
type UpdatePersonaRequest struct {
	PersonaPath
	Body PersonaInput
}

// UpdatePersona replaces a persona.
func (h Handlers) UpdatePersona(ctx context.Context, in *UpdatePersonaRequest) (*PersonaOutput, error) {
	p, err := h.S.PutPersona(ctx, in.PersonaID, in.Body)
	if err != nil {
		return nil, err
	}
	return &PersonaOutput{Status: http.StatusOK, Body: p}, nil
}

// DeletePersona removes a persona.
func (h Handlers) DeletePersona(ctx context.Context, in *PersonaPath) (*struct{}, error) {
	return nil, h.S.DeletePersona(ctx, in.PersonaID)
}

// AnalyzeRequest is POST /api/ai/analyze.
type AnalyzeRequest struct{ Body AnalyzeInput }

// AnalyzeOutput is the analysis.
type AnalyzeOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         *Analysis
}

// Analyze serves POST /api/ai/analyze and /api/v1/ai/analyze.
func (h Handlers) Analyze(ctx context.Context, in *AnalyzeRequest) (*AnalyzeOutput, error) {
	a, err := h.S.Analyze(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &AnalyzeOutput{CacheControl: "no-store", Body: a}, nil
}

// ContentRequest is POST /api/ai/content.
type ContentRequest struct{ Body ContentInput }

// ContentOutput is today's content.
type ContentOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         *HomeContent
}

// Content serves POST /api/ai/content and /api/v1/ai/content.
func (h Handlers) Content(ctx context.Context, in *ContentRequest) (*ContentOutput, error) {
	c, err := h.S.Content(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &ContentOutput{CacheControl: "private, no-cache", Body: c}, nil
}

// EventsRequest filters the queue.
type EventsRequest struct {
	Status string `query:"status" enum:"open,acknowledged,resolved" doc:"Default: everything not resolved"`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
}

// EventsOutput is the queue.
type EventsOutput struct {
	Body struct {
		Events []Event `json:"events"`
	}
}

// Events serves GET /api/v1/crisis/events.
func (h Handlers) Events(ctx context.Context, in *EventsRequest) (*EventsOutput, error) {
	list, err := h.S.Events(ctx, in.Status, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &EventsOutput{}
	out.Body.Events = list
	return out, nil
}

// EventPath names an event.
type EventPath struct {
	EventID string `path:"event_id" maxLength:"36"`
}

// EventOutput is one event with its notes.
type EventOutput struct{ Body *Event }

// Event serves GET /api/v1/crisis/events/{event_id}.
func (h Handlers) Event(ctx context.Context, in *EventPath) (*EventOutput, error) {
	e, err := h.S.Event(ctx, in.EventID)
	if err != nil {
		return nil, err
	}
	return &EventOutput{Body: e}, nil
}

// EventActionRequest carries an optional note.
type EventActionRequest struct {
	EventPath
	Body struct {
		Note string `json:"note,omitempty" maxLength:"4000"`
	}
}

// NoteRequest carries a note.
type NoteRequest struct {
	EventPath
	Body struct {
		Note string `json:"note" minLength:"1" maxLength:"4000"`
	}
}

// Acknowledge serves POST /api/v1/crisis/events/{event_id}/acknowledge.
func (h Handlers) Acknowledge(ctx context.Context, in *EventActionRequest) (*EventOutput, error) {
	e, err := h.S.Transition(ctx, in.EventID, EventAcknowledged, in.Body.Note)
	if err != nil {
		return nil, err
	}
	return &EventOutput{Body: e}, nil
}

// Resolve serves POST /api/v1/crisis/events/{event_id}/resolve.
func (h Handlers) Resolve(ctx context.Context, in *EventActionRequest) (*EventOutput, error) {
	e, err := h.S.Transition(ctx, in.EventID, EventResolved, in.Body.Note)
	if err != nil {
		return nil, err
	}
	return &EventOutput{Body: e}, nil
}

// AddNote serves POST /api/v1/crisis/events/{event_id}/notes.
func (h Handlers) AddNote(ctx context.Context, in *NoteRequest) (*EventOutput, error) {
	e, err := h.S.Transition(ctx, in.EventID, "", in.Body.Note)
	if err != nil {
		return nil, err
	}
	return &EventOutput{Body: e}, nil
}

// ReportRequest bounds the report.
type ReportRequest struct {
	From string `query:"from" format:"date-time"`
	To   string `query:"to" format:"date-time"`
}

// ReportOutput is the report.
type ReportOutput struct {
	Body struct {
		Rows []ReportRow `json:"rows"`
	}
}

// Report serves GET /api/v1/crisis/report.
func (h Handlers) Report(ctx context.Context, in *ReportRequest) (*ReportOutput, error) {
	from, err := httpx.ParseTime("query.from", in.From)
	if err != nil {
		return nil, err
	}
	to, err := httpx.ParseTime("query.to", in.To)
	if err != nil {
		return nil, err
	}
	rows, err := h.S.Report(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := &ReportOutput{}
	out.Body.Rows = rows
	return out, nil
}

// ConversationsRequest pages the list.
type ConversationsRequest struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Cursor string `query:"cursor" maxLength:"300"`
}

// ConversationsOutput is a page of conversations.
type ConversationsOutput struct {
	Body struct {
		Conversations []Conversation `json:"conversations"`
		NextCursor    string         `json:"next_cursor,omitempty"`
	}
}

// ListConversations serves GET /api/v1/conversations.
func (h Handlers) ListConversations(ctx context.Context, in *ConversationsRequest) (*ConversationsOutput, error) {
	list, next, err := h.S.Conversations(ctx, in.Limit, in.Cursor)
	if err != nil {
		return nil, err
	}
	out := &ConversationsOutput{}
	out.Body.Conversations, out.Body.NextCursor = list, next
	return out, nil
}

// ConversationPath names a conversation.
type ConversationPath struct {
	ConversationID string `path:"conversation_id" maxLength:"36"`
}

// ConversationOutput is one conversation.
type ConversationOutput struct{ Body *Conversation }

// GetConversation serves GET /api/v1/conversations/{conversation_id}.
func (h Handlers) GetConversation(ctx context.Context, in *ConversationPath) (*ConversationOutput, error) {
	c, err := h.S.GetConversation(ctx, in.ConversationID)
	if err != nil {
		return nil, err
	}
	return &ConversationOutput{Body: c}, nil
}

// RenameRequest is PATCH /api/v1/conversations/{conversation_id}.
type RenameRequest struct {
	ConversationPath
	Body struct {
		Title string `json:"title" minLength:"1" maxLength:"120"`
	}
}

// RenameConversation serves PATCH /api/v1/conversations/{conversation_id}.
func (h Handlers) RenameConversation(ctx context.Context, in *RenameRequest) (*ConversationOutput, error) {
	c, err := h.S.RenameConversation(ctx, in.ConversationID, in.Body.Title)
	if err != nil {
		return nil, err
	}
	return &ConversationOutput{Body: c}, nil
}

// DeleteConversation serves DELETE /api/v1/conversations/{conversation_id}.
func (h Handlers) DeleteConversation(ctx context.Context, in *ConversationPath) (*struct{}, error) {
	return nil, h.S.DeleteConversation(ctx, in.ConversationID)
}

// MessagesRequest pages a conversation's messages.
type MessagesRequest struct {
	ConversationPath
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
	Cursor string `query:"cursor" maxLength:"300"`
}

// MessagesOutput is a page of messages, newest first.
type MessagesOutput struct {
	Body struct {
		Messages   []ChatMessage `json:"messages"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}
}

// ListMessages serves GET /api/v1/conversations/{conversation_id}/messages.
func (h Handlers) ListMessages(ctx context.Context, in *MessagesRequest) (*MessagesOutput, error) {
	list, next, err := h.S.Messages(ctx, in.ConversationID, in.Limit, in.Cursor)
	if err != nil {
		return nil, err
	}
	out := &MessagesOutput{}
	out.Body.Messages, out.Body.NextCursor = list, next
	return out, nil
}
