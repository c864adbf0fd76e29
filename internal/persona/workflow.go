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
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"mitra/internal/persona/crisis"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/logging"
	"mitra/internal/platform/sms"
	"mitra/internal/platform/whatsapp"
)

// Enqueuer inserts durable jobs in a transaction (jobs.Queue).
type Enqueuer interface {
	InsertTx(ctx context.Context, tx *database.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error)
}

// TextSenders deliver messages to emergency contacts; a nil sender means
// the channel is not offered (contacts cannot choose it).
type TextSenders struct {
	SMS      sms.TemplateSender
	WhatsApp whatsapp.TemplateSender
	// SMSTemplates, when not nil, holds the templates the SMS sender has,
	// by sms.TemplateKey (MSG91's flows): SMS is offered to a contact only
	// in a language with both contact templates, so that no alert is
	// accepted for a channel that cannot carry it. Nil: every language
	// (the development log sender).
	SMSTemplates map[string]string
}

// ContactTemplates are the templates every channel needs in each language
// it is offered in.
var ContactTemplates = []string{templateInvite, templateAlert}

// ContactLanguages are the languages of messages to contacts.
var ContactLanguages = []string{"id", "en"}

// Workflow configures what follows a crisis event. What happens at each
// level is decided by the rules (GET/PUT /api/v1/crisis/rules, read when
// the event opens); each action is a durable job that survives restarts,
// runs once (a unique job, and a step recorded in crisis_steps before any
// second run could repeat its effect) and is audited.
type Workflow struct {
	WebhookURL    string        // the on-call system (PagerDuty, Opsgenie, a chat bot...)
	WebhookSecret string        // HMAC-SHA256 key of the X-Mitra-Signature header
	EscalateAfter time.Duration // escalation of rules that set none; default 15 minutes
	PublicURL     string        // this server as contacts reach it (links in messages)
	HTTPClient    *http.Client
}

// Waits of the workflow.
const (
	checkinAnswerWindow  = 24 * time.Hour // a check-in not answered by then expires
	contactAlertCooldown = 6 * time.Hour  // a contact gets at most one alert in this time
	staleAlertAge        = 24 * time.Hour // an alert not sent by then is not sent
	jobAttempts          = 20
)

