package persona_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"mitra/internal/persona"
	"mitra/internal/platform/access"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/sms"
	"mitra/internal/platform/textfake"
	"mitra/internal/platform/vault"
	"mitra/internal/platform/whatsapp"
)

type hook struct {
	mu    sync.Mutex
	calls []map[string]any
	bad   int
}

func (h *hook) serve(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.Header.Get("X-Mitra-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		h.calls = append(h.calls, m)
	})
}

func (h *hook) wait(t *testing.T, n int) []map[string]any {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		h.mu.Lock()
		got := append([]map[string]any(nil), h.calls...)
		h.mu.Unlock()
		if len(got) >= n {
			return got
		}
	}
	t.Fatalf("webhook called %d times, want %d", len(h.calls), n)
	return nil
}

// node is one run of the program: a service and its job queue.
func node(t *testing.T, db *database.DB, v *vault.Keyring, wf persona.Workflow) (*persona.Service, *jobs.Queue) {
	t.Helper()
	s := persona.NewService(db, v, time.Now)
	workers := river.NewWorkers()
	s.RegisterJobs(workers, wf)
	q, err := jobs.New(db, jobs.Options{Workers: workers, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.Jobs = q
	return s, q
}

// The workflow's steps are durable jobs: an event created just before a
// restart is still notified, then escalated when nobody acknowledges it.
func TestCrisisWorkflowSurvivesRestartAndEscalates(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		const secret = "whsec_test"
		h := &hook{}
		srv := httptest.NewServer(h.serve(secret))
		defer srv.Close()
		v, _ := vault.Parse(vault.NewKeySpec("w1"))
		wf := persona.Workflow{WebhookURL: srv.URL, WebhookSecret: secret, EscalateAfter: 300 * time.Millisecond}

		// First run: the event is created, and the process stops before any
		// job runs.
		s1, _ := node(t, db, v, wf)
		ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-w", Role: access.Member})
		p, _ := access.From(ctx)
		if _, err := s1.Check(ctx, p, []string{"I want to kill myself tonight, I have the pills ready"}); err != nil {
			t.Fatal(err)
		}
		// Second run on the same database: the jobs are still there.
		_, q2 := node(t, db, v, wf)
		if err := q2.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q2.Stop(sctx)
		}()
		calls := h.wait(t, 2)
		if calls[0]["escalation"] != false || calls[1]["escalation"] != true || h.bad != 0 {
			t.Fatalf("webhook calls %v (bad signatures %d)", calls, h.bad)
		}
		ev := calls[0]["event"].(map[string]any)
		if ev["level"] != "high" || ev["id"] == "" {
			t.Fatalf("payload %v", ev)
		}
		for _, action := range []string{"crisis.event_created", "crisis.counselor_notified", "crisis.event_escalated", "crisis.escalation_notified"} {
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				entries, _, _ := audit.List(context.Background(), db, audit.Filter{Action: action})
				if len(entries) == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s audited %d times, want 1", action, len(entries))
				}
			}
		}
	})
}

// An event acknowledged in time is not escalated.
func TestAcknowledgedEventIsNotEscalated(t *testing.T) {
	db := dbtest.SQLite(t)
	h := &hook{}
	srv := httptest.NewServer(h.serve("s"))
	defer srv.Close()
	v, _ := vault.Parse(vault.NewKeySpec("w2"))
	s, q := node(t, db, v, persona.Workflow{WebhookURL: srv.URL, WebhookSecret: "s", EscalateAfter: 500 * time.Millisecond})
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	}()
	ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-a", Role: access.Member})
	p, _ := access.From(ctx)
	if _, err := s.Check(ctx, p, []string{"aku mau bunuh diri malam ini, obatnya udah aku siapin"}); err != nil {
		t.Fatal(err)
	}
	h.wait(t, 1)
	list, _ := s.Events(context.Background(), "open", 10)
	if len(list) != 1 {
		t.Fatalf("events %+v", list)
	}
	counselor := access.WithPrincipal(context.Background(), access.Principal{UserID: "c", Role: access.Counselor})
	if _, err := s.Transition(counselor, list[0].ID, persona.EventAcknowledged, ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	h.mu.Lock()
	n := len(h.calls)
	h.mu.Unlock()
	if n != 1 {
		t.Fatalf("webhook called %d times, want only the first notice", n)
	}
}

