package persona_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"mitra/internal/persona"
	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/config"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/sms"
	"mitra/internal/platform/textfake"
	"mitra/internal/platform/vault"
)

// parallel runs f n times at once and waits for all.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}

// Messages of one user at once open one event and one workflow, not one
// each (PostgreSQL does not serialise the look-up and the insert by itself).
func TestConcurrentMessagesOpenOneEvent(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		v, _ := vault.Parse(vault.NewKeySpec("c1"))
		s, _ := node(t, db, v, persona.Workflow{})
		const users = 10
		for u := 0; u < users; u++ {
			ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: fmt.Sprintf("u-race-%d", u), Role: access.Member})
			p, _ := access.From(ctx)
			parallel(6, func(int) {
				if _, err := s.Check(ctx, p, []string{"I just took 30 pills"}); err != nil {
					t.Error(err)
				}
			})
		}
		if events, _ := s.Events(context.Background(), "", 100); len(events) != users {
			t.Fatalf("%d events, want %d", len(events), users)
		}
		for _, action := range []string{"crisis.event_created", "crisis.workflow_started"} {
			if n := auditCount(t, db, action); n != users {
				t.Errorf("%s audited %d times, want %d", action, n, users)
			}
		}
	})
}

// confirmedContact adds an SMS contact and marks it confirmed (the
// invitation itself is tested elsewhere), and opens two events of the
// user.
func confirmedContact(t *testing.T, db *database.DB, s *persona.Service, user context.Context) (contactID string, events [2]string) {
	t.Helper()
	c, err := s.AddContact(user, persona.ContactInput{Name: "Sari", Phone: "0812-3456-7890", Relationship: "friend", Channel: "sms"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(context.Background(), `UPDATE emergency_contacts SET status = ? WHERE id = ?`, persona.ContactConfirmed, c.ID); err != nil {
		t.Fatal(err)
	}
	p, _ := access.From(user)
	if _, err := s.Check(user, p, []string{"I just took 30 pills"}); err != nil {
		t.Fatal(err)
	}
	list, _ := s.Events(context.Background(), "", 10)
	if len(list) != 1 {
		t.Fatalf("events %+v", list)
	}
	events[0], events[1] = list[0].ID, ids.New()
	if _, err := db.Exec(context.Background(), `INSERT INTO crisis_events (id, user_id, level, category, signals, source, status, created_at, updated_at)
		SELECT ?, user_id, level, category, signals, source, status, created_at, updated_at FROM crisis_events WHERE id = ?`, events[1], events[0]); err != nil {
		t.Fatal(err)
	}
	return c.ID, events
}

// alertFixture is a node with both text channels faked, a user with one
// confirmed SMS contact, and two open events of theirs.
func alertFixture(t *testing.T, db *database.DB, key, userID string) (s *persona.Service, msg91, wa *textfake.Server, contact string, events [2]string) {
	t.Helper()
	msg91 = textfake.NewMSG91(t, "msg91-key")
	wa = textfake.NewWhatsApp(t, "wa-token", "1065403522")
	v, _ := vault.Parse(vault.NewKeySpec(key))
	s, _ = contactNode(t, db, v, persona.Workflow{PublicURL: "https://mitra.example/"}, msg91.URL, wa.URL)
	user := access.WithPrincipal(context.Background(), access.Principal{UserID: userID, Role: access.Member})
	contact, events = confirmedContact(t, db, s, user)
	return s, msg91, wa, contact, events
}

// Two events alerting one contact at once send one alert: the 6-hour
// cooldown is claimed before sending, not checked and then sent.
func TestContactCooldownHoldsUnderConcurrentAlerts(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s, msg91, _, contact, events := alertFixture(t, db, "c2", "u-cool")
		parallel(2, func(i int) {
			if err := s.RunContactAlert(context.Background(), persona.CrisisContactAlertArgs{EventID: events[i], ContactID: contact}); err != nil {
				t.Error(err)
			}
		})
		if got := msg91.To("+6281234567890"); len(got) != 1 {
			t.Fatalf("%d alerts sent to the contact, want 1: %+v", len(got), got)
		}
		if sent, skipped := auditCount(t, db, "crisis.contact_alert_sent"), auditCount(t, db, "crisis.contact_alert_skipped"); sent != 1 || skipped != 1 {
			t.Fatalf("sent %d, skipped %d", sent, skipped)
		}
	})
}

