package presentation

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// Handlers are the presentation HTTP operations in huma's typed form.
type Handlers struct{ S *Service }

// TemplatesOutput lists templates.
type TemplatesOutput struct {
	Body struct {
		Templates []Template `json:"templates"`
	}
}

// Templates serves GET /api/v1/presentations/templates.
func (h Handlers) Templates(ctx context.Context, _ *struct{}) (*TemplatesOutput, error) {
	list, err := h.S.Templates(ctx)
	if err != nil {
		return nil, err
	}
	out := &TemplatesOutput{}
	out.Body.Templates = list
	return out, nil
}

// ListOutput is a page of presentations.
type ListOutput struct {
	Body struct {
		Presentations []Summary `json:"presentations"`
		NextCursor    string    `json:"next_cursor,omitempty"`
	}
}

// List serves GET /api/v1/presentations.
func (h Handlers) List(ctx context.Context, in *ListQuery) (*ListOutput, error) {
	list, next, err := h.S.List(ctx, *in)
	if err != nil {
		return nil, err
	}
	out := &ListOutput{}
	out.Body.Presentations, out.Body.NextCursor = list, next
	return out, nil
}

// CreateRequest is POST /api/v1/presentations.
type CreateRequest struct{ Body CreateInput }

// PresentationOutput answers with one presentation.
type PresentationOutput struct {
	Status int
	Body   *Presentation
}

// Create adds a presentation.
func (h Handlers) Create(ctx context.Context, in *CreateRequest) (*PresentationOutput, error) {
	pr, err := h.S.Create(ctx, in.Body)
	if err != nil {
		return nil, err
	}
	return &PresentationOutput{Status: http.StatusCreated, Body: pr}, nil
}

// PresentationPath names a presentation.
type PresentationPath struct {
	PresentationID string `path:"presentation_id" maxLength:"36"`
}

// Get serves GET /api/v1/presentations/{presentation_id}.
func (h Handlers) Get(ctx context.Context, in *PresentationPath) (*PresentationOutput, error) {
	pr, err := h.S.Get(ctx, in.PresentationID)
	if err != nil {
		return nil, err
	}
	return &PresentationOutput{Status: http.StatusOK, Body: pr}, nil
}

// UpdateRequest is PUT /api/v1/presentations/{presentation_id}.
type UpdateRequest struct {
	PresentationPath
	Body PresentationInput
}

// Update replaces a presentation's fields and slides.
func (h Handlers) Update(ctx context.Context, in *UpdateRequest) (*PresentationOutput, error) {
	pr, err := h.S.Update(ctx, in.PresentationID, in.Body)
	if err != nil {
		return nil, err
	}
	return &PresentationOutput{Status: http.StatusOK, Body: pr}, nil
}

// Delete removes a presentation (204).
func (h Handlers) Delete(ctx context.Context, in *PresentationPath) (*struct{}, error) {
	return nil, h.S.Delete(ctx, in.PresentationID)
}

// ReorderRequest is POST /api/v1/presentations/{presentation_id}/reorder.
type ReorderRequest struct {
	PresentationPath
	Body struct {
		SlideIDs []string `json:"slide_ids" maxItems:"20" doc:"Every slide id of the presentation, in the new order"`
	}
}

// Reorder puts the slides in a new order.
func (h Handlers) Reorder(ctx context.Context, in *ReorderRequest) (*PresentationOutput, error) {
	pr, err := h.S.Reorder(ctx, in.PresentationID, in.Body.SlideIDs)
	if err != nil {
		return nil, err
	}
	return &PresentationOutput{Status: http.StatusOK, Body: pr}, nil
}

// Activate makes a presentation the agent's active one.
func (h Handlers) Activate(ctx context.Context, in *PresentationPath) (*PresentationOutput, error) {
	pr, err := h.S.Activate(ctx, in.PresentationID)
	if err != nil {
		return nil, err
	}
	return &PresentationOutput{Status: http.StatusOK, Body: pr}, nil
}

// Deactivate stops showing a presentation.
func (h Handlers) Deactivate(ctx context.Context, in *PresentationPath) (*PresentationOutput, error) {
	pr, err := h.S.Deactivate(ctx, in.PresentationID)
	if err != nil {
		return nil, err
	}
	return &PresentationOutput{Status: http.StatusOK, Body: pr}, nil
}

