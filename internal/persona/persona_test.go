package persona_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"mitra/internal/persona"
	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/vault"
)

func newService(t *testing.T, db *database.DB) *persona.Service {
	t.Helper()
	v, err := vault.Parse(vault.NewKeySpec("p1"))
	if err != nil {
		t.Fatal(err)
	}
	return persona.NewService(db, v, time.Now)
}

func as(userID string, role access.Role) context.Context {
	return access.WithPrincipal(context.Background(), access.Principal{UserID: userID, SessionID: "s", Role: role})
}

func code(err error) apperr.Code {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return "?"
}

func TestResourcesByCountryWithInternationalFallback(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s := newService(t, db)
		ctx := context.Background()
		id, err := s.Resources(ctx, "ID")
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 3 || id[0].Phone != "112" || id[1].Phone != "119 ext 8" || id[2].Country != persona.InternationalCountry {
			t.Fatalf("Indonesia: %+v", id)
		}
		for country, phone := range map[string]string{"IN": "14416", "US": "988", "GB": "116 123", "MY": "03-7627 2929", "SG": "1767", "PH": "1553", "AU": "13 11 14"} {
			list, _ := s.Resources(ctx, country)
			if len(list) < 2 || list[0].Phone != phone || list[len(list)-1].URL != "https://findahelpline.com" {
				t.Fatalf("%s: %+v", country, list)
			}
		}
		fr, _ := s.Resources(ctx, "FR")
		if len(fr) != 1 || fr[0].URL != "https://findahelpline.com" {
			t.Fatalf("a country without its own list still gets the international one: %+v", fr)
		}
		// Administrators edit the directory; every change is audited.
		actx := as("admin-1", access.Admin)
		r, err := s.PutResource(actx, "", persona.ResourceInput{Country: "fr", Name: "SOS Amitié", Phone: "09 72 39 40 50", URL: "https://www.sos-amitie.com", Languages: []string{"fr"}})
		if err != nil || r.Country != "FR" {
			t.Fatalf("create: %+v %v", r, err)
		}
		fr, _ = s.Resources(ctx, "FR")
		if len(fr) != 2 || fr[0].Name != "SOS Amitié" {
			t.Fatalf("after create: %+v", fr)
		}
		off := false
		if _, err := s.PutResource(actx, r.ID, persona.ResourceInput{Country: "FR", Name: "SOS Amitié", Phone: "09 72 39 40 50", Active: &off}); err != nil {
			t.Fatal(err)
		}
		if fr, _ = s.Resources(ctx, "FR"); len(fr) != 1 {
			t.Fatalf("inactive resource still shown: %+v", fr)
		}
		if err := s.DeleteResource(actx, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteResource(actx, r.ID); code(err) != apperr.NotFound {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := s.PutResource(actx, "", persona.ResourceInput{Country: "XX1", Name: "x", Phone: "1"}); code(err) != apperr.Invalid {
			t.Fatalf("bad country: %v", err)
		}
		if _, err := s.PutResource(actx, "", persona.ResourceInput{Country: "FR", Name: "x", URL: "http://plain.example"}); code(err) != apperr.Invalid {
			t.Fatalf("plain http URL: %v", err)
		}
		entries, _, _ := audit.List(ctx, db, audit.Filter{Action: "crisis."})
		if len(entries) != 3 {
			t.Fatalf("%d audit entries, want 3", len(entries))
		}
	})
}

func TestMoodsAreOwnEncryptedAndTrended(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s := newService(t, db)
		alice, bob := as("alice", access.Member), as("bob", access.Member)
		for i, score := range []int{3, 5, 7} {
			m, err := s.AddMood(alice, persona.MoodInput{Score: score, Emotions: []string{" Tired ", "hopeful"}, Note: "private note " + string(rune('a'+i))})
			if err != nil || m.Emotions[0] != "tired" {
				t.Fatalf("add: %+v %v", m, err)
			}
		}
		var sealed string
		if err := db.QueryRow(context.Background(), `SELECT note_sealed FROM mood_checkins LIMIT 1`).Scan(&sealed); err != nil || strings.Contains(sealed, "private") {
			t.Fatalf("note stored in clear: %q %v", sealed, err)
		}
		h, err := s.Moods(alice, persona.MoodQuery{Limit: 2})
		if err != nil || len(h.Moods) != 2 || h.NextCursor == "" || h.Moods[0].Note != "private note c" {
			t.Fatalf("page: %+v %v", h, err)
		}
		if len(h.Weeks) != 1 || h.Weeks[0].Count != 3 || h.Weeks[0].Average != 5 || h.Weeks[0].Min != 3 || h.Weeks[0].Max != 7 {
			t.Fatalf("weeks: %+v", h.Weeks)
		}
		next, _ := s.Moods(alice, persona.MoodQuery{Limit: 2, Cursor: h.NextCursor})
		if len(next.Moods) != 1 {
			t.Fatalf("page 2: %+v", next.Moods)
		}
		other, _ := s.Moods(bob, persona.MoodQuery{})
		if len(other.Moods) != 0 {
			t.Fatalf("bob sees %d of alice's check-ins", len(other.Moods))
		}
		if _, err := s.AddMood(context.Background(), persona.MoodInput{Score: 5}); code(err) != apperr.Unauthorized {
			t.Fatalf("anonymous: %v", err)
		}
	})
}