// contactNode is node with the text channels wired to fake providers.
func contactNode(t *testing.T, db *database.DB, v *vault.Keyring, wf persona.Workflow, smsURL, waURL string) (*persona.Service, *jobs.Queue) {
	t.Helper()
	s, q := node(t, db, v, wf)
	m, err := sms.NewMSG91(sms.MSG91Config{AuthKey: "msg91-key", TemplateID: "otp-template", BaseURL: smsURL, Flows: map[string]string{
		"contact_invite.id": "flow-invite-id", "contact_invite.en": "flow-invite-en", "contact_alert.id": "flow-alert-id", "contact_alert.en": "flow-alert-en"}})
	if err != nil {
		t.Fatal(err)
	}
	w, err := whatsapp.New(whatsapp.Config{Token: "wa-token", PhoneNumberID: "1065403522", BaseURL: waURL})
	if err != nil {
		t.Fatal(err)
	}
	s.Texts = persona.TextSenders{SMS: m, WhatsApp: w}
	s.UserName = func(context.Context, string) string { return "Rina" }
	return s, q
}

func stop(t *testing.T, q *jobs.Queue) {
	t.Helper()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Stop(sctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func auditCount(t *testing.T, db *database.DB, action string) int {
	t.Helper()
	entries, _, err := audit.List(context.Background(), db, audit.Filter{Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func waitAudit(t *testing.T, db *database.DB, action string, n int) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got := auditCount(t, db, action); got == n {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("%s audited %d times, want %d", action, got, n)
		}
	}
}

// tokenOf reads the token out of a link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("link %q", link)
	}
	return u.Query().Get("token")
}

// The rules' steps of an imminent event (counselor, contacts, check-in) are
// durable jobs: queued before a restart, they run after it; only confirmed
// contacts are alerted, in their language and on their channel, with the
// emergency number and no word of the conversation; a scheduled check-in
// survives another restart; and every step run a second time does nothing.
func TestCrisisRuleStepsSurviveRestartAndRunOnce(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		h := &hook{}
		srv := httptest.NewServer(h.serve("s3cret"))
		defer srv.Close()
		msg91 := textfake.NewMSG91(t, "msg91-key")
		wa := textfake.NewWhatsApp(t, "wa-token", "1065403522")
		v, _ := vault.Parse(vault.NewKeySpec("r1"))
		wf := persona.Workflow{WebhookURL: srv.URL, WebhookSecret: "s3cret", PublicURL: "https://mitra.example/"}
		user := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-rina", Role: access.Member})
		p, _ := access.From(user)
		account(t, db, "u-rina", "active")

		// Run 1: three contacts are invited; one confirms by link, one
		// gives the code, one does not answer.
		s1, q1 := contactNode(t, db, v, wf, msg91.URL, wa.URL)
		if err := q1.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		add := func(name, phone, channel string) *persona.Contact {
			c, err := s1.AddContact(user, persona.ContactInput{Name: name, Phone: phone, Relationship: "friend", Channel: channel})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		byLink, byCode, silent := add("Sari", "0812-3456-7890", "sms"), add("Arjun", "+91 98123 45678", "whatsapp"), add("Budi", "081298765432", "sms")
		msg91.Wait(t, 2)
		wa.Wait(t, 1)
		inv := msg91.To("+6281234567890")
		if len(inv) != 1 || inv[0].Template != "flow-invite-id" || inv[0].Params[0] != "Rina" || len(inv[0].Params[2]) != 6 ||
			!strings.HasPrefix(inv[0].Params[1], "https://mitra.example/api/v1/emergency-contacts/confirm?token=") {
			t.Fatalf("SMS invitation %+v", inv)
		}
		if _, err := s1.ConfirmContact(context.Background(), tokenOf(t, inv[0].Params[1])); err != nil {
			t.Fatal(err)
		}
		waInv := wa.To("+919812345678")
		if len(waInv) != 1 || waInv[0].Template != "contact_invite" || waInv[0].Language != "en" {
			t.Fatalf("WhatsApp invitation %+v", waInv)
		}
		if _, err := s1.VerifyContact(user, byCode.ID, waInv[0].Params[2]); err != nil {
			t.Fatal(err)
		}
		stop(t, q1)

		// Run 2: an imminent message opens the event; the process stops
		// before any job runs.
		s2, _ := contactNode(t, db, v, wf, msg91.URL, wa.URL)
		if _, err := s2.Check(user, p, []string{"I just took 30 pills"}); err != nil {
			t.Fatal(err)
		}
		events, _ := s2.Events(context.Background(), "", 10)
		if len(events) != 1 || events[0].Level.String() != "imminent" {
			t.Fatalf("events %+v", events)
		}
		eventID := events[0].ID
		invitesBefore := len(msg91.Messages())

		// Run 3: the queued steps run.
		s3, q3 := contactNode(t, db, v, wf, msg91.URL, wa.URL)
		if err := q3.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.wait(t, 1)
		msg91.Wait(t, invitesBefore+1)
		wa.Wait(t, 2)
		waitAudit(t, db, "crisis.contact_alert_sent", 2)
		alerts := append(msg91.Messages()[invitesBefore:], wa.Messages()[1:]...)
		for _, m := range alerts {
			if m.To == "+6281298765432" {
				t.Fatalf("the unconfirmed contact was alerted: %+v", m)
			}
			if m.Params[0] != "Rina" || m.Params[1] != "112" || !strings.HasPrefix(m.Params[2], "https://mitra.example/api/v1/emergency-contacts/decline?token=") ||
				strings.Contains(strings.Join(m.Params, " "), "pills") {
				t.Fatalf("alert %+v", m)
			}
		}
		if alerts[0].To != "+6281234567890" || alerts[0].Template != "flow-alert-id" || alerts[1].To != "+919812345678" || alerts[1].Template != "contact_alert" || alerts[1].Language != "en" {
			t.Fatalf("alerts %+v", alerts)
		}
		if got := msg91.To(silent.Phone); len(got) != 1 {
			t.Fatalf("the silent contact got %d messages, want only the invitation", len(got))
		}
		_ = byLink
		for action, n := range map[string]int{"crisis.workflow_started": 1, "crisis.resources_shown": 1, "crisis.counselor_notified": 1,
			"crisis.contacts_alerted": 1, "crisis.checkin_scheduled": 1} {
			waitAudit(t, db, action, n)
		}
		checkinJobs, err := q3.JobsOfKind(context.Background(), "crisis_checkin")
		if err != nil || len(checkinJobs) != 1 || checkinJobs[0].State != "scheduled" ||
			checkinJobs[0].ScheduledAt.Before(time.Now().Add(3*time.Hour)) || checkinJobs[0].ScheduledAt.After(time.Now().Add(5*time.Hour)) {
			t.Fatalf("check-in job %+v %v", checkinJobs, err)
		}
		stop(t, q3)

		// Run 4: the scheduled check-in survived the restart; when due (run
		// now), the person finds it.
		s4, q4 := contactNode(t, db, v, wf, msg91.URL, wa.URL)
		if err := q4.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer stop(t, q4)
		if err := q4.RunNow(context.Background(), checkinJobs[0].ID); err != nil {
			t.Fatal(err)
		}
		waitAudit(t, db, "crisis.checkin_created", 1)
		list, err := s4.Checkins(user)
		if err != nil || len(list) != 1 || list[0].Level != "imminent" || list[0].Prompt == "" {
			t.Fatalf("check-ins %+v %v", list, err)
		}

		// Every step again, without the queue's uniqueness: nothing more
		// is sent, created or audited.
		done, cancel := q4.Subscribe(river.EventKindJobCompleted)
		defer cancel()
		again := []river.JobArgs{
			persona.CrisisNotifyArgs{EventID: eventID},
			persona.CrisisAlertContactsArgs{EventID: eventID},
			persona.CrisisContactAlertArgs{EventID: eventID, ContactID: byLink.ID},
			persona.CrisisContactAlertArgs{EventID: eventID, ContactID: byCode.ID},
			persona.CrisisCheckinArgs{EventID: eventID, UserID: "u-rina", Level: "imminent"},
		}
		for _, a := range again {
			if _, err := q4.Insert(context.Background(), a, nil); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < len(again); i++ {
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Fatalf("only %d of the repeated jobs completed", i)
			}
		}
		if n := len(msg91.Messages()) + len(wa.Messages()); n != invitesBefore+1+2 {
			t.Fatalf("%d messages after the repeats, want %d", n, invitesBefore+3)
		}
		h.mu.Lock()
		calls := len(h.calls)
		h.mu.Unlock()
		if calls != 1 {
			t.Fatalf("webhook called %d times", calls)
		}
		for action, n := range map[string]int{"crisis.counselor_notified": 1, "crisis.contacts_alerted": 1, "crisis.contact_alert_sent": 2, "crisis.checkin_created": 1} {
			if got := auditCount(t, db, action); got != n {
				t.Errorf("%s audited %d times, want %d", action, got, n)
			}
		}
		if list, _ := s3.Checkins(user); len(list) != 1 {
			t.Fatalf("check-ins after the repeat: %d", len(list))
		}
	})
}