// AgentPath names an agent.
type AgentPath struct {
	AgentID string `path:"agent_id" maxLength:"36"`
}

// ActiveOutput is what the agent's home page shows.
type ActiveOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         *Presentation
}

// Active serves GET /api/v1/presentations/agent/{agent_id}/active.
func (h Handlers) Active(ctx context.Context, in *AgentPath) (*ActiveOutput, error) {
	pr, err := h.S.Active(ctx, in.AgentID)
	if err != nil {
		return nil, err
	}
	// The schedule can change what is shown at any minute.
	return &ActiveOutput{CacheControl: "private, no-cache", Body: pr}, nil
}

// UploadForm is the multipart form of an upload.
type UploadForm struct {
	// Any declared part type is let through here (the list ends with
	// application/octet-stream): the type is read from the bytes.
	File    huma.FormFile `form:"file" contentType:"image/jpeg,image/png,image/webp,video/mp4,application/octet-stream" required:"true" doc:"JPEG, PNG or WebP (200 to 4096 pixels a side, at most 10 MiB) or MP4 (at most 50 MiB); the type is read from the bytes, not the name"`
	AgentID string        `form:"agent_id" required:"false" maxLength:"36" doc:"Administrators: the agent who will own the file"`
}

// UploadRequest is POST /api/v1/presentations/media/upload.
type UploadRequest struct {
	RawBody huma.MultipartFormFiles[UploadForm]
}

// MediaOutput answers with a file's description.
type MediaOutput struct {
	Status   int
	Location string `header:"Location"`
	Body     *Media
}

// Upload stores a file: 201, or 200 with the file already stored when the
// same bytes were uploaded before.
func (h Handlers) Upload(ctx context.Context, in *UploadRequest) (*MediaOutput, error) {
	form := in.RawBody.Data()
	defer form.File.Close()
	m, created, err := h.S.Upload(ctx, Upload{AgentID: form.AgentID, File: form.File, Size: form.File.Size})
	if err != nil {
		return nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &MediaOutput{Status: status, Location: m.URL, Body: m}, nil
}

// MediaPath names a file.
type MediaPath struct {
	MediaID string `path:"media_id" maxLength:"36"`
}

// Media serves a file's bytes with its sniffed type, a strong ETag (its
// SHA-256), immutable private caching and range requests (for video).
func (h Handlers) Media(ctx context.Context, in *MediaPath) (*huma.StreamResponse, error) {
	m, r, err := h.S.OpenMedia(ctx, in.MediaID)
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer r.Close()
		req, w := humago.Unwrap(hctx)
		hd := w.Header()
		hd.Set("Content-Type", m.ContentType)
		hd.Set("ETag", `"`+m.SHA256+`"`)
		hd.Set("Cache-Control", MediaCacheControl)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Disposition", "inline")
		http.ServeContent(w, req, "", m.CreatedAt, r)
	}}, nil
}

// DeleteMedia serves DELETE /api/v1/presentations/media/{media_id} (204).
func (h Handlers) DeleteMedia(ctx context.Context, in *MediaPath) (*struct{}, error) {
	return nil, h.S.DeleteMedia(ctx, in.MediaID)
}

// DescribeMedia documents the media operation's answer (huma cannot see
// through a stream): the file's bytes in one of the accepted types.
func DescribeMedia(o huma.Operation) huma.Operation {
	content := map[string]*huma.MediaType{}
	for _, ct := range []string{"image/jpeg", "image/png", "image/webp", "video/mp4"} {
		content[ct] = &huma.MediaType{Schema: &huma.Schema{Type: "string", Format: "binary"}}
	}
	header := func(doc string) *huma.Header {
		return &huma.Header{Description: doc, Schema: &huma.Schema{Type: "string"}}
	}
	o.Responses = map[string]*huma.Response{
		"200": {Description: "The file", Content: content, Headers: map[string]*huma.Header{
			"ETag":          header("The file's SHA-256, quoted; If-None-Match answers 304"),
			"Cache-Control": header(MediaCacheControl),
		}},
		"206": {Description: "Part of the file (Range requests)", Content: content},
		"304": {Description: "Not modified (If-None-Match)"},
	}
	return o
}