// An alert that cannot be delivered is counted on the event (the counselor
// sees that a contact was not reached), audited, and does not hold the
// contact's cooldown: the next event reaches them.
func TestUndeliverableAlertShowsOnTheEvent(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s, msg91, _, contact, events := alertFixture(t, db, "c3", "u-fail")
		senders := s.Texts
		s.Texts.SMS, s.Texts.WhatsApp = nil, nil // both channels went away after the contact chose one
		if err := s.RunContactAlert(context.Background(), persona.CrisisContactAlertArgs{EventID: events[0], ContactID: contact}); err == nil {
			t.Fatal("an undeliverable alert was not cancelled")
		}
		e, err := s.Event(context.Background(), events[0])
		if err != nil || e.AlertsFailed != 1 {
			t.Fatalf("event %+v %v", e, err)
		}
		if n := auditCount(t, db, "crisis.contact_alert_failed"); n != 1 {
			t.Fatalf("failure audited %d times", n)
		}
		s.Texts = senders
		if err := s.RunContactAlert(context.Background(), persona.CrisisContactAlertArgs{EventID: events[1], ContactID: contact}); err != nil {
			t.Fatal(err)
		}
		if got := msg91.To("+6281234567890"); len(got) != 1 {
			t.Fatalf("%d alerts after the failed one, want 1", len(got))
		}
	})
}

// When the contact's channel cannot deliver, the alert goes to the same
// number by the other channel, and is recorded as sent by it (not failed).
func TestAlertFallsBackToTheOtherChannel(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s, msg91, wa, contact, events := alertFixture(t, db, "c5", "u-fallback")
		msg91.FailNext(400, `{"type":"error","message":"Invalid mobile number"}`)
		if err := s.RunContactAlert(context.Background(), persona.CrisisContactAlertArgs{EventID: events[0], ContactID: contact}); err != nil {
			t.Fatal(err)
		}
		if got := wa.To("+6281234567890"); len(got) != 1 {
			t.Fatalf("%d WhatsApp alerts, want 1 (SMS failed: %d SMS)", len(got), len(msg91.To("+6281234567890")))
		}
		var channel, reason, status string
		if err := db.QueryRow(context.Background(), `SELECT channel, reason, status FROM crisis_contact_alerts WHERE event_id = ? AND contact_id = ?`, events[0], contact).Scan(&channel, &reason, &status); err != nil {
			t.Fatal(err)
		}
		if channel != "whatsapp" || reason != "fallback_from_sms" || status != "sent" {
			t.Fatalf("alert recorded as %s/%s/%s", status, channel, reason)
		}
		if e, err := s.Event(context.Background(), events[0]); err != nil || e.AlertsFailed != 0 {
			t.Fatalf("event %+v %v", e, err)
		}
	})
}

// SMS is offered to a contact only in a language whose invitation and
// alert templates are both configured.
func TestSMSOfferedOnlyInLanguagesWithEveryTemplate(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		msg91 := textfake.NewMSG91(t, "msg91-key")
		wa := textfake.NewWhatsApp(t, "wa-token", "1065403522")
		v, _ := vault.Parse(vault.NewKeySpec("c4"))
		s, _ := contactNode(t, db, v, persona.Workflow{PublicURL: "https://mitra.example/"}, msg91.URL, wa.URL)
		flows := map[string]string{sms.TemplateKey("contact_invite", "id"): "f1", sms.TemplateKey("contact_invite", "en"): "f2", sms.TemplateKey("contact_alert", "en"): "f3"}
		s.Texts.SMSTemplates = flows
		user := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-lang", Role: access.Member})
		_, err := s.AddContact(user, persona.ContactInput{Name: "Sari", Phone: "0812-3456-7890", Relationship: "friend", Channel: "sms"})
		if e, ok := apperr.As(err); !ok || e.Code != apperr.Invalid {
			t.Fatalf("an Indonesian contact on SMS without the Indonesian alert template: %v", err)
		}
		if _, err := s.AddContact(user, persona.ContactInput{Name: "Sari", Phone: "0812-3456-7890", Relationship: "friend", Channel: "sms", Language: "en"}); err != nil {
			t.Fatalf("English contact refused: %v", err)
		}
		if _, err := s.AddContact(user, persona.ContactInput{Name: "Budi", Phone: "081298765432", Relationship: "friend", Channel: "whatsapp"}); err != nil {
			t.Fatalf("WhatsApp contact refused: %v", err)
		}
	})
}

