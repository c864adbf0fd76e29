package persona

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/httpx"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/page"
)

// MoodInput is a check-in.
type MoodInput struct {
	Score    int      `json:"score" minimum:"1" maximum:"10" example:"6" doc:"1 (very low) to 10 (very good)"`
	Emotions []string `json:"emotions,omitempty" maxItems:"10" example:"[\"tired\",\"hopeful\"]"`
	Note     string   `json:"note,omitempty" maxLength:"2000" doc:"Private; stored encrypted"`
}

// Mood is a stored check-in.
type Mood struct {
	ID        string    `json:"id"`
	Score     int       `json:"score"`
	Emotions  []string  `json:"emotions"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func moodAAD(id string) []byte { return []byte("mood_checkins.note:" + id) }

// AddMood records a check-in for the caller.
func (s *Service) AddMood(ctx context.Context, in MoodInput) (*Mood, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	emotions := make([]string, 0, len(in.Emotions))
	for i, e := range in.Emotions {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" || len(e) > 30 {
			return nil, apperr.Field(fmt.Sprintf("body.emotions[%d]", i), "must be 1 to 30 characters")
		}
		emotions = append(emotions, e)
	}
	m := &Mood{ID: ids.New(), Score: in.Score, Emotions: emotions, Note: strings.TrimSpace(in.Note), CreatedAt: s.Now().UTC()}
	ej, _ := json.Marshal(m.Emotions)
	var note *string
	if m.Note != "" {
		sealed := s.Vault.Seal([]byte(m.Note), moodAAD(m.ID))
		note = &sealed
	}
	if _, err := s.DB.Exec(ctx, `INSERT INTO mood_checkins (id, user_id, score, emotions, note_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ID, p.UserID, m.Score, string(ej), note, m.CreatedAt); err != nil {
		return nil, fmt.Errorf("persona: add mood: %w", err)
	}
	return m, nil
}

// MoodQuery selects check-ins.
type MoodQuery struct {
	From   string `query:"from" format:"date-time"`
	To     string `query:"to" format:"date-time"`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
	Cursor string `query:"cursor" maxLength:"200"`
}

// Week is the summary of one week's check-ins (weeks start on Monday, UTC).
type Week struct {
	WeekStart string  `json:"week_start" example:"2026-11-16"`
	Count     int     `json:"count"`
	Average   float64 `json:"average"`
	Min       int     `json:"min"`
	Max       int     `json:"max"`
}

// MoodHistory is a page of check-ins and the weekly trend of the period.
type MoodHistory struct {
	Moods      []Mood `json:"moods"`
	NextCursor string `json:"next_cursor,omitempty"`
	Weeks      []Week `json:"weeks" doc:"Weekly averages over the whole period asked for (default: the last 12 weeks)"`
}

// Moods returns the caller's check-ins, newest first, and weekly trends.
func (s *Service) Moods(ctx context.Context, q MoodQuery) (*MoodHistory, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	from, err := httpx.ParseTime("query.from", q.From)
	if err != nil {
		return nil, err
	}
	to, err := httpx.ParseTime("query.to", q.To)
	if err != nil {
		return nil, err
	}
	if to.IsZero() {
		to = s.Now().Add(time.Minute)
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -84)
	}
	cur, err := page.Decode(q.Cursor)
	if err != nil {
		return nil, err
	}
	limit := page.Limit(q.Limit)
	out := &MoodHistory{Moods: []Mood{}, Weeks: []Week{}}
	args := []any{p.UserID, from, to}
	cond := ""
	if cur.ID != "" {
		cond = " AND id < ?"
		args = append(args, cur.ID)
	}
	rows, err := s.DB.Query(ctx, fmt.Sprintf(`SELECT id, score, emotions, note_sealed, created_at FROM mood_checkins
		WHERE user_id = ? AND created_at >= ? AND created_at < ?%s ORDER BY id DESC LIMIT %d`, cond, limit+1), args...)
	if err != nil {
		return nil, fmt.Errorf("persona: moods: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Mood
		var ej string
		var note *string
		if err := rows.Scan(&m.ID, &m.Score, &ej, &note, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("persona: moods: %w", err)
		}
		_ = json.Unmarshal([]byte(ej), &m.Emotions)
		if note != nil {
			if b, err := s.Vault.Open(*note, moodAAD(m.ID)); err == nil {
				m.Note = string(b)
			}
		}
		out.Moods = append(out.Moods, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out.Moods) > limit {
		out.Moods = out.Moods[:limit]
		out.NextCursor = page.Cursor{ID: out.Moods[limit-1].ID}.Encode()
	}
	if out.Weeks, err = s.weeks(ctx, p.UserID, from, to); err != nil {
		return nil, err
	}
	return out, nil
}

// weeks computes weekly figures in Go from the scores alone (a few hundred
// rows at most per user and period), the same on both databases.
func (s *Service) weeks(ctx context.Context, userID string, from, to time.Time) ([]Week, error) {
	rows, err := s.DB.Query(ctx, `SELECT score, created_at FROM mood_checkins WHERE user_id = ? AND created_at >= ? AND created_at < ?`, userID, from, to)
	if err != nil {
		return nil, fmt.Errorf("persona: mood weeks: %w", err)
	}
	defer rows.Close()
	type acc struct{ n, sum, min, max int }
	byWeek := map[string]*acc{}
	for rows.Next() {
		var score int
		var at time.Time
		if err := rows.Scan(&score, &at); err != nil {
			return nil, err
		}
		at = at.UTC()
		monday := at.AddDate(0, 0, -((int(at.Weekday()) + 6) % 7))
		k := monday.Format("2006-01-02")
		a := byWeek[k]
		if a == nil {
			a = &acc{min: score, max: score}
			byWeek[k] = a
		}
		a.n++
		a.sum += score
		a.min, a.max = min(a.min, score), max(a.max, score)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Week, 0, len(byWeek))
	for k, a := range byWeek {
		out = append(out, Week{WeekStart: k, Count: a.n, Average: math.Round(float64(a.sum)/float64(a.n)*100) / 100, Min: a.min, Max: a.max})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].WeekStart < out[j].WeekStart })
	return out, nil
}
