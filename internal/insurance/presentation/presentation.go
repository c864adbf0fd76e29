package presentation

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/page"
)

// Limits and defaults of presentations.
const (
	MaxSlides       = 20
	MaxTitle        = 120
	MaxDescription  = 500
	MaxOverlayText  = 280
	MinFontSize     = 12
	MaxFontSize     = 96
	MinDuration     = 1
	MaxDuration     = 60
	DefaultDuration = 6
	DefaultFontSize = 24
)

// Slide types and overlay positions.
const (
	SlideImage = "image"
	SlideVideo = "video"
	SlideText  = "text"

	PositionTop    = "top"
	PositionCenter = "center"
	PositionBottom = "bottom"
)

// Overlay is text drawn over a slide (the whole slide, for text slides).
type Overlay struct {
	Text            string `json:"text" minLength:"1" maxLength:"280" example:"Protect your family's tomorrow" doc:"The text shown"`
	Position        string `json:"position,omitempty" enum:"top,center,bottom" doc:"Where the text sits (default: bottom; center on text slides)"`
	TextColor       string `json:"text_color,omitempty" pattern:"^#[0-9A-Fa-f]{6}$" example:"#FFFFFF" doc:"#RRGGBB (default #FFFFFF)"`
	BackgroundColor string `json:"background_color,omitempty" pattern:"^#[0-9A-Fa-f]{6}$" example:"#1E3A8A" doc:"#RRGGBB behind the text; on text slides the slide's colour (default: none; #111827 on text slides)"`
	FontSize        int    `json:"font_size,omitempty" minimum:"12" maximum:"96" example:"28" doc:"Points (default 24)"`
}

// SlideInput is one slide as written by the client.
type SlideInput struct {
	ID              string   `json:"id,omitempty" maxLength:"36" doc:"Updates: an existing slide's id, to keep it"`
	Type            string   `json:"type" enum:"image,video,text"`
	MediaID         string   `json:"media_id,omitempty" maxLength:"36" doc:"Image and video slides: a file you uploaded, of that kind"`
	DurationSeconds int      `json:"duration_seconds,omitempty" minimum:"1" maximum:"60" doc:"How long the slide shows (default 6)"`
	Overlay         *Overlay `json:"overlay,omitempty" doc:"Text over the slide; required on text slides"`
}

// PresentationInput is what a client sets on a presentation.
type PresentationInput struct {
	Title       string       `json:"title,omitempty" maxLength:"120" example:"Term plans for young families" doc:"Required, unless template_id names a template (then its name)"`
	Description string       `json:"description,omitempty" maxLength:"500"`
	StartsAt    *time.Time   `json:"starts_at,omitempty" doc:"Shown from this time when active (default: at once)"`
	EndsAt      *time.Time   `json:"ends_at,omitempty" doc:"Shown until this time (default: no end); after starts_at"`
	Slides      []SlideInput `json:"slides,omitempty" maxItems:"20" doc:"In showing order"`
}

// CreateInput is a new presentation.
type CreateInput struct {
	PresentationInput
	AgentID    string `json:"agent_id,omitempty" maxLength:"36" doc:"Administrators: the agent it is for (agents: omit, or their own id)"`
	TemplateID string `json:"template_id,omitempty" maxLength:"36" doc:"Start from a template: its slides are copied when slides is empty"`
}