// once are the insert options of a workflow step: unique by its args (the
// fields tagged river:"unique"), so a step queued twice runs once.
func once(at time.Time) *river.InsertOpts {
	return &river.InsertOpts{MaxAttempts: jobAttempts, ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// CrisisNotifyArgs is the job that notifies the counselor of an event.
type CrisisNotifyArgs struct {
	EventID    string `json:"event_id" river:"unique"`
	Escalation bool   `json:"escalation" river:"unique"`
	// Reason is empty for a new event, "raised:<level>" when an open event
	// became more serious, "reopened:<why>" after a check-in.
	Reason string `json:"reason,omitempty" river:"unique"`
	Round  int    `json:"round,omitempty" river:"unique"` // the reopening it belongs to
}

// Kind names the job.
func (CrisisNotifyArgs) Kind() string { return "crisis_notify" }

func (a CrisisNotifyArgs) step() string {
	switch {
	case a.Escalation && a.Reason != "":
		return "notify:escalation:" + a.Reason + ":" + strconv.Itoa(a.Round)
	case a.Escalation:
		return "notify:escalation:" + strconv.Itoa(a.Round)
	case a.Reason != "":
		return "notify:" + a.Reason + ":" + strconv.Itoa(a.Round)
	}
	return "notify:created"
}

// CrisisEscalateArgs is the job that escalates an unacknowledged event.
// Level is the event's level when the job was queued: an event raised to a
// more serious level gets a new escalation at that level's (shorter) delay,
// not the one already queued or done for the lower level.
type CrisisEscalateArgs struct {
	EventID string `json:"event_id" river:"unique"`
	Round   int    `json:"round,omitempty" river:"unique"`
	Level   string `json:"level,omitempty" river:"unique"`
}

func (a CrisisEscalateArgs) step() string {
	if a.Level == "" {
		return "escalate:" + strconv.Itoa(a.Round)
	}
	return "escalate:" + a.Level + ":" + strconv.Itoa(a.Round)
}

// Kind names the job.
func (CrisisEscalateArgs) Kind() string { return "crisis_escalate" }

// CrisisAlertContactsArgs is the job that alerts an event's user's
// confirmed emergency contacts (one job per contact follows).
type CrisisAlertContactsArgs struct {
	EventID string `json:"event_id" river:"unique"`
}

// Kind names the job.
func (CrisisAlertContactsArgs) Kind() string { return "crisis_alert_contacts" }

// CrisisContactAlertArgs is the job that alerts one contact of an event.
type CrisisContactAlertArgs struct {
	EventID   string `json:"event_id" river:"unique"`
	ContactID string `json:"contact_id" river:"unique"`
}

// Kind names the job.
func (CrisisContactAlertArgs) Kind() string { return "crisis_contact_alert" }

// ContactInviteArgs is the job that sends a contact an invitation. The
// link token and the code travel sealed with the vault.
type ContactInviteArgs struct {
	ContactID string `json:"contact_id" river:"unique"`
	Invite    int    `json:"invite" river:"unique"`
	Sealed    string `json:"sealed"`
}

// Kind names the job.
func (ContactInviteArgs) Kind() string { return "contact_invite" }

// RegisterJobs adds the crisis workflow's workers.
func (s *Service) RegisterJobs(workers *river.Workers, w Workflow) {
	if w.EscalateAfter <= 0 {
		w.EscalateAfter = 15 * time.Minute
	}
	if w.HTTPClient == nil {
		w.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	w.PublicURL = strings.TrimRight(w.PublicURL, "/")
	if w.PublicURL == "" {
		w.PublicURL = "http://localhost:8012"
	}
	s.workflow = w
	river.AddWorker(workers, &notifyWorker{s: s})
	river.AddWorker(workers, &escalateWorker{s: s})
	river.AddWorker(workers, &alertContactsWorker{s: s})
	river.AddWorker(workers, &contactAlertWorker{s: s})
	river.AddWorker(workers, &inviteWorker{s: s})
	river.AddWorker(workers, &checkinWorker{s: s})
	river.AddWorker(workers, &checkinExpireWorker{s: s})
}

// eventStart is what the rules need to know of an event.
type eventStart struct {
	ID, UserID string
	Level      crisis.Level
	Category   crisis.Category
	Source     string // chat, assessment, checkin
	Language   string // of the user, for the check-in
	Raised     bool   // an open event became more serious
}

// startWorkflow reads the rules and queues the actions of the event's level
// in the event's transaction. A positive PHQ-9 item 9 and a check-in
// answered "worse" always reach a counselor, whatever the rules: both are
// the person's own word that a clinician should review.
func (s *Service) startWorkflow(ctx context.Context, tx *database.Tx, e eventStart) error {
	rules, err := loadRules(ctx, tx)
	if err != nil {
		return err
	}
	rule, ok := rules.For(e.Level)
	if !ok {
		rule = Rule{Level: e.Level.String(), Actions: []string{ActionShowResources}}
	}
	actions := append([]string(nil), rule.Actions...)
	if (e.Source == "assessment" || e.Source == "checkin") && !rule.Has(ActionNotifyCounselor) {
		actions = append(actions, ActionNotifyCounselor)
	}
	if err := audit.Record(ctx, tx, audit.Entry{Action: "crisis.workflow_started", ActorID: e.UserID, TargetType: "crisis_event", TargetID: e.ID,
		After: map[string]any{"level": e.Level.String(), "actions": actions, "raised": e.Raised}}); err != nil {
		return err
	}
	now := s.Now()
	for _, a := range actions {
		switch a {
		case ActionShowResources:
			// Shown in the answer that opened the event; recorded here.
			if err := s.stepDone(ctx, tx, e.ID, "show_resources:"+e.Level.String(), "crisis.resources_shown", map[string]any{"level": e.Level.String(), "source": e.Source}); err != nil {
				return err
			}
		case ActionNotifyCounselor:
			if s.Jobs == nil {
				continue
			}
			n := CrisisNotifyArgs{EventID: e.ID}
			if e.Raised {
				n.Reason = "raised:" + e.Level.String()
			}
			if _, err := s.Jobs.InsertTx(ctx, tx, n, once(time.Time{})); err != nil {
				return err
			}
			if _, err := s.Jobs.InsertTx(ctx, tx, CrisisEscalateArgs{EventID: e.ID, Level: e.Level.String()}, once(now.Add(rules.escalateAfter(e.Level, s.workflow.EscalateAfter)))); err != nil {
				return err
			}
		case ActionAlertContacts:
			if s.Jobs == nil {
				continue
			}
			if _, err := s.Jobs.InsertTx(ctx, tx, CrisisAlertContactsArgs{EventID: e.ID}, once(time.Time{})); err != nil {
				return err
			}
		case ActionScheduleCheckin:
			if rule.CheckinAfterMinutes == nil {
				continue
			}
			if err := s.scheduleCheckin(ctx, tx, CrisisCheckinArgs{EventID: e.ID, UserID: e.UserID, Level: e.Level.String(), Category: string(e.Category), Language: e.Language},
				time.Duration(*rule.CheckinAfterMinutes)*time.Minute); err != nil {
				return err
			}
		}
	}
	return nil
}

// stepDone records a step of an event as done, and audits it, unless it
// was done before; it reports nothing either way.
func (s *Service) stepDone(ctx context.Context, tx *database.Tx, eventID, step, action string, after map[string]any) error {
	_, err := s.markStep(ctx, tx, eventID, step, action, after)
	return err
}

// markStep records a step as done and audits it; false when it was done
// already (then nothing is audited).
func (s *Service) markStep(ctx context.Context, tx *database.Tx, eventID, step, action string, after map[string]any) (bool, error) {
	res, err := tx.Exec(ctx, `INSERT INTO crisis_steps (event_id, step, done_at) VALUES (?, ?, ?) ON CONFLICT (event_id, step) DO NOTHING`, eventID, step, s.Now())
	if err != nil {
		return false, err
	}
	if res.RowsAffected() == 0 {
		return false, nil
	}
	return true, audit.Record(ctx, tx, audit.Entry{Action: action, TargetType: "crisis_event", TargetID: eventID, After: after})
}

// stepIsDone reports whether a step of an event was done.
func (s *Service) stepIsDone(ctx context.Context, q database.Querier, eventID, step string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM crisis_steps WHERE event_id = ? AND step = ?`, eventID, step).Scan(&n)
	return n > 0, err
}

type notifyWorker struct {
	river.WorkerDefaults[CrisisNotifyArgs]
	s *Service
}

// Work sends the signed webhook (when configured) and audits the step,
// once per event and reason.
func (w *notifyWorker) Work(ctx context.Context, job *river.Job[CrisisNotifyArgs]) error {
	step := job.Args.step()
	if done, err := w.s.stepIsDone(ctx, w.s.DB, job.Args.EventID, step); err != nil || done {
		return err
	}
	e, err := w.s.Event(ctx, job.Args.EventID)
	if err != nil {
		return err
	}
	wf := w.s.workflow
	if wf.WebhookURL != "" {
		payload, _ := json.Marshal(map[string]any{"type": "crisis_event", "escalation": job.Args.Escalation, "reason": job.Args.Reason,
			"event": map[string]any{"id": e.ID, "level": e.Level, "category": e.Category, "source": e.Source, "status": e.Status, "created_at": e.CreatedAt}})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, wf.WebhookURL, bytes.NewReader(payload))
		if err != nil {
			return river.JobCancel(errors.New("crisis webhook URL is invalid"))
		}
		mac := hmac.New(sha256.New, []byte(wf.WebhookSecret))
		mac.Write(payload)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Mitra-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		req.Header.Set("Idempotency-Key", "crisis-"+e.ID+"-"+step)
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
	return w.s.DB.InTx(ctx, func(tx *database.Tx) error {
		return w.s.stepDone(ctx, tx, e.ID, step, action, map[string]any{"webhook": wf.WebhookURL != "", "attempt": job.Attempt, "reason": job.Args.Reason})
	})
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
	if l, err := crisis.ParseLevel(job.Args.Level); err == nil && l < e.Level {
		return nil // the event was raised since: its own escalation is queued, sooner
	}
	return w.s.DB.InTx(ctx, func(tx *database.Tx) error {
		first, err := w.s.markStep(ctx, tx, e.ID, job.Args.step(), "crisis.event_escalated",
			map[string]any{"unacknowledged_for": w.s.Now().Sub(e.UpdatedAt).Round(time.Second).String(), "round": job.Args.Round, "level": e.Level.String()})
		if err != nil || !first || w.s.Jobs == nil {
			return err
		}
		_, err = w.s.Jobs.InsertTx(ctx, tx, CrisisNotifyArgs{EventID: e.ID, Escalation: true, Reason: job.Args.Level, Round: job.Args.Round}, once(time.Time{}))
		return err
	})
}

type alertContactsWorker struct {
	river.WorkerDefaults[CrisisAlertContactsArgs]
	s *Service
}

// Work queues one alert per confirmed contact of the event's user, once
// per event.
func (w *alertContactsWorker) Work(ctx context.Context, job *river.Job[CrisisAlertContactsArgs]) error {
	e, err := w.s.Event(ctx, job.Args.EventID)
	if err != nil {
		return err
	}
	return w.s.DB.InTx(ctx, func(tx *database.Tx) error {
		if done, err := w.s.stepIsDone(ctx, tx, e.ID, "alert_contacts"); err != nil || done {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM emergency_contacts WHERE user_id = ? AND status = ? ORDER BY created_at`, e.UserID, ContactConfirmed)
		if err != nil {
			return err
		}
		var contacts []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			contacts = append(contacts, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range contacts {
			if w.s.Jobs == nil {
				break
			}
			if _, err := w.s.Jobs.InsertTx(ctx, tx, CrisisContactAlertArgs{EventID: e.ID, ContactID: c}, once(time.Time{})); err != nil {
				return err
			}
		}
		return w.s.stepDone(ctx, tx, e.ID, "alert_contacts", "crisis.contacts_alerted", map[string]any{"confirmed_contacts": len(contacts)})
	})
}

type contactAlertWorker struct {
	river.WorkerDefaults[CrisisContactAlertArgs]
	s *Service
}

// Work sends one contact the alert of an event, unless it was sent, the
// event was resolved or is more than a day old, the contact is no longer
// confirmed, the number opted out, or the contact was alerted in the last
// 6 hours. Each outcome is recorded and audited once.
func (w *contactAlertWorker) Work(ctx context.Context, job *river.Job[CrisisContactAlertArgs]) error {
	s := w.s
	a := job.Args
	var n int
	if err := s.DB.QueryRow(ctx, `SELECT count(*) FROM crisis_contact_alerts WHERE event_id = ? AND contact_id = ?`, a.EventID, a.ContactID).Scan(&n); err != nil || n > 0 {
		return err
	}
	e, err := s.Event(ctx, a.EventID)
	if err != nil {
		return err
	}
	// An alert is for now: not after a counselor closed the event, nor a
	// day late (retries, a queue that was down).
	switch {
	case e.Status == EventResolved:
		return s.recordAlert(ctx, a, "", "skipped", "event_resolved", "")
	case s.Now().Sub(e.CreatedAt) > staleAlertAge:
		return s.recordAlert(ctx, a, "", "skipped", "event_stale", "")
	}
	c, err := s.contact(ctx, s.DB, e.UserID, a.ContactID)
	switch {
	case errors.Is(err, errContactNotFound):
		return s.recordAlert(ctx, a, "", "skipped", "contact_deleted", "")
	case err != nil:
		return err
	case c.Status != ContactConfirmed:
		return s.recordAlert(ctx, a, c.Channel, "skipped", "not_confirmed", "")
	}
	if out, err := s.optedOut(ctx, s.DB, c.Phone); err != nil || out {
		if err != nil {
			return err
		}
		return s.recordAlert(ctx, a, c.Channel, "skipped", "opted_out", "")
	}
	// The cooldown is a claim taken before sending: two events alerting
	// one contact at once cannot both pass a check and both send.
	claimed, err := s.claimContactAlert(ctx, a)
	if err != nil {
		return err
	}
	if !claimed {
		return s.recordAlert(ctx, a, c.Channel, "skipped", "recently_alerted", "")
	}
	params := []string{s.userName(ctx, e.UserID, c.Language), s.emergencyNumber(ctx, e.UserID, c.Phone, c.Language), s.optOutLink(c.ID)}
	text := fill(textIn(alertText, c.Language), params)
	id, err := s.sendText(ctx, c.Channel, c.Phone, templateAlert, c.Language, params, text)
	if err == nil {
		return s.recordAlert(ctx, a, c.Channel, "sent", "", id)
	}
	if !isPermanent(err) {
		return err
	}
	// The contact's channel cannot deliver (the number is not on WhatsApp,
	// the SMS route was withdrawn): the same number by the other channel.
	// The contact agreed to be alerted, not to a channel.
	other := ChannelWhatsApp
	if c.Channel == ChannelWhatsApp {
		other = ChannelSMS
	}
	id, ferr := s.sendText(ctx, other, c.Phone, templateAlert, c.Language, params, text)
	if ferr == nil {
		logging.FromContext(ctx).Warn("crisis alert sent by the fallback channel", "event_id", a.EventID, "contact_id", c.ID, "channel", other, "err", err)
		return s.recordAlert(ctx, a, other, "sent", "fallback_from_"+c.Channel, id)
	}
	if !isPermanent(ferr) {
		return ferr // retried: the contact's channel first again, then this one
	}
	logging.FromContext(ctx).Error("crisis alert undeliverable", "event_id", a.EventID, "contact_id", c.ID, "err", err, "fallback_err", ferr)
	if rerr := s.recordAlert(ctx, a, c.Channel, "failed", "undeliverable", ""); rerr != nil {
		return rerr
	}
	return river.JobCancel(err)
}

// claimContactAlert takes the contact's cooldown for this event: it
// succeeds when the contact has no claim, when its claim is older than the
// cooldown, or when the claim is this event's (a retry after a temporary
// failure). The claim is a unique row, so of two events at once one wins.
func (s *Service) claimContactAlert(ctx context.Context, a CrisisContactAlertArgs) (bool, error) {
	now := s.Now()
	res, err := s.DB.Exec(ctx, `INSERT INTO crisis_contact_alert_claims (contact_id, event_id, claimed_at) VALUES (?, ?, ?)
		ON CONFLICT (contact_id) DO UPDATE SET event_id = excluded.event_id, claimed_at = excluded.claimed_at
		WHERE crisis_contact_alert_claims.event_id = excluded.event_id OR crisis_contact_alert_claims.claimed_at <= ?`,
		a.ContactID, a.EventID, now, now.Add(-contactAlertCooldown))
	if err != nil {
		return false, err
	}
	return res.RowsAffected() > 0, nil
}

// recordAlert stores the outcome of one alert (first outcome wins) and
// audits it. A failed alert gives back the contact's cooldown claim (no
// message reached them) and is counted on the event, so the counselor
// queue shows that a contact was not reached.
func (s *Service) recordAlert(ctx context.Context, a CrisisContactAlertArgs, channel, status, reason, messageID string) error {
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO crisis_contact_alerts (event_id, contact_id, status, channel, reason, message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (event_id, contact_id) DO NOTHING`, a.EventID, a.ContactID, status, channel, reason, messageID, s.Now())
		if err != nil || res.RowsAffected() == 0 {
			return err
		}
		if status == "failed" {
			if _, err := tx.Exec(ctx, `DELETE FROM crisis_contact_alert_claims WHERE contact_id = ? AND event_id = ?`, a.ContactID, a.EventID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE crisis_events SET alerts_failed = alerts_failed + 1, updated_at = ? WHERE id = ?`, s.Now(), a.EventID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "crisis.contact_alert_" + status, TargetType: "crisis_event", TargetID: a.EventID,
			After: map[string]any{"contact_id": a.ContactID, "channel": channel, "reason": reason}})
	})
}