func TestScoreBands(t *testing.T) {
	cases := []struct {
		kind     string
		answers  []int
		score    int
		severity string
	}{
		{persona.PHQ9, []int{0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, "minimal"},
		{persona.PHQ9, []int{1, 1, 1, 1, 0, 0, 0, 0, 0}, 4, "minimal"},
		{persona.PHQ9, []int{1, 1, 1, 1, 1, 0, 0, 0, 0}, 5, "mild"},
		{persona.PHQ9, []int{2, 2, 2, 2, 1, 0, 0, 0, 0}, 9, "mild"},
		{persona.PHQ9, []int{2, 2, 2, 2, 2, 0, 0, 0, 0}, 10, "moderate"},
		{persona.PHQ9, []int{2, 2, 2, 2, 2, 2, 2, 0, 0}, 14, "moderate"},
		{persona.PHQ9, []int{3, 3, 3, 3, 3, 0, 0, 0, 0}, 15, "moderately_severe"},
		{persona.PHQ9, []int{3, 3, 3, 3, 3, 3, 1, 0, 0}, 19, "moderately_severe"},
		{persona.PHQ9, []int{3, 3, 3, 3, 3, 3, 2, 0, 0}, 20, "severe"},
		{persona.PHQ9, []int{3, 3, 3, 3, 3, 3, 3, 3, 3}, 27, "severe"},
		{persona.GAD7, []int{1, 1, 1, 1, 0, 0, 0}, 4, "minimal"},
		{persona.GAD7, []int{1, 1, 1, 1, 1, 0, 0}, 5, "mild"},
		{persona.GAD7, []int{2, 2, 2, 2, 2, 0, 0}, 10, "moderate"},
		{persona.GAD7, []int{3, 3, 3, 3, 3, 0, 0}, 15, "severe"},
		{persona.GAD7, []int{3, 3, 3, 3, 3, 3, 3}, 21, "severe"},
	}
	for _, c := range cases {
		score, _, severity, err := persona.Score(c.kind, c.answers)
		if err != nil || score != c.score || severity != c.severity {
			t.Errorf("%s %v: %d %s %v; want %d %s", c.kind, c.answers, score, severity, err, c.score, c.severity)
		}
	}
	for _, bad := range [][]int{{0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 4}, {0, 0, 0, 0, 0, 0, 0, 0, -1}} {
		if _, _, _, err := persona.Score(persona.PHQ9, bad); code(err) != apperr.Invalid {
			t.Errorf("%v accepted", bad)
		}
	}
}

// PHQ-9 item 9 above zero answers with the crisis resources of the country.
func TestPHQ9Item9BringsResources(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s := newService(t, db)
		ctx := as("u1", access.Member)
		a, err := s.AddAssessment(ctx, persona.AssessmentInput{Type: persona.PHQ9, Answers: []int{1, 1, 1, 1, 1, 1, 1, 1, 0}})
		if err != nil || a.Crisis != nil || a.Score != 8 {
			t.Fatalf("item 9 = 0: %+v %v", a, err)
		}
		a, err = s.AddAssessment(ctx, persona.AssessmentInput{Type: persona.PHQ9, Answers: []int{0, 0, 0, 0, 0, 0, 0, 0, 1}, Country: "in"})
		if err != nil || a.Crisis == nil || a.Crisis.Item9 != 1 || a.Crisis.Resources[0].Phone != "14416" {
			t.Fatalf("item 9 = 1: %+v %v", a, err)
		}
		list, err := s.Assessments(ctx, "", 10)
		if err != nil || len(list) != 2 || list[0].Answers[8] != 1 {
			t.Fatalf("history: %+v %v", list, err)
		}
		var sealed string
		_ = db.QueryRow(context.Background(), `SELECT answers_sealed FROM assessments LIMIT 1`).Scan(&sealed)
		if strings.Contains(sealed, "[") {
			t.Fatalf("answers stored in clear: %q", sealed)
		}
		if other, _ := s.Assessments(as("u2", access.Member), "", 10); len(other) != 0 {
			t.Fatal("another user's questionnaires visible")
		}
	})
}