// MediaRef is a slide's file.
type MediaRef struct {
	ID          string `json:"id"`
	URL         string `json:"url" example:"/api/v1/presentations/media/0193a0c4-6f1e-7c5e-9d2a-3b8f1f0e9a11"`
	Kind        string `json:"kind" enum:"image,video"`
	ContentType string `json:"content_type" example:"image/jpeg"`
	SizeBytes   int64  `json:"size_bytes"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

// Slide is a stored slide.
type Slide struct {
	ID              string    `json:"id"`
	Position        int       `json:"position" doc:"0 is shown first"`
	Type            string    `json:"type" enum:"image,video,text"`
	Media           *MediaRef `json:"media,omitempty"`
	DurationSeconds int       `json:"duration_seconds"`
	Overlay         *Overlay  `json:"overlay,omitempty"`
}

// Presentation is a stored presentation with its slides.
type Presentation struct {
	ID          string     `json:"id"`
	AgentID     string     `json:"agent_id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	TemplateID  string     `json:"template_id,omitempty" doc:"The template it was started from"`
	Active      bool       `json:"active" doc:"The one the agent's home page shows (within its schedule)"`
	StartsAt    *time.Time `json:"starts_at,omitempty"`
	EndsAt      *time.Time `json:"ends_at,omitempty"`
	Slides      []Slide    `json:"slides"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Summary is a presentation in a list.
type Summary struct {
	ID          string     `json:"id"`
	AgentID     string     `json:"agent_id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	TemplateID  string     `json:"template_id,omitempty"`
	Active      bool       `json:"active"`
	StartsAt    *time.Time `json:"starts_at,omitempty"`
	EndsAt      *time.Time `json:"ends_at,omitempty"`
	SlideCount  int        `json:"slide_count"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

var colour = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// slideRow is a checked slide, ready to store.
type slideRow struct {
	ID       string
	Type     string
	MediaID  string
	Duration int
	Overlay  *Overlay
}

// fieldErrs collects field errors into one Invalid error.
type fieldErrs []apperr.FieldError

func (f *fieldErrs) add(loc, msg string) {
	*f = append(*f, apperr.FieldError{Location: loc, Message: msg})
}

func (f fieldErrs) err() error {
	if len(f) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: f}
}

// checkOverlay validates o and fills in its defaults for a slide of type
// typ. It returns the overlay to store.
func checkOverlay(o *Overlay, typ, loc string, errs *fieldErrs) *Overlay {
	out := *o
	out.Text = strings.TrimSpace(o.Text)
	if out.Text == "" || utf8.RuneCountInString(out.Text) > MaxOverlayText {
		errs.add(loc+".text", fmt.Sprintf("must be 1 to %d characters", MaxOverlayText))
	}
	switch out.Position {
	case "":
		out.Position = PositionBottom
		if typ == SlideText {
			out.Position = PositionCenter
		}
	case PositionTop, PositionCenter, PositionBottom:
	default:
		errs.add(loc+".position", "must be top, center or bottom")
	}
	if out.TextColor == "" {
		out.TextColor = "#FFFFFF"
	}
	if out.BackgroundColor == "" && typ == SlideText {
		out.BackgroundColor = "#111827"
	}
	for field, c := range map[string]*string{"text_color": &out.TextColor, "background_color": &out.BackgroundColor} {
		if *c == "" {
			continue
		}
		if !colour.MatchString(*c) {
			errs.add(loc+"."+field, "must be a colour written #RRGGBB")
		}
		*c = strings.ToUpper(*c)
	}
	if out.FontSize == 0 {
		out.FontSize = DefaultFontSize
	} else if out.FontSize < MinFontSize || out.FontSize > MaxFontSize {
		errs.add(loc+".font_size", fmt.Sprintf("must be %d to %d", MinFontSize, MaxFontSize))
	}
	return &out
}

// check validates a presentation's fields and slides for agentID. Slides
// may keep the ids in existing (the presentation's current slides); image
// and video slides must show a file of agentID of their kind. It returns
// the trimmed title and description and the slides to store, or an
// Invalid error naming every bad field.
func (s *Service) check(ctx context.Context, agentID string, in PresentationInput, existing map[string]bool) (title, desc string, rows []slideRow, err error) {
	var errs fieldErrs
	title = strings.TrimSpace(in.Title)
	if title == "" || utf8.RuneCountInString(title) > MaxTitle {
		errs.add("body.title", fmt.Sprintf("must be 1 to %d characters", MaxTitle))
	}
	desc = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(desc) > MaxDescription {
		errs.add("body.description", fmt.Sprintf("must be at most %d characters", MaxDescription))
	}
	if in.StartsAt != nil && in.EndsAt != nil && !in.EndsAt.After(*in.StartsAt) {
		errs.add("body.ends_at", "must be after starts_at")
	}
	if len(in.Slides) > MaxSlides {
		errs.add("body.slides", fmt.Sprintf("at most %d slides", MaxSlides))
		return "", "", nil, errs.err()
	}
	seen := map[string]bool{}
	for i, in := range in.Slides {
		loc := fmt.Sprintf("body.slides[%d]", i)
		r := slideRow{ID: in.ID, Type: in.Type, MediaID: in.MediaID, Duration: in.DurationSeconds}
		switch {
		case r.ID == "":
			r.ID = ids.New()
		case !existing[r.ID]:
			errs.add(loc+".id", "not a slide of this presentation")
		case seen[r.ID]:
			errs.add(loc+".id", "appears twice")
		}
		seen[r.ID] = true
		if r.Duration == 0 {
			r.Duration = DefaultDuration
		} else if r.Duration < MinDuration || r.Duration > MaxDuration {
			errs.add(loc+".duration_seconds", fmt.Sprintf("must be %d to %d", MinDuration, MaxDuration))
		}
		switch r.Type {
		case SlideImage, SlideVideo:
			if r.MediaID == "" {
				errs.add(loc+".media_id", "required for "+r.Type+" slides")
				break
			}
			kind, err := s.mediaKind(ctx, agentID, r.MediaID)
			if err != nil {
				return "", "", nil, err
			}
			if kind != r.Type {
				errs.add(loc+".media_id", "must be "+article(r.Type)+" you uploaded")
			}
		case SlideText:
			if r.MediaID != "" {
				errs.add(loc+".media_id", "text slides show no file")
			}
			if in.Overlay == nil {
				errs.add(loc+".overlay", "required for text slides")
			}
		default:
			errs.add(loc+".type", "must be image, video or text")
		}
		if in.Overlay != nil {
			r.Overlay = checkOverlay(in.Overlay, r.Type, loc+".overlay", &errs)
		}
		rows = append(rows, r)
	}
	if err := errs.err(); err != nil {
		return "", "", nil, err
	}
	return title, desc, rows, nil
}

func article(kind string) string {
	if kind == SlideImage {
		return "an image"
	}
	return "a video"
}

// mediaKind returns the kind of agentID's file id, or "" when agentID has
// no such file.
func (s *Service) mediaKind(ctx context.Context, agentID, id string) (string, error) {
	var kind string
	err := s.DB.QueryRow(ctx, `SELECT kind FROM presentation_media WHERE id = ? AND owner_id = ?`, id, agentID).Scan(&kind)
	if errors.Is(err, database.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("presentation: media kind: %w", err)
	}
	return kind, nil
}

func insertSlides(ctx context.Context, tx *database.Tx, presentationID string, rows []slideRow) error {
	for i, r := range rows {
		var media, overlay *string
		if r.MediaID != "" {
			media = &r.MediaID
		}
		if r.Overlay != nil {
			o := marshalOverlay(r.Overlay)
			overlay = &o
		}
		if _, err := tx.Exec(ctx, `INSERT INTO presentation_slides (id, presentation_id, position, type, media_id, duration_seconds, overlay)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ID, presentationID, i, r.Type, media, r.Duration, overlay); err != nil {
			if media != nil && database.IsForeignKeyViolation(err) {
				// The file was deleted since the slides were checked.
				return apperr.Field(fmt.Sprintf("body.slides[%d].media_id", i), "must be "+article(r.Type)+" you uploaded")
			}
			return fmt.Errorf("presentation: insert slide: %w", err)
		}
	}
	return nil
}

