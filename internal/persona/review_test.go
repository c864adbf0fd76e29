package persona_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"mitra/internal/persona"
	"mitra/internal/platform/access"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/vault"
)

// An open high event raised to imminent escalates at imminent's delay
// (5 minutes), not at the high escalation already queued (an hour here).
func TestRaisedEventEscalatesSooner(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		v, _ := vault.Parse(vault.NewKeySpec("r1"))
		s, q := node(t, db, v, persona.Workflow{EscalateAfter: time.Hour})
		ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-raise", Role: access.Member})
		p, _ := access.From(ctx)
		for _, text := range []string{"I'm going to take all my pills tonight", "I just took 30 pills"} {
			if _, err := s.Check(ctx, p, []string{text}); err != nil {
				t.Fatal(err)
			}
		}
		list, _ := s.Events(context.Background(), "open", 10)
		if len(list) != 1 || list[0].Level.String() != "imminent" {
			t.Fatalf("events %+v", list)
		}
		jobs, err := q.JobsOfKind(context.Background(), "crisis_escalate")
		if err != nil {
			t.Fatal(err)
		}
		soon := false
		for _, j := range jobs {
			in := time.Until(j.ScheduledAt)
			if j.State == rivertype.JobStateScheduled && strings.Contains(string(j.EncodedArgs), `"imminent"`) && in > 3*time.Minute && in <= 5*time.Minute {
				soon = true
			}
		}
		if !soon {
			for _, j := range jobs {
				t.Logf("job %s %s at %s", j.State, j.EncodedArgs, j.ScheduledAt)
			}
			t.Fatal("no escalation due at the imminent delay")
		}
	})
}

// breakRules makes every workflow start fail (the rules cannot be read)
// until the returned function puts them back.
func breakRules(t *testing.T, db *database.DB) func() {
	t.Helper()
	if _, err := db.Exec(context.Background(), `ALTER TABLE crisis_rules RENAME TO crisis_rules_gone`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := db.Exec(context.Background(), `ALTER TABLE crisis_rules_gone RENAME TO crisis_rules`); err != nil {
			t.Fatal(err)
		}
	}
}

// A check-in answered "worse" and its new event commit together: when the
// event cannot be opened the answer is not kept either, so the person can
// answer again and reach a counselor.
func TestWorseAnswerAndItsEventCommitTogether(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		v, _ := vault.Parse(vault.NewKeySpec("r2"))
		s, _ := node(t, db, v, persona.Workflow{EscalateAfter: time.Hour})
		ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-worse", Role: access.Member})
		const id = "01a20143-cb0d-7ea6-bc7a-a6fd22f94700"
		now := time.Now()
		if _, err := db.Exec(ctx, `INSERT INTO crisis_checkins (id, user_id, level, category, language, status, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			id, "u-worse", "moderate", "suicidal_ideation", "en", persona.CheckinPending, now.Add(time.Hour), now); err != nil {
			t.Fatal(err)
		}
		restore := breakRules(t, db)
		if _, err := s.AnswerCheckin(ctx, id, persona.CheckinAnswer{Feeling: persona.FeelingWorse}); err == nil {
			t.Fatal("answer accepted without its event")
		}
		restore()
		r, err := s.AnswerCheckin(ctx, id, persona.CheckinAnswer{Feeling: persona.FeelingWorse})
		if err != nil || r.CheckIn.Status != persona.CheckinAnswered {
			t.Fatalf("second answer: %v %+v", err, r)
		}
		if list, _ := s.Events(context.Background(), "open", 10); len(list) != 1 || list[0].Source != "checkin" {
			t.Fatalf("events %+v", list)
		}
	})
}

// A positive PHQ-9 item 9 is stored with its event or not at all.
func TestPositiveItem9AndItsEventCommitTogether(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		v, _ := vault.Parse(vault.NewKeySpec("r3"))
		s, _ := node(t, db, v, persona.Workflow{EscalateAfter: time.Hour})
		ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-phq", Role: access.Member})
		in := persona.AssessmentInput{Type: persona.PHQ9, Answers: []int{1, 1, 1, 1, 1, 1, 1, 1, 2}}
		restore := breakRules(t, db)
		if _, err := s.AddAssessment(ctx, in); err == nil {
			t.Fatal("assessment stored without its event")
		}
		restore()
		if list, _ := s.Assessments(ctx, "", 10); len(list) != 0 {
			t.Fatalf("assessment kept without its event: %+v", list)
		}
		if _, err := s.AddAssessment(ctx, in); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.Events(context.Background(), "open", 10); len(list) != 1 || list[0].Source != "assessment" {
			t.Fatalf("events %+v", list)
		}
	})
}

// A pending moderate check-in does not swallow a high-risk event's: it is
// expired (audited) and the event's check-in is put to the person.
func TestSeriousCheckinReplacesAPendingMilderOne(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		v, _ := vault.Parse(vault.NewKeySpec("r4"))
		s, q := node(t, db, v, persona.Workflow{EscalateAfter: time.Hour})
		ctx := access.WithPrincipal(context.Background(), access.Principal{UserID: "u-ci", Role: access.Member})
		p, _ := access.From(ctx)
		const mild = "01a20143-cb0d-7ea6-bc7a-a6fd22f94701"
		now := time.Now()
		account(t, db, "u-ci", "active")
		if _, err := db.Exec(ctx, `INSERT INTO crisis_checkins (id, user_id, level, category, language, status, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			mild, "u-ci", "moderate", "suicidal_ideation", "en", persona.CheckinPending, now.Add(time.Hour), now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(ctx, p, []string{"I'm going to take all my pills tonight"}); err != nil {
			t.Fatal(err)
		}
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer stop(t, q)
		list, err := q.JobsOfKind(context.Background(), "crisis_checkin")
		if err != nil || len(list) != 1 {
			t.Fatalf("check-in jobs %v %v", list, err)
		}
		if err := q.RunNow(context.Background(), list[0].ID); err != nil {
			t.Fatal(err)
		}
		var got []persona.CheckIn
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if got, _ = s.Checkins(ctx); len(got) == 1 && got[0].Level == "high" {
				break
			}
		}
		if len(got) != 1 || got[0].Level != "high" || got[0].EventID == nil {
			t.Fatalf("pending check-ins %+v", got)
		}
		var status string
		if err := db.QueryRow(ctx, `SELECT status FROM crisis_checkins WHERE id = ?`, mild).Scan(&status); err != nil || status != persona.CheckinExpired {
			t.Fatalf("the moderate check-in is %s (%v)", status, err)
		}
		if n := auditCount(t, db, "crisis.checkin_expired"); n != 1 {
			t.Fatalf("checkin_expired audited %d times", n)
		}
	})
}
