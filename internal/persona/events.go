package persona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"mitra/internal/persona/crisis"
	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/logging"
)

// Event statuses.
const (
	EventOpen         = "open"
	EventAcknowledged = "acknowledged"
	EventResolved     = "resolved"
)

// Event is a crisis event in the counselor queue. It holds what the work
// needs (who, how serious, why, when) and no message text.
type Event struct {
	ID             string          `json:"id"`
	UserID         string          `json:"user_id"`
	Level          crisis.Level    `json:"level"`
	Category       crisis.Category `json:"category"`
	Signals        []string        `json:"signals"`
	Source         string          `json:"source" enum:"chat,assessment,checkin"`
	Status         string          `json:"status" enum:"open,acknowledged,resolved"`
	AcknowledgedBy *string         `json:"acknowledged_by,omitempty"`
	AcknowledgedAt *time.Time      `json:"acknowledged_at,omitempty"`
	ResolvedBy     *string         `json:"resolved_by,omitempty"`
	ResolvedAt     *time.Time      `json:"resolved_at,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	ReopenCount    int             `json:"reopen_count" doc:"Times a follow-up check-in put the event back in the queue"`
	AlertsFailed   int             `json:"alerts_failed" doc:"Alerts to emergency contacts that could not be delivered (the counselor may need to call them)"`
	Notes          []EventNote     `json:"notes,omitempty"`
}

// EventNote is a counselor's note, stored sealed.
type EventNote struct {
	ID        string    `json:"id"`
	AuthorID  string    `json:"author_id"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// recordNotice counts a notice shown, without who saw it (for the report).
func (s *Service) recordNotice(ctx context.Context, level crisis.Level, source string) {
	if _, err := s.DB.Exec(context.WithoutCancel(ctx), `INSERT INTO crisis_notices (id, level, source, created_at) VALUES (?, ?, ?, ?)`,
		ids.New(), level.String(), source, s.Now()); err != nil {
		logging.FromContext(ctx).Error("crisis notice not counted", "err", err)
	}
}

// openEvent creates a crisis event, or raises the level of the user's
// event still open from the last hour (one event per episode, not one per
// message), and starts the workflow the rules give the level (for a raised
// event, the new level's actions not done yet). It is audited. It does not
// depend on the client staying. lang is the user's language (id or en).
func (s *Service) openEvent(ctx context.Context, userID string, level crisis.Level, cat crisis.Category, signals []string, source, lang string) (string, error) {
	ctx = context.WithoutCancel(ctx)
	var id string
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		var err error
		id, err = s.openEventTx(ctx, tx, userID, level, cat, signals, source, lang)
		return err
	})
	return id, err
}

// openEventTx is openEvent in the caller's transaction, so that what
// caused the event (a check-in answered "worse", a PHQ-9 item 9) and the
// event commit together or not at all.
func (s *Service) openEventTx(ctx context.Context, tx *database.Tx, userID string, level crisis.Level, cat crisis.Category, signals []string, source, lang string) (string, error) {
	if signals == nil {
		signals = []string{}
	}
	sj, _ := json.Marshal(signals)
	var id string
	err := func() error {
		// Two messages of one user at once must find the same event, not
		// open two (and start two workflows). SQLite serialises writers
		// already (IMMEDIATE transactions); PostgreSQL takes a lock per user
		// until the transaction ends.
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		now := s.Now()
		var cur string
		err := tx.QueryRow(ctx, `SELECT id, level FROM crisis_events WHERE user_id = ? AND status <> ? AND created_at > ? ORDER BY created_at DESC LIMIT 1`,
			userID, EventResolved, now.Add(-time.Hour)).Scan(&id, &cur)
		switch {
		case errors.Is(err, database.ErrNoRows):
			id = ids.New()
			if _, err := tx.Exec(ctx, `INSERT INTO crisis_events (id, user_id, level, category, signals, source, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, userID, level.String(), string(cat), string(sj), source, EventOpen, now, now); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Entry{Action: "crisis.event_created", ActorID: userID, TargetType: "crisis_event", TargetID: id,
				After: map[string]any{"level": level.String(), "category": cat, "source": source}}); err != nil {
				return err
			}
			return s.startWorkflow(ctx, tx, eventStart{ID: id, UserID: userID, Level: level, Category: cat, Source: source, Language: lang})
		case err != nil:
			return err
		}
		prev, _ := crisis.ParseLevel(cur)
		if level <= prev {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE crisis_events SET level = ?, category = ?, signals = ?, updated_at = ? WHERE id = ?`, level.String(), string(cat), string(sj), now, id); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{Action: "crisis.event_raised", ActorID: userID, TargetType: "crisis_event", TargetID: id,
			Before: map[string]any{"level": cur}, After: map[string]any{"level": level.String()}}); err != nil {
			return err
		}
		return s.startWorkflow(ctx, tx, eventStart{ID: id, UserID: userID, Level: level, Category: cat, Source: source, Language: lang, Raised: true})
	}()
	return id, err
}