// sendText sends a template message on a channel and returns the
// provider's message id when it gives one.
func (s *Service) sendText(ctx context.Context, channel, phone, template, lang string, params []string, text string) (string, error) {
	switch channel {
	case ChannelSMS:
		if s.Texts.SMS != nil {
			return "", s.Texts.SMS.SendTemplate(ctx, phone, sms.Template{Name: template, Language: lang, Params: params, Text: text})
		}
	case ChannelWhatsApp:
		if s.Texts.WhatsApp != nil {
			return s.Texts.WhatsApp.SendTemplate(ctx, phone, whatsapp.Template{Name: template, Language: lang, Params: params, Text: text})
		}
	}
	return "", fmt.Errorf("persona: channel %q is not available: %w", channel, errChannelUnavailable)
}

var errChannelUnavailable = errors.New("channel unavailable")

func isPermanent(err error) bool {
	return errors.Is(err, sms.ErrPermanent) || errors.Is(err, whatsapp.ErrPermanent) || errors.Is(err, errChannelUnavailable)
}

type inviteWorker struct {
	river.WorkerDefaults[ContactInviteArgs]
	s *Service
}

// Work sends a contact their invitation, unless a newer one replaced it,
// they answered already, or it was sent.
func (w *inviteWorker) Work(ctx context.Context, job *river.Job[ContactInviteArgs]) error {
	s := w.s
	a := job.Args
	var userID, status, inviteStatus string
	var invites int
	err := s.DB.QueryRow(ctx, `SELECT user_id, status, invites_sent, invite_status FROM emergency_contacts WHERE id = ?`, a.ContactID).Scan(&userID, &status, &invites, &inviteStatus)
	if errors.Is(err, database.ErrNoRows) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	if status != ContactPending || invites != a.Invite || inviteStatus != "queued" {
		return nil
	}
	c, err := s.contact(ctx, s.DB, userID, a.ContactID)
	if err != nil {
		return err
	}
	secret, err := s.Vault.Open(a.Sealed, inviteAAD(a.ContactID, a.Invite))
	if err != nil {
		return river.JobCancel(errors.New("invitation secret does not open"))
	}
	token, code, _ := strings.Cut(string(secret), " ")
	if out, err := s.optedOut(ctx, s.DB, c.Phone); err != nil || out {
		return err // a number that said no is never messaged (DeclineContact marked it)
	}
	params := []string{s.userName(ctx, userID, c.Language), s.confirmLink(token), code, s.optOutLink(c.ID)}
	id, err := s.sendText(ctx, c.Channel, c.Phone, templateInvite, c.Language, params, fill(textIn(inviteText, c.Language), params))
	result := "sent"
	if err != nil {
		if !isPermanent(err) {
			return err
		}
		result = "failed"
		logging.FromContext(ctx).Warn("contact invitation undeliverable", "contact_id", a.ContactID, "err", err)
	}
	rerr := s.DB.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE emergency_contacts SET invite_status = ?, updated_at = ? WHERE id = ? AND invites_sent = ? AND invite_status = 'queued'`,
			result, s.Now(), a.ContactID, a.Invite)
		if err != nil || res.RowsAffected() == 0 {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "emergency_contact.invitation_" + result, TargetType: "emergency_contact", TargetID: a.ContactID,
			After: map[string]any{"channel": c.Channel, "invite": a.Invite, "message_id": id != ""}})
	})
	if rerr != nil {
		return rerr
	}
	if err != nil {
		return river.JobCancel(err)
	}
	return nil
}