func TestPersonasAndSystemPrompt(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s := newService(t, db)
		ctx := as("admin", access.Admin)
		list, err := s.Personas(context.Background(), false)
		if err != nil || len(list) != 2 || list[0].SystemPrompt != "" || list[0].SafetyRules != "" {
			t.Fatalf("user list must hide prompts: %+v %v", list, err)
		}
		p, err := s.PutPersona(ctx, "", persona.PersonaInput{Name: "Kak Rani", Language: "id", SystemPrompt: "Kamu Kak Rani.", SafetyRules: "Jangan bahas cara melukai diri."})
		if err != nil {
			t.Fatal(err)
		}
		sys, err := s.SystemPrompt(context.Background(), p.ID)
		if err != nil || !strings.Contains(sys, "Kamu Kak Rani.") || !strings.Contains(sys, "Jangan bahas cara melukai diri.") || !strings.Contains(sys, "Never claim or imply to be human") {
			t.Fatalf("system prompt %q %v", sys, err)
		}
		if sys, _ := s.SystemPrompt(context.Background(), ""); sys != persona.BaseRules {
			t.Fatalf("no persona: %q", sys)
		}
		off := false
		if _, err := s.PutPersona(ctx, p.ID, persona.PersonaInput{Name: "Kak Rani", Language: "id", SystemPrompt: "x", SafetyRules: "y", Active: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SystemPrompt(context.Background(), p.ID); code(err) != "persona_not_found" {
			t.Fatalf("inactive persona: %v", err)
		}
		if err := s.DeletePersona(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SystemPrompt(context.Background(), "not-a-uuid"); code(err) != "persona_not_found" {
			t.Fatalf("bad id: %v", err)
		}
		entries, _, _ := audit.List(context.Background(), db, audit.Filter{Action: "persona."})
		if len(entries) != 3 {
			t.Fatalf("%d audit entries", len(entries))
		}
	})
}

func TestAnalyzeLocally(t *testing.T) {
	s := newService(t, dbtest.SQLite(t))
	ctx := as("u", access.Member)
	a, err := s.Analyze(ctx, persona.AnalyzeInput{Text: "aku sedih dan capek banget sama kerjaan di kantor"})
	if err != nil || a.Source != "local" || a.Mood.Valence >= 0 || a.Mood.Label == "neutral" || a.Risk.Level.String() != "none" || a.Language != "id" {
		t.Fatalf("%+v %v", a, err)
	}
	if strings.Join(a.Emotions, ",") != "sadness,fatigue" || strings.Join(a.Themes, ",") != "work" || len(a.Suggestions) == 0 {
		t.Fatalf("emotions %v themes %v suggestions %v", a.Emotions, a.Themes, a.Suggestions)
	}
	a, _ = s.Analyze(ctx, persona.AnalyzeInput{Text: "aku gak sedih kok, malah senang hari ini"})
	if a.Mood.Valence <= 0 {
		t.Fatalf("negated sadness read as negative: %+v", a.Mood)
	}
	a, _ = s.Analyze(ctx, persona.AnalyzeInput{Text: "I keep thinking about killing myself"})
	if a.Risk.Level.String() != "moderate" || !strings.Contains(a.Suggestions[0], "helpline") {
		t.Fatalf("risk %+v suggestions %v", a.Risk, a.Suggestions)
	}
	if _, err := s.Analyze(context.Background(), persona.AnalyzeInput{Text: "x"}); code(err) != apperr.Unauthorized {
		t.Fatalf("anonymous: %v", err)
	}
}

func TestHomeContentCachedPerDayAndShapedByMood(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s := newService(t, db)
		ctx := as("u-content", access.Member)
		c1, err := s.Content(ctx, persona.ContentInput{Language: "id"})
		if err != nil || c1.Source != "local" || c1.MoodContext != "none" || c1.Reflection == "" || c1.Tip == "" || c1.Affirmation == "" {
			t.Fatalf("%+v %v", c1, err)
		}
		c2, _ := s.Content(ctx, persona.ContentInput{Language: "id"})
		if !c2.CreatedAt.Equal(c1.CreatedAt) || c2.Reflection != c1.Reflection {
			t.Fatal("content not cached for the day")
		}
		for _, score := range []int{2, 3, 3} {
			if _, err := s.AddMood(ctx, persona.MoodInput{Score: score}); err != nil {
				t.Fatal(err)
			}
		}
		c3, _ := s.Content(ctx, persona.ContentInput{Language: "en", Regenerate: true})
		if c3.MoodContext != "low" || c3.Language != "en" {
			t.Fatalf("mood shaping: %+v", c3)
		}
	})
}

