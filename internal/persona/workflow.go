package persona

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
)

// Enqueuer inserts durable jobs in a transaction (jobs.Queue).
type Enqueuer interface {
	InsertTx(ctx context.Context, tx *database.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error)
}

// Workflow configures what follows a crisis event: the on-call counselor
// is notified (in the queue always; by a signed webhook when configured),
// and an event nobody acknowledges within EscalateAfter is escalated. Each
// step is a durable job (it survives restarts and runs once) and is
// audited.
type Workflow struct {
	WebhookURL    string        // the on-call system (PagerDuty, Opsgenie, a chat bot...)
	WebhookSecret string        // HMAC-SHA256 key of the X-Mitra-Signature header
	EscalateAfter time.Duration // default 15 minutes
	HTTPClient    *http.Client
}

// CrisisNotifyArgs is the job that notifies the counselor of an event.
type CrisisNotifyArgs struct {
	EventID    string `json:"event_id"`
	Escalation bool   `json:"escalation"`
}

// Kind names the job.
func (CrisisNotifyArgs) Kind() string { return "crisis_notify" }

// CrisisEscalateArgs is the job that escalates an unacknowledged event.
type CrisisEscalateArgs struct {
	EventID string `json:"event_id"`
}

// Kind names the job.
func (CrisisEscalateArgs) Kind() string { return "crisis_escalate" }

// RegisterJobs adds the crisis workflow's workers.
func (s *Service) RegisterJobs(workers *river.Workers, w Workflow) {
	if w.EscalateAfter <= 0 {
		w.EscalateAfter = 15 * time.Minute
	}
	if w.HTTPClient == nil {
		w.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	s.workflow = w
	river.AddWorker(workers, &notifyWorker{s: s})
	river.AddWorker(workers, &escalateWorker{s: s})
}

// startWorkflow queues the first steps of a new event in its transaction.
func (s *Service) startWorkflow(ctx context.Context, tx *database.Tx, eventID string) error {
	if s.Jobs == nil {
		return nil // no job queue wired (tests of the service alone)
	}
	if _, err := s.Jobs.InsertTx(ctx, tx, CrisisNotifyArgs{EventID: eventID}, &river.InsertOpts{MaxAttempts: 20}); err != nil {
		return err
	}
	_, err := s.Jobs.InsertTx(ctx, tx, CrisisEscalateArgs{EventID: eventID}, &river.InsertOpts{ScheduledAt: s.Now().Add(s.workflow.EscalateAfter), MaxAttempts: 20})
	return err
}

type notifyWorker struct {
	river.WorkerDefaults[CrisisNotifyArgs]
	s *Service
}

// Work sends the signed webhook (when configured) and audits the step.
func (w *notifyWorker) Work(ctx context.Context, job *river.Job[CrisisNotifyArgs]) error {
	e, err := w.s.Event(ctx, job.Args.EventID)
	if err != nil {
		return err
	}
	wf := w.s.workflow
	if wf.WebhookURL != "" {
		payload, _ := json.Marshal(map[string]any{"type": "crisis_event", "escalation": job.Args.Escalation,
			"event": map[string]any{"id": e.ID, "level": e.Level, "category": e.Category, "source": e.Source, "status": e.Status, "created_at": e.CreatedAt}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, wf.WebhookURL, bytes.NewReader(payload))
		if err != nil {
			return river.JobCancel(errors.New("crisis webhook URL is invalid"))
		}
		mac := hmac.New(sha256.New, []byte(wf.WebhookSecret))
		mac.Write(payload)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Mitra-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		req.Header.Set("Idempotency-Key", fmt.Sprintf("crisis-%s-%t", e.ID, job.Args.Escalation))
		resp, err := wf.HTTPClient.Do(req)
		if err != nil {
			return errors.New("crisis webhook unreachable") // retried with backoff
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("crisis webhook answered %d", resp.StatusCode)
		}
	}
	action := "crisis.counselor_notified"
	if job.Args.Escalation {
		action = "crisis.escalation_notified"
	}
	return audit.Record(ctx, w.s.DB, audit.Entry{Action: action, TargetType: "crisis_event", TargetID: e.ID,
		After: map[string]any{"webhook": wf.WebhookURL != "", "attempt": job.Attempt}})
}

type escalateWorker struct {
	river.WorkerDefaults[CrisisEscalateArgs]
	s *Service
}

// Work escalates the event if nobody has acknowledged it yet.
func (w *escalateWorker) Work(ctx context.Context, job *river.Job[CrisisEscalateArgs]) error {
	e, err := w.s.Event(ctx, job.Args.EventID)
	if err != nil {
		return err
	}
	if e.Status != EventOpen {
		return nil // acknowledged or resolved in time
	}
	return w.s.DB.InTx(ctx, func(tx *database.Tx) error {
		if err := audit.Record(ctx, tx, audit.Entry{Action: "crisis.event_escalated", TargetType: "crisis_event", TargetID: e.ID,
			After: map[string]any{"unacknowledged_for": w.s.workflow.EscalateAfter.String()}}); err != nil {
			return err
		}
		if w.s.Jobs == nil {
			return nil
		}
		_, err := w.s.Jobs.InsertTx(ctx, tx, CrisisNotifyArgs{EventID: e.ID, Escalation: true}, &river.InsertOpts{MaxAttempts: 20})
		return err
	})
}