// lockUser serialises, per user, the transactions that open or reopen a
// crisis event (a transaction-scoped advisory lock on PostgreSQL; SQLite
// has one writer at a time).
func lockUser(ctx context.Context, tx *database.Tx, userID string) error {
	if tx.Dialect() != database.Postgres {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext(CAST(? AS text)))`, "crisis_event:"+userID)
	return err
}

const eventColumns = `id, user_id, level, category, signals, source, status, acknowledged_by, acknowledged_at, resolved_by, resolved_at, created_at, updated_at, reopen_count, alerts_failed`

func scanEvent(s interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var level, cat, sigs string
	if err := s.Scan(&e.ID, &e.UserID, &level, &cat, &sigs, &e.Source, &e.Status, &e.AcknowledgedBy, &e.AcknowledgedAt, &e.ResolvedBy, &e.ResolvedAt, &e.CreatedAt, &e.UpdatedAt, &e.ReopenCount, &e.AlertsFailed); err != nil {
		return e, err
	}
	e.Level, _ = crisis.ParseLevel(level)
	e.Category = crisis.Category(cat)
	_ = json.Unmarshal([]byte(sigs), &e.Signals)
	return e, nil
}

// Events lists the queue, most serious and oldest first among those not
// resolved (or with the given status).
func (s *Service) Events(ctx context.Context, status string, limit int) ([]Event, error) {
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	cond, args := `status <> ?`, []any{EventResolved}
	if status != "" {
		cond, args = `status = ?`, []any{status}
	}
	rows, err := s.DB.Query(ctx, fmt.Sprintf(`SELECT `+eventColumns+` FROM crisis_events WHERE %s
		ORDER BY CASE level WHEN 'imminent' THEN 0 WHEN 'high' THEN 1 WHEN 'moderate' THEN 2 ELSE 3 END, created_at LIMIT %d`, cond, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("persona: events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("persona: events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

var errEventNotFound = apperr.New(apperr.NotFound, "crisis event not found")

func noteAAD(id string) []byte { return []byte("crisis_event_notes.note:" + id) }

// Event returns one event with its notes.
func (s *Service) Event(ctx context.Context, id string) (*Event, error) {
	if !ids.Valid(id) {
		return nil, errEventNotFound
	}
	e, err := scanEvent(s.DB.QueryRow(ctx, `SELECT `+eventColumns+` FROM crisis_events WHERE id = ?`, id))
	if errors.Is(err, database.ErrNoRows) {
		return nil, errEventNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("persona: event: %w", err)
	}
	rows, err := s.DB.Query(ctx, `SELECT id, author_id, note_sealed, created_at FROM crisis_event_notes WHERE event_id = ? ORDER BY created_at`, id)
	if err != nil {
		return nil, fmt.Errorf("persona: event notes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n EventNote
		var sealed string
		if err := rows.Scan(&n.ID, &n.AuthorID, &sealed, &n.CreatedAt); err != nil {
			return nil, err
		}
		if b, err := s.Vault.Open(sealed, noteAAD(n.ID)); err == nil {
			n.Note = string(b)
		}
		e.Notes = append(e.Notes, n)
	}
	return &e, rows.Err()
}

// Transition acknowledges or resolves an event (audited); a note may go
// with it.
func (s *Service) Transition(ctx context.Context, id, to, note string) (*Event, error) {
	p, ok := access.From(ctx)
	if !ok {
		return nil, apperr.New(apperr.Unauthorized, "missing or invalid access token")
	}
	if !ids.Valid(id) {
		return nil, errEventNotFound
	}
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM crisis_events WHERE id = ?`, id).Scan(&status)
		if errors.Is(err, database.ErrNoRows) {
			return errEventNotFound
		}
		if err != nil {
			return err
		}
		now := s.Now()
		switch {
		case to == EventAcknowledged && status == EventOpen:
			_, err = tx.Exec(ctx, `UPDATE crisis_events SET status = ?, acknowledged_by = ?, acknowledged_at = ?, updated_at = ? WHERE id = ?`, to, p.UserID, now, now, id)
		case to == EventResolved && status != EventResolved:
			_, err = tx.Exec(ctx, `UPDATE crisis_events SET status = ?, resolved_by = ?, resolved_at = ?, updated_at = ? WHERE id = ?`, to, p.UserID, now, now, id)
		case to == "" && note != "":
			// a note alone
		default:
			return &apperr.Error{Code: "invalid_transition", Status: 409, Message: fmt.Sprintf("a %s event cannot become %s", status, to)}
		}
		if err != nil {
			return err
		}
		if note != "" {
			nid := ids.New()
			if _, err := tx.Exec(ctx, `INSERT INTO crisis_event_notes (id, event_id, author_id, note_sealed, created_at) VALUES (?, ?, ?, ?, ?)`,
				nid, id, p.UserID, s.Vault.Seal([]byte(note), noteAAD(nid)), now); err != nil {
				return err
			}
		}
		action := "crisis.event_" + to
		if to == "" {
			action = "crisis.event_noted"
		}
		return audit.Record(ctx, tx, audit.Entry{Action: action, TargetType: "crisis_event", TargetID: id,
			Before: map[string]any{"status": status}, After: map[string]any{"status": map[bool]string{true: status, false: to}[to == ""], "note": note != ""}})
	})
	if err != nil {
		return nil, err
	}
	return s.Event(ctx, id)
}