// High risk in chat and PHQ-9 item 9 open crisis events; counselors work
// them; the report counts without identifying anyone.
func TestCrisisEventsQueueAndReport(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s := newService(t, db)
		user := as("u-risk", access.Member)
		p, _ := access.From(user)
		if n, err := s.Check(user, p, []string{"aku sering kepikiran bunuh diri akhir-akhir ini"}); err != nil || n == nil {
			t.Fatalf("moderate notice: %s %v", n, err)
		}
		if list, _ := s.Events(context.Background(), "", 10); len(list) != 0 {
			t.Fatalf("moderate risk opened an event: %+v", list)
		}
		if _, err := s.Check(user, p, []string{"aku mau bunuh diri malam ini, obatnya udah aku siapin"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(user, p, []string{"aku mau bunuh diri malam ini, obatnya udah aku siapin"}); err != nil {
			t.Fatal(err)
		}
		list, err := s.Events(context.Background(), "", 10)
		if err != nil || len(list) != 1 || list[0].Level.String() != "high" || list[0].Source != "chat" || list[0].UserID != "u-risk" {
			t.Fatalf("one event per episode: %+v %v", list, err)
		}
		if _, err := s.AddAssessment(as("u-phq", access.Member), persona.AssessmentInput{Type: persona.PHQ9, Answers: []int{0, 0, 0, 0, 0, 0, 0, 0, 2}}); err != nil {
			t.Fatal(err)
		}
		list, _ = s.Events(context.Background(), "open", 10)
		if len(list) != 2 {
			t.Fatalf("assessment event missing: %+v", list)
		}
		counselor := as("c-1", access.Counselor)
		ev, err := s.Transition(counselor, list[0].ID, persona.EventAcknowledged, "Called the user; they are with family.")
		if err != nil || ev.Status != "acknowledged" || *ev.AcknowledgedBy != "c-1" || len(ev.Notes) != 1 || ev.Notes[0].Note == "" {
			t.Fatalf("acknowledge: %+v %v", ev, err)
		}
		var sealed string
		_ = db.QueryRow(context.Background(), `SELECT note_sealed FROM crisis_event_notes LIMIT 1`).Scan(&sealed)
		if strings.Contains(sealed, "family") {
			t.Fatal("note stored in clear")
		}
		if _, err := s.Transition(counselor, list[0].ID, persona.EventAcknowledged, ""); code(err) != "invalid_transition" {
			t.Fatalf("acknowledging twice: %v", err)
		}
		if ev, err = s.Transition(counselor, list[0].ID, persona.EventResolved, ""); err != nil || ev.Status != "resolved" {
			t.Fatalf("resolve: %+v %v", ev, err)
		}
		rows, err := s.Report(context.Background(), time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		notices, events := 0, 0
		for _, r := range rows {
			notices += r.Notices
			events += r.Events
		}
		if notices != 4 || events != 2 {
			t.Fatalf("report: %d notices, %d events: %+v", notices, events, rows)
		}
		all, _, _ := audit.List(context.Background(), db, audit.Filter{Action: "crisis."})
		if len(all) < 4 {
			t.Fatalf("crisis steps audited: %d", len(all))
		}
	})
}

// Replies written by the batching writer are all stored by Close; a reply
// to a conversation deleted meanwhile is dropped, not an error.
func TestReplyWriterBatches(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s := newService(t, db)
		s.StartReplyWriter()
		ctx := as("u-r", access.Member)
		p, _ := access.From(ctx)
		id, _, _, err := s.Prepare(ctx, p, "", "", [][2]string{{"user", "halo"}})
		if err != nil {
			t.Fatal(err)
		}
		gone, _, _, _ := s.Prepare(ctx, p, "", "", [][2]string{{"user", "bye"}})
		if err := s.DeleteConversation(ctx, gone); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 300; i++ {
			s.Reply(ctx, p, id, "jawaban")
		}
		s.Reply(ctx, p, gone, "lost")
		s.Close()
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM conversation_messages WHERE conversation_id = ? AND role = 'assistant'`, id).Scan(&n); err != nil || n != 300 {
			t.Fatalf("%d replies stored (%v), want 300", n, err)
		}
	})
}

// The reply names a listening service; the emergency number is named by
// the high-risk reply itself, not twice.
func TestSafeReplyNamesTheListeningService(t *testing.T) {
	s := newService(t, dbtest.SQLite(t))
	ctx := as("u-s", access.Member)
	p, _ := access.From(ctx)
	raw, err := s.Check(ctx, p, []string{"aku pengen bunuh diri malam ini"})
	if err != nil || raw == nil {
		t.Fatal(err)
	}
	var n persona.Notice
	_ = json.Unmarshal(raw, &n)
	if !strings.Contains(n.Reply, "SEJIWA") || strings.Count(n.Reply, "112") != 1 {
		t.Fatalf("reply: %s", n.Reply)
	}
}