// The lists of contact templates and languages are the same here and in
// the configuration that checks production has them all.
func TestContactTemplatesMatchConfiguration(t *testing.T) {
	if !equal(persona.ContactTemplates, config.ContactTemplates) || !equal(persona.ContactLanguages, config.ContactLanguages) {
		t.Fatalf("persona %v %v, config %v %v", persona.ContactTemplates, persona.ContactLanguages, config.ContactTemplates, config.ContactLanguages)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// account creates the users row of id (the identity service's table).
func account(t *testing.T, db *database.DB, id, status string) {
	t.Helper()
	now := time.Now()
	if _, err := db.Exec(context.Background(), `INSERT INTO users (id, name, role, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, "Rina", "member", status, now, now); err != nil {
		t.Fatal(err)
	}
}

// A check-in queued before the account was erased creates nothing: the
// job records a skip (audited), and the same for a check-in whose event is
// gone; a live account with its event gets its check-in.
func TestCheckinJobAfterErasureDoesNothing(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		v, _ := vault.Parse(vault.NewKeySpec("c5"))
		s, _ := node(t, db, v, persona.Workflow{})
		account(t, db, "u-gone", "erased")
		account(t, db, "u-live", "active")
		ctx := context.Background()
		for _, a := range []persona.CrisisCheckinArgs{
			{UserID: "u-gone", Level: "moderate", Category: "suicidal_ideation", Language: "en"},
			{UserID: "u-never", Level: "moderate", Category: "suicidal_ideation", Language: "en"},
			{UserID: "u-live", EventID: ids.New(), Level: "high", Category: "suicidal_ideation", Language: "en"},
		} {
			if err := s.RunCheckin(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM crisis_checkins`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d check-ins created (%v), want none", n, err)
		}
		if got := auditCount(t, db, "crisis.checkin_skipped"); got != 3 {
			t.Fatalf("skips audited %d times, want 3", got)
		}
		if err := s.RunCheckin(ctx, persona.CrisisCheckinArgs{UserID: "u-live", Level: "moderate", Category: "suicidal_ideation", Language: "en"}); err != nil {
			t.Fatal(err)
		}
		if list, err := s.Checkins(access.WithPrincipal(ctx, access.Principal{UserID: "u-live", Role: access.Member})); err != nil || len(list) != 1 {
			t.Fatalf("live account's check-ins %+v %v", list, err)
		}
	})
}

// The emergency number in the replies is the person's country's, from the
// one table (or the directory), whatever the language: an Indonesian
// speaker in the United States is told 911, not Indonesia's 112, both in
// the chat's high-risk reply and after a check-in answered "worse".
func TestEmergencyNumberFollowsTheCountry(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		v, _ := vault.Parse(vault.NewKeySpec("c6"))
		s, _ := node(t, db, v, persona.Workflow{EscalateAfter: time.Hour})
		countries := map[string]string{"u-us": "US", "u-id": "ID", "u-fr": "FR"}
		s.Country = func(_ context.Context, userID string) string { return countries[userID] }
		for user, want := range map[string]string{"u-us": "911", "u-id": "112", "u-fr": "nomor darurat setempat"} {
			ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: user, Role: access.Member})
			p, _ := access.From(ctx)
			raw, err := s.Check(ctx, p, []string{"aku pengen bunuh diri malam ini"})
			if err != nil || raw == nil {
				t.Fatal(err)
			}
			var n persona.Notice
			_ = json.Unmarshal(raw, &n)
			if !strings.Contains(n.Reply, "hubungi "+want) || (want != "112" && strings.Contains(n.Reply, "112")) {
				t.Errorf("%s: chat reply %q, want %s", user, n.Reply, want)
			}
			id := ids.New()
			now := time.Now()
			if _, err := db.Exec(ctx, `INSERT INTO crisis_checkins (id, user_id, level, category, language, status, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				id, user, "moderate", "suicidal_ideation", "id", persona.CheckinPending, now.Add(time.Hour), now); err != nil {
				t.Fatal(err)
			}
			r, err := s.AnswerCheckin(ctx, id, persona.CheckinAnswer{Feeling: persona.FeelingWorse})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Reply, "hubungi "+want+" sekarang") || (want != "112" && strings.Contains(r.Reply, "112")) {
				t.Errorf("%s: worse reply %q, want %s", user, r.Reply, want)
			}
		}
	})
}