// ReportRow counts notices and events of one day and level.
type ReportRow struct {
	Day     string `json:"day"`
	Level   string `json:"level"`
	Notices int    `json:"notices" doc:"Referral notices shown (crisis objects in chat, PHQ-9 item 9)"`
	Events  int    `json:"events" doc:"Crisis events opened"`
}

// Report counts referral notices and events per day and level between
// from and to, with no user identifiers.
func (s *Service) Report(ctx context.Context, from, to time.Time) ([]ReportRow, error) {
	if to.IsZero() {
		to = s.Now().Add(time.Minute)
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	rows := map[[2]string]*ReportRow{}
	for _, q := range []struct {
		table string
		add   func(r *ReportRow)
	}{{"crisis_notices", func(r *ReportRow) { r.Notices++ }}, {"crisis_events", func(r *ReportRow) { r.Events++ }}} {
		rs, err := s.DB.Query(ctx, `SELECT level, created_at FROM `+q.table+` WHERE created_at >= ? AND created_at < ?`, from, to)
		if err != nil {
			return nil, fmt.Errorf("persona: report: %w", err)
		}
		for rs.Next() {
			var level string
			var at time.Time
			if err := rs.Scan(&level, &at); err != nil {
				rs.Close()
				return nil, err
			}
			k := [2]string{at.UTC().Format("2006-01-02"), level}
			r := rows[k]
			if r == nil {
				r = &ReportRow{Day: k[0], Level: k[1]}
				rows[k] = r
			}
			q.add(r)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]ReportRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, *r)
	}
	sortReport(out)
	return out, nil
}

func sortReport(rs []ReportRow) {
	order := map[string]int{"imminent": 0, "high": 1, "moderate": 2, "low": 3, "none": 4}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Day != rs[j].Day {
			return rs[i].Day < rs[j].Day
		}
		return order[rs[i].Level] < order[rs[j].Level]
	})
}
