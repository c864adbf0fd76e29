// Package audit writes and reads the append-only audit log (PRODUCT.md
// P9): who did what to which object, before and after, from which IP, in
// which request. The database refuses updates and deletions of the log.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/database"
	"mitra/internal/platform/httpx"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/page"
)

// Entry is one event to record. Actor, IP and request id are taken from
// the context when not set. Before and After are marshalled to JSON; keep
// personal data out of them (record which fields changed, not their values).
type Entry struct {
	Action     string // e.g. "auth.login", "user.role_changed"
	ActorID    string
	ActorRole  string
	TargetType string // e.g. "user", "session", "flag"
	TargetID   string
	Before     any
	After      any
}

// Record writes e with q, usually inside the transaction of the change it
// describes, so the change and its record commit together.
func Record(ctx context.Context, q database.Querier, e Entry) error {
	if p, ok := access.From(ctx); ok && e.ActorID == "" {
		e.ActorID, e.ActorRole = p.UserID, string(p.Role)
	}
	var ip string
	if a := httpx.ClientIP(ctx); a.IsValid() {
		ip = a.String()
	}
	before, err := marshal(e.Before)
	if err != nil {
		return err
	}
	after, err := marshal(e.After)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO audit_log (id, at, actor_id, actor_role, action, target_type, target_id, before_data, after_data, ip, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ids.New(), time.Now(), nullable(e.ActorID), nullable(e.ActorRole), e.Action, e.TargetType, e.TargetID,
		before, after, ip, httpx.RequestID(ctx))
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

func marshal(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	s := string(b)
	return &s, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Stored is one stored audit entry.
type Stored struct {
	ID         string          `json:"id"`
	At         time.Time       `json:"at"`
	ActorID    *string         `json:"actor_id"`
	ActorRole  *string         `json:"actor_role"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
	IP         string          `json:"ip"`
	RequestID  string          `json:"request_id"`
}

// Filter selects audit entries, newest first.
type Filter struct {
	ActorID  string
	TargetID string
	Action   string // exact, or a prefix ending in "." ("auth.")
	From, To time.Time
	Limit    int
	Cursor   string
}

// List returns a page of entries and the cursor of the next page ("" at
// the end). It returns an Invalid error for a malformed cursor.
func List(ctx context.Context, q database.Querier, f Filter) ([]Stored, string, error) {
	cur, err := page.Decode(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := page.Limit(f.Limit)
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			// Prefix match without LIKE wildcards or collation-dependent ranges.
			where = append(where, "substr(action, 1, ?) = ?")
			args = append(args, len(f.Action), f.Action)
		} else {
			add("action = ?", f.Action)
		}
	}
	if !f.From.IsZero() {
		add("at >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("at < ?", f.To)
	}
	if cur.ID != "" {
		add("id < ?", cur.ID)
	}
	query := `SELECT id, at, actor_id, actor_role, action, target_type, target_id, before_data, after_data, ip, request_id FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit+1)
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var r Stored
		var before, after *string
		if err := rows.Scan(&r.ID, &r.At, &r.ActorID, &r.ActorRole, &r.Action, &r.TargetType, &r.TargetID, &before, &after, &r.IP, &r.RequestID); err != nil {
			return nil, "", fmt.Errorf("audit: list: %w", err)
		}
		if before != nil {
			r.Before = json.RawMessage(*before)
		}
		if after != nil {
			r.After = json.RawMessage(*after)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("audit: list: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = page.Cursor{ID: out[limit-1].ID}.Encode()
	}
	return out, next, nil
}