// Create adds a presentation: the caller's (agents), or the named agent's
// (administrators). It returns Invalid (bad fields, unknown template),
// agent_not_found (another agent) or not_an_agent.
func (s *Service) Create(ctx context.Context, in CreateInput) (*Presentation, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	agentID, err := s.agentFor(ctx, p, in.AgentID, "body.agent_id", true)
	if err != nil {
		return nil, err
	}
	if in.TemplateID != "" {
		t, err := s.Template(ctx, in.TemplateID)
		if apperr.CodeOf(err) == CodeTemplateNotFound {
			return nil, apperr.Field("body.template_id", "no such template")
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(in.Title) == "" {
			in.Title = t.Name
		}
		if len(in.Slides) == 0 {
			for _, ts := range t.Slides {
				o := ts.Overlay
				in.Slides = append(in.Slides, SlideInput{Type: ts.Type, DurationSeconds: ts.DurationSeconds, Overlay: &o})
			}
		}
	}
	title, desc, rows, err := s.check(ctx, agentID, in.PresentationInput, nil)
	if err != nil {
		return nil, err
	}
	id, now := ids.New(), s.now()
	var tpl *string
	if in.TemplateID != "" {
		tpl = &in.TemplateID
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO presentations (id, agent_id, title, description, template_id, is_active, starts_at, ends_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, FALSE, ?, ?, ?, ?)`, id, agentID, title, desc, tpl, utc(in.StartsAt), utc(in.EndsAt), now, now); err != nil {
			return fmt.Errorf("presentation: create: %w", err)
		}
		if err := insertSlides(ctx, tx, id, rows); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "presentation.created", TargetType: "presentation", TargetID: id,
			After: map[string]any{"agent_id": agentID, "template_id": in.TemplateID, "slides": len(rows)}})
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, s.DB, id)
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Get returns a presentation the caller may see, or presentation_not_found.
func (s *Service) Get(ctx context.Context, id string) (*Presentation, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := s.load(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	if !sees(p, pr.AgentID) {
		return nil, notFound("presentation")
	}
	return pr, nil
}

// ListQuery selects presentations.
type ListQuery struct {
	AgentID string `query:"agent_id" maxLength:"36" doc:"Administrators: one agent's (default: everyone's); agents: omit, or their own id"`
	Limit   int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Cursor  string `query:"cursor" maxLength:"200"`
}

// List returns presentations, newest first: the caller's (agents), or any
// agent's (administrators). It returns agent_not_found for another agent's id,
// not_an_agent for other roles and Invalid for a bad cursor.
func (s *Service) List(ctx context.Context, q ListQuery) ([]Summary, string, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, "", err
	}
	agentID, err := s.agentFor(ctx, p, q.AgentID, "query.agent_id", false)
	if err != nil {
		return nil, "", err
	}
	cur, err := page.Decode(q.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := page.Limit(q.Limit)
	var where []string
	var args []any
	if agentID != "" {
		where, args = append(where, "p.agent_id = ?"), append(args, agentID)
	}
	if cur.ID != "" {
		where, args = append(where, "p.id < ?"), append(args, cur.ID)
	}
	query := `SELECT p.id, p.agent_id, p.title, p.description, p.template_id, p.is_active, p.starts_at, p.ends_at, p.created_at, p.updated_at,
		(SELECT COUNT(*) FROM presentation_slides s WHERE s.presentation_id = p.id) FROM presentations p`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.DB.Query(ctx, query+fmt.Sprintf(" ORDER BY p.id DESC LIMIT %d", limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("presentation: list: %w", err)
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var m Summary
		var tpl *string
		if err := rows.Scan(&m.ID, &m.AgentID, &m.Title, &m.Description, &tpl, &m.Active, &m.StartsAt, &m.EndsAt, &m.CreatedAt, &m.UpdatedAt, &m.SlideCount); err != nil {
			return nil, "", fmt.Errorf("presentation: list: %w", err)
		}
		if tpl != nil {
			m.TemplateID = *tpl
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("presentation: list: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = page.Cursor{ID: out[limit-1].ID}.Encode()
	}
	return out, next, nil
}

// owner returns the agent of presentation id when the caller may see it,
// else presentation_not_found.
func (s *Service) owner(ctx context.Context, q database.Querier, id string) (string, error) {
	p, err := caller(ctx)
	if err != nil {
		return "", err
	}
	var agentID string
	err = q.QueryRow(ctx, `SELECT agent_id FROM presentations WHERE id = ?`, id).Scan(&agentID)
	if errors.Is(err, database.ErrNoRows) || (err == nil && !sees(p, agentID)) {
		return "", notFound("presentation")
	}
	if err != nil {
		return "", fmt.Errorf("presentation: %w", err)
	}
	return agentID, nil
}

func (s *Service) slideIDs(ctx context.Context, q database.Querier, id string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT id FROM presentation_slides WHERE presentation_id = ? ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("presentation: slides: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sid string
		if err := rows.Scan(&sid); err != nil {
			return nil, fmt.Errorf("presentation: slides: %w", err)
		}
		out = append(out, sid)
	}
	return out, rows.Err()
}

// Update replaces a presentation's title, description, schedule and
// slides (slides sent with their id keep it). It returns presentation_not_found,
// Invalid, or presentation_empty when an active presentation would lose
// its last slide.
func (s *Service) Update(ctx context.Context, id string, in PresentationInput) (*Presentation, error) {
	agentID, err := s.owner(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	current, err := s.slideIDs(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	existing := map[string]bool{}
	for _, sid := range current {
		existing[sid] = true
	}
	title, desc, rows, err := s.check(ctx, agentID, in, existing)
	if err != nil {
		return nil, err
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		var active bool
		err := tx.QueryRow(ctx, `UPDATE presentations SET title = ?, description = ?, starts_at = ?, ends_at = ?, updated_at = ?
			WHERE id = ? RETURNING is_active`, title, desc, utc(in.StartsAt), utc(in.EndsAt), s.now(), id).Scan(&active)
		if errors.Is(err, database.ErrNoRows) {
			return notFound("presentation")
		}
		if err != nil {
			return fmt.Errorf("presentation: update: %w", err)
		}
		if active && len(rows) == 0 {
			return fail(CodePresentationEmpty, "body.slides", "an active presentation needs at least one slide; deactivate it first")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM presentation_slides WHERE presentation_id = ?`, id); err != nil {
			return fmt.Errorf("presentation: update: %w", err)
		}
		if err := insertSlides(ctx, tx, id, rows); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "presentation.updated", TargetType: "presentation", TargetID: id,
			After: map[string]any{"agent_id": agentID, "slides": len(rows)}})
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, s.DB, id)
}

