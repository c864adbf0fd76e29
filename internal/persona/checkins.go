package persona

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"mitra/internal/persona/crisis"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
)

// Check-in statuses.
const (
	CheckinPending  = "pending"
	CheckinAnswered = "answered"
	CheckinExpired  = "expired"
)

// How a person answers a check-in.
const (
	FeelingBetter = "better"
	FeelingSame   = "same"
	FeelingWorse  = "worse"
)

// CheckIn is a follow-up question put to a person some time after a
// crisis notice: how are you feeling now?
type CheckIn struct {
	ID         string     `json:"id"`
	EventID    *string    `json:"event_id,omitempty"`
	Level      string     `json:"level" enum:"moderate,high,imminent"`
	Status     string     `json:"status" enum:"pending,answered,expired"`
	Prompt     string     `json:"prompt" doc:"The question to show, in the person's language"`
	Language   string     `json:"language" enum:"id,en"`
	Feeling    *string    `json:"feeling,omitempty" enum:"better,same,worse"`
	Note       *string    `json:"note,omitempty"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

var checkinPrompt = map[string]string{
	"en": "Checking in on you: how are you feeling since we last talked?",
	"id": "Aku mampir sebentar: bagaimana perasaanmu sejak terakhir kita ngobrol?",
}

// worseReply answers a check-in answered "worse"; {1} is the emergency
// number of the person's country (emergencyOr).
var worseReply = map[string]string{
	"en": "Thank you for telling me. You don't have to go through this alone: our care team has been told, and the people below are there for you now. If you are in danger, call {1} now.",
	"id": "Terima kasih sudah cerita. Kamu tidak harus melewati ini sendirian: tim pendamping kami sudah diberi tahu, dan layanan di bawah ini siap membantumu sekarang. Kalau kamu dalam bahaya, hubungi {1} sekarang juga.",
}

// CrisisCheckinArgs is the job, scheduled after the rule's delay, that
// puts a check-in to the user.
type CrisisCheckinArgs struct {
	EventID  string `json:"event_id,omitempty" river:"unique"`
	UserID   string `json:"user_id" river:"unique"`
	Level    string `json:"level" river:"unique"`
	Category string `json:"category"`
	Language string `json:"language"`
}

// Kind names the job.
func (CrisisCheckinArgs) Kind() string { return "crisis_checkin" }

// CrisisCheckinExpireArgs is the job that closes a check-in nobody
// answered.
type CrisisCheckinExpireArgs struct {
	CheckinID string `json:"checkin_id" river:"unique"`
}

// Kind names the job.
func (CrisisCheckinExpireArgs) Kind() string { return "crisis_checkin_expire" }

// scheduleCheckin queues a check-in after delay. Without an event (a
// moderate notice in chat) one is queued per user and level a day at most.
func (s *Service) scheduleCheckin(ctx context.Context, tx *database.Tx, a CrisisCheckinArgs, delay time.Duration) error {
	if a.Language != "id" {
		a.Language = "en"
	}
	if s.Jobs == nil {
		return nil
	}
	opts := once(s.Now().Add(delay))
	if a.EventID == "" {
		opts.UniqueOpts.ByPeriod = 24 * time.Hour
	}
	res, err := s.Jobs.InsertTx(ctx, tx, a, opts)
	if err != nil {
		return err
	}
	target, targetType := a.EventID, "crisis_event"
	if target == "" {
		target, targetType = a.UserID, "user"
	}
	return audit.Record(ctx, tx, audit.Entry{Action: "crisis.checkin_scheduled", ActorID: a.UserID, TargetType: targetType, TargetID: target,
		After: map[string]any{"level": a.Level, "after": delay.String(), "job_id": res.ID}})
}

type checkinWorker struct {
	river.WorkerDefaults[CrisisCheckinArgs]
	s *Service
}

// Work creates the check-in (unless the user has one pending, or the
// event's check-in was made), and schedules its expiry.
func (w *checkinWorker) Work(ctx context.Context, job *river.Job[CrisisCheckinArgs]) error {
	s, a := w.s, job.Args
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		step := "checkin:" + a.Level
		if a.EventID != "" {
			if done, err := s.stepIsDone(ctx, tx, a.EventID, step); err != nil || done {
				return err
			}
		}
		// A check-in queued before the account was erased (or for an event
		// that is gone) must not bring the person's data back.
		if reason, err := s.checkinUnwanted(ctx, tx, a); err != nil || reason != "" {
			if err != nil {
				return err
			}
			after := map[string]any{"level": a.Level, "skipped": reason}
			if reason != "event_gone" && a.EventID != "" {
				return s.stepDone(ctx, tx, a.EventID, step, "crisis.checkin_skipped", after)
			}
			after["event_id"] = a.EventID
			return audit.Record(ctx, tx, audit.Entry{Action: "crisis.checkin_skipped", TargetType: "user", TargetID: a.UserID, After: after})
		}
		// One pending check-in at a time; but a check-in of a more serious
		// level replaces the pending ones below it (after a moderate notice,
		// a high-risk event's check-in is the one that counts: its silence
		// reopens the event).
		newLevel, _ := crisis.ParseLevel(a.Level)
		var pending []string
		covered := false
		rows, err := tx.Query(ctx, `SELECT id, level FROM crisis_checkins WHERE user_id = ? AND status = ?`, a.UserID, CheckinPending)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, level string
			if err := rows.Scan(&id, &level); err != nil {
				rows.Close()
				return err
			}
			if l, _ := crisis.ParseLevel(level); l >= newLevel {
				covered = true
			}
			pending = append(pending, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		now := s.Now()
		id := ids.New()
		after := map[string]any{"level": a.Level, "checkin_id": id}
		if covered {
			after = map[string]any{"level": a.Level, "skipped": "a check-in is already pending"}
		} else {
			for _, old := range pending {
				if _, err := tx.Exec(ctx, `UPDATE crisis_checkins SET status = ? WHERE id = ? AND status = ?`, CheckinExpired, old, CheckinPending); err != nil {
					return err
				}
				if err := audit.Record(ctx, tx, audit.Entry{Action: "crisis.checkin_expired", TargetType: "crisis_checkin", TargetID: old,
					After: map[string]any{"reason": "superseded", "by_level": a.Level, "by_checkin": id}}); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO crisis_checkins (id, user_id, event_id, level, category, language, status, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, a.UserID, nullString(a.EventID), a.Level, a.Category, a.Language, CheckinPending, now.Add(checkinAnswerWindow), now); err != nil {
				return err
			}
			if s.Jobs != nil {
				if _, err := s.Jobs.InsertTx(ctx, tx, CrisisCheckinExpireArgs{CheckinID: id}, once(now.Add(checkinAnswerWindow))); err != nil {
					return err
				}
			}
		}
		if a.EventID != "" {
			return s.stepDone(ctx, tx, a.EventID, step, "crisis.checkin_created", after)
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "crisis.checkin_created", TargetType: "user", TargetID: a.UserID, After: after})
	})
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type checkinExpireWorker struct {
	river.WorkerDefaults[CrisisCheckinExpireArgs]
	s *Service
}

// Work closes an unanswered check-in. After a high or imminent event, no
// answer within the window puts the event back in the counselor queue: the
// person went silent after saying they were at risk.
func (w *checkinExpireWorker) Work(ctx context.Context, job *river.Job[CrisisCheckinExpireArgs]) error {
	s := w.s
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		var userID, level string
		var eventID *string
		err := tx.QueryRow(ctx, `SELECT user_id, event_id, level FROM crisis_checkins WHERE id = ? AND status = ?`, job.Args.CheckinID, CheckinPending).Scan(&userID, &eventID, &level)
		if errors.Is(err, database.ErrNoRows) {
			return nil // answered (or erased) in time
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE crisis_checkins SET status = ? WHERE id = ?`, CheckinExpired, job.Args.CheckinID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{Action: "crisis.checkin_expired", TargetType: "crisis_checkin", TargetID: job.Args.CheckinID,
			After: map[string]any{"level": level}}); err != nil {
			return err
		}
		if l, _ := crisis.ParseLevel(level); l >= crisis.LevelHigh && eventID != nil {
			return s.reopen(ctx, tx, *eventID, "checkin_unanswered")
		}
		return nil
	})
}