// Reorder puts the presentation's slides in the order of slideIDs, which
// must name each of its slides once (else Invalid on body.slide_ids). It
// returns presentation_not_found for a presentation the caller may not see.
func (s *Service) Reorder(ctx context.Context, id string, slideIDs []string) (*Presentation, error) {
	if _, err := s.owner(ctx, s.DB, id); err != nil {
		return nil, err
	}
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		current, err := s.slideIDs(ctx, tx, id)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, sid := range current {
			have[sid] = true
		}
		seen := map[string]bool{}
		for _, sid := range slideIDs {
			if !have[sid] || seen[sid] {
				return apperr.Field("body.slide_ids", "must name each slide of the presentation exactly once")
			}
			seen[sid] = true
		}
		if len(slideIDs) != len(current) {
			return apperr.Field("body.slide_ids", "must name each slide of the presentation exactly once")
		}
		// Move every slide out of the way first: (presentation, position)
		// is unique at every statement.
		if _, err := tx.Exec(ctx, `UPDATE presentation_slides SET position = -1 - position WHERE presentation_id = ?`, id); err != nil {
			return fmt.Errorf("presentation: reorder: %w", err)
		}
		for i, sid := range slideIDs {
			if _, err := tx.Exec(ctx, `UPDATE presentation_slides SET position = ? WHERE id = ?`, i, sid); err != nil {
				return fmt.Errorf("presentation: reorder: %w", err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE presentations SET updated_at = ? WHERE id = ?`, s.now(), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, s.DB, id)
}

// Delete removes a presentation and its slides (not its files). It
// returns presentation_not_found for a presentation the caller may not see.
func (s *Service) Delete(ctx context.Context, id string) error {
	agentID, err := s.owner(ctx, s.DB, id)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		var active bool
		err := tx.QueryRow(ctx, `DELETE FROM presentations WHERE id = ? RETURNING is_active`, id).Scan(&active)
		if errors.Is(err, database.ErrNoRows) {
			return notFound("presentation")
		}
		if err != nil {
			return fmt.Errorf("presentation: delete: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "presentation.deleted", TargetType: "presentation", TargetID: id,
			Before: map[string]any{"agent_id": agentID, "active": active}})
	})
}

// Activate makes a presentation its agent's active one, deactivating the
// one active before (an agent has at most one). It returns presentation_not_found, or
// presentation_empty for a presentation without slides.
func (s *Service) Activate(ctx context.Context, id string) (*Presentation, error) {
	agentID, err := s.owner(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if err := lockAgent(ctx, tx, agentID); err != nil {
			return err
		}
		now := s.now()
		var before []string
		rows, err := tx.Query(ctx, `UPDATE presentations SET is_active = FALSE, updated_at = ?
			WHERE agent_id = ? AND is_active = TRUE AND id <> ? RETURNING id`, now, agentID, id)
		if err != nil {
			return fmt.Errorf("presentation: activate: %w", err)
		}
		for rows.Next() {
			var prev string
			if err := rows.Scan(&prev); err != nil {
				rows.Close()
				return fmt.Errorf("presentation: activate: %w", err)
			}
			before = append(before, prev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("presentation: activate: %w", err)
		}
		res, err := tx.Exec(ctx, `UPDATE presentations SET is_active = TRUE, updated_at = ? WHERE id = ?`, now, id)
		if err != nil {
			return fmt.Errorf("presentation: activate: %w", err)
		}
		if res.RowsAffected() == 0 {
			return notFound("presentation")
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM presentation_slides WHERE presentation_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("presentation: activate: %w", err)
		}
		if n == 0 {
			return fail(CodePresentationEmpty, "", "a presentation needs at least one slide to be shown")
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "presentation.activated", TargetType: "presentation", TargetID: id,
			After: map[string]any{"agent_id": agentID, "deactivated": before}})
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, s.DB, id)
}

// lockAgent serialises the transactions that change which of agentID's
// presentations is active. On SQLite a write transaction already holds
// the database; on PostgreSQL the agent's presentation rows are locked in
// id order, so concurrent activations wait for each other instead of
// deadlocking or colliding on the one-active index. Updates lock only
// their own row (which orders them against an activation of it).
func lockAgent(ctx context.Context, tx *database.Tx, agentID string) error {
	if tx.Dialect() != database.Postgres {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id FROM presentations WHERE agent_id = ? ORDER BY id FOR UPDATE`, agentID)
	if err != nil {
		return fmt.Errorf("presentation: lock: %w", err)
	}
	rows.Close()
	return rows.Err()
}

// Deactivate stops showing a presentation. It returns presentation_not_found for a
// presentation the caller may not see.
func (s *Service) Deactivate(ctx context.Context, id string) (*Presentation, error) {
	agentID, err := s.owner(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE presentations SET is_active = FALSE, updated_at = ? WHERE id = ? AND is_active = TRUE`, s.now(), id)
		if err != nil {
			return fmt.Errorf("presentation: deactivate: %w", err)
		}
		if res.RowsAffected() == 0 {
			return nil // already inactive
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "presentation.deactivated", TargetType: "presentation", TargetID: id,
			After: map[string]any{"agent_id": agentID}})
	})
	if err != nil {
		return nil, err
	}
	return s.load(ctx, s.DB, id)
}

// Active returns what agentID's home page shows now: their active
// presentation, when its schedule includes the present. Readers are the
// agent and administrators; for anyone else, and for an id that is not an
// agent's, it returns agent_not_found. With nothing to show it returns
// no_active_presentation.
func (s *Service) Active(ctx context.Context, agentID string) (*Presentation, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if agentID == "" || !sees(p, agentID) {
		return nil, notFound("agent")
	}
	if _, err := s.agentFor(ctx, p, agentID, "path.agent_id", true); err != nil {
		return nil, err
	}
	now := s.now()
	var id string
	err = s.DB.QueryRow(ctx, `SELECT id FROM presentations WHERE agent_id = ? AND is_active = TRUE
		AND (starts_at IS NULL OR starts_at <= ?) AND (ends_at IS NULL OR ends_at > ?)`, agentID, now, now).Scan(&id)
	if errors.Is(err, database.ErrNoRows) {
		return nil, fail(CodeNoActive, "", "nothing to show now: no active presentation, or it is outside its schedule")
	}
	if err != nil {
		return nil, fmt.Errorf("presentation: active: %w", err)
	}
	return s.load(ctx, s.DB, id)
}

// load reads a presentation and its slides.
func (s *Service) load(ctx context.Context, q database.Querier, id string) (*Presentation, error) {
	pr := &Presentation{Slides: []Slide{}}
	var tpl *string
	err := q.QueryRow(ctx, `SELECT id, agent_id, title, description, template_id, is_active, starts_at, ends_at, created_at, updated_at
		FROM presentations WHERE id = ?`, id).Scan(&pr.ID, &pr.AgentID, &pr.Title, &pr.Description, &tpl, &pr.Active, &pr.StartsAt, &pr.EndsAt, &pr.CreatedAt, &pr.UpdatedAt)
	if errors.Is(err, database.ErrNoRows) {
		return nil, notFound("presentation")
	}
	if err != nil {
		return nil, fmt.Errorf("presentation: load: %w", err)
	}
	if tpl != nil {
		pr.TemplateID = *tpl
	}
	rows, err := q.Query(ctx, `SELECT s.id, s.position, s.type, s.duration_seconds, s.overlay,
		m.id, m.kind, m.content_type, m.size_bytes, m.width, m.height
		FROM presentation_slides s LEFT JOIN presentation_media m ON m.id = s.media_id
		WHERE s.presentation_id = ? ORDER BY s.position`, id)
	if err != nil {
		return nil, fmt.Errorf("presentation: load slides: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sl Slide
		var overlay, mID, mKind, mType *string
		var mSize, mW, mH *int64
		if err := rows.Scan(&sl.ID, &sl.Position, &sl.Type, &sl.DurationSeconds, &overlay, &mID, &mKind, &mType, &mSize, &mW, &mH); err != nil {
			return nil, fmt.Errorf("presentation: load slides: %w", err)
		}
		if overlay != nil {
			o, err := unmarshalOverlay(*overlay)
			if err != nil {
				return nil, err
			}
			sl.Overlay = o
		}
		if mID != nil {
			sl.Media = &MediaRef{ID: *mID, URL: MediaURL(*mID), Kind: deref(mKind), ContentType: deref(mType), SizeBytes: derefInt(mSize),
				Width: int(derefInt(mW)), Height: int(derefInt(mH))}
		}
		pr.Slides = append(pr.Slides, sl)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("presentation: load slides: %w", err)
	}
	return pr, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}