// checkinUnwanted returns why a check-in must not be created: the account
// was erased ("user_erased") or does not exist ("user_gone"), or its event
// is not there ("event_gone"); "" when it may be.
func (s *Service) checkinUnwanted(ctx context.Context, tx *database.Tx, a CrisisCheckinArgs) (string, error) {
	var status string
	err := tx.QueryRow(ctx, `SELECT status FROM users WHERE id = ?`, a.UserID).Scan(&status)
	switch {
	case errors.Is(err, database.ErrNoRows):
		return "user_gone", nil
	case err != nil:
		return "", err
	case status == userErased:
		return "user_erased", nil
	}
	if a.EventID != "" {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM crisis_events WHERE id = ? AND user_id = ?`, a.EventID, a.UserID).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return "event_gone", nil
		}
	}
	return "", nil
}

// userErased is the status of an erased account in users (auth.StatusErased;
// the erasure keeps the row, anonymised).
const userErased = "erased"

// reopen puts an event back in the counselor queue (open again, not
// acknowledged), notifies the counselor and schedules a new escalation.
func (s *Service) reopen(ctx context.Context, tx *database.Tx, eventID, reason string) error {
	var status, level string
	var round int
	if err := tx.QueryRow(ctx, `SELECT status, level, reopen_count FROM crisis_events WHERE id = ?`, eventID).Scan(&status, &level, &round); err != nil {
		return err
	}
	round++
	now := s.Now()
	if _, err := tx.Exec(ctx, `UPDATE crisis_events SET status = ?, acknowledged_by = NULL, acknowledged_at = NULL, resolved_by = NULL, resolved_at = NULL,
		reopen_count = ?, updated_at = ? WHERE id = ?`, EventOpen, round, now, eventID); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, audit.Entry{Action: "crisis.event_reopened", TargetType: "crisis_event", TargetID: eventID,
		Before: map[string]any{"status": status}, After: map[string]any{"status": EventOpen, "reason": reason, "round": round}}); err != nil {
		return err
	}
	if s.Jobs == nil {
		return nil
	}
	rules, err := loadRules(ctx, tx)
	if err != nil {
		return err
	}
	l, _ := crisis.ParseLevel(level)
	if _, err := s.Jobs.InsertTx(ctx, tx, CrisisNotifyArgs{EventID: eventID, Reason: "reopened:" + reason, Round: round}, once(time.Time{})); err != nil {
		return err
	}
	_, err = s.Jobs.InsertTx(ctx, tx, CrisisEscalateArgs{EventID: eventID, Round: round, Level: level}, once(now.Add(rules.escalateAfter(l, s.workflow.EscalateAfter))))
	return err
}

func checkinNoteAAD(id string) []byte { return []byte("crisis_checkins.note:" + id) }

const checkinColumns = `id, event_id, level, status, language, feeling, note_sealed, expires_at, answered_at, created_at`

func (s *Service) scanCheckin(sc interface{ Scan(...any) error }) (CheckIn, error) {
	var c CheckIn
	var note *string
	if err := sc.Scan(&c.ID, &c.EventID, &c.Level, &c.Status, &c.Language, &c.Feeling, &note, &c.ExpiresAt, &c.AnsweredAt, &c.CreatedAt); err != nil {
		return c, err
	}
	if note != nil {
		if n, err := s.Vault.OpenString(*note, string(checkinNoteAAD(c.ID))); err == nil {
			c.Note = &n
		}
	}
	c.Prompt = textIn(checkinPrompt, c.Language)
	c.ExpiresAt, c.CreatedAt = c.ExpiresAt.UTC(), c.CreatedAt.UTC()
	if c.AnsweredAt != nil {
		*c.AnsweredAt = c.AnsweredAt.UTC()
	}
	return c, nil
}

// Checkins lists the caller's check-ins waiting for an answer, oldest
// first.
func (s *Service) Checkins(ctx context.Context) ([]CheckIn, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT `+checkinColumns+` FROM crisis_checkins WHERE user_id = ? AND status = ? AND expires_at > ? ORDER BY created_at`,
		p.UserID, CheckinPending, s.Now())
	if err != nil {
		return nil, fmt.Errorf("persona: check-ins: %w", err)
	}
	defer rows.Close()
	out := []CheckIn{}
	for rows.Next() {
		c, err := s.scanCheckin(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CheckinAnswer is the person's answer.
type CheckinAnswer struct {
	Feeling string `json:"feeling" enum:"better,same,worse"`
	Note    string `json:"note,omitempty" maxLength:"2000" doc:"Stored sealed; part of your data export"`
}

// CheckinResult is the answered check-in and, when the person feels
// worse, a reply and the crisis resources to show at once.
type CheckinResult struct {
	CheckIn   CheckIn    `json:"check_in"`
	Reply     string     `json:"reply,omitempty"`
	Resources []Resource `json:"resources,omitempty"`
}

var errCheckinNotFound = apperr.New(apperr.NotFound, "check-in not found")

// AnswerCheckin records the caller's answer to one of their check-ins
// (404 for anyone else's; 409 checkin_closed when answered or expired).
// "worse" puts the person back in the counselor queue: the event reopens,
// or, after a notice that had none, a new event opens.
func (s *Service) AnswerCheckin(ctx context.Context, id string, in CheckinAnswer) (*CheckinResult, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !ids.Valid(id) {
		return nil, errCheckinNotFound
	}
	var lang, level, category string
	var eventID *string
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		var status string
		var expires time.Time
		err := tx.QueryRow(ctx, `SELECT status, event_id, level, category, language, expires_at FROM crisis_checkins WHERE id = ? AND user_id = ?`, id, p.UserID).
			Scan(&status, &eventID, &level, &category, &lang, &expires)
		if errors.Is(err, database.ErrNoRows) {
			return errCheckinNotFound
		}
		if err != nil {
			return err
		}
		if status != CheckinPending || !s.Now().Before(expires) {
			return &apperr.Error{Code: "checkin_closed", Status: 409, Message: "this check-in is closed"}
		}
		now := s.Now()
		var note *string
		if in.Note != "" {
			sealed := s.Vault.Seal([]byte(in.Note), checkinNoteAAD(id))
			note = &sealed
		}
		if _, err := tx.Exec(ctx, `UPDATE crisis_checkins SET status = ?, feeling = ?, note_sealed = ?, answered_at = ? WHERE id = ?`,
			CheckinAnswered, in.Feeling, note, now, id); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{Action: "crisis.checkin_answered", TargetType: "crisis_checkin", TargetID: id,
			After: map[string]any{"feeling": in.Feeling, "note": in.Note != ""}}); err != nil {
			return err
		}
		if in.Feeling != FeelingWorse {
			return nil
		}
		if eventID != nil {
			return s.reopen(ctx, tx, *eventID, "checkin_worse")
		}
		// The answer and the event commit together: an answered check-in
		// cannot be answered again, so an event lost after it would be lost
		// for good.
		l, _ := crisis.ParseLevel(level)
		_, err = s.openEventTx(ctx, tx, p.UserID, l, crisis.Category(category), []string{"checkin:worse"}, "checkin", lang)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &CheckinResult{}
	if in.Feeling == FeelingWorse {
		country, res := s.crisisResources(ctx, p.UserID, lang)
		out.Reply, out.Resources = fill(textIn(worseReply, lang), []string{emergencyOr(country, res, lang)}), res
	}
	c, err := s.scanCheckin(s.DB.QueryRow(ctx, `SELECT `+checkinColumns+` FROM crisis_checkins WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	out.CheckIn = c
	return out, nil
}
