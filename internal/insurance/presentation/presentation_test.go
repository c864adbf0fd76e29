package presentation_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"mitra/internal/insurance/presentation"
	"mitra/internal/insurance/presentation/presentationtest"
	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/blob"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/ids"
)

var start = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// clock is a time the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is a service on a real database and a blob store in a temporary
// directory, with two agents, an administrator, a provider administrator
// and a member.
type env struct {
	svc                                 *presentation.Service
	db                                  *database.DB
	blobs                               *blob.Store
	blobDir                             string
	clock                               *clock
	agent, other, admin, staff, member  context.Context
	agentID, otherID, adminID, memberID string
}

func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	dir := t.TempDir()
	u, err := blob.FileURL(dir)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := blob.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	e := &env{db: db, blobs: bs, blobDir: dir, clock: &clock{t: start}}
	e.svc = presentation.NewService(db, bs, e.clock.now)
	mk := func(role access.Role) (context.Context, string) {
		id := ids.New()
		if _, err := db.Exec(context.Background(), `INSERT INTO users (id, name, role, status, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)`,
			id, "U "+string(role), string(role), start, start); err != nil {
			t.Fatal(err)
		}
		return access.WithPrincipal(context.Background(), access.Principal{UserID: id, Role: role}), id
	}
	e.agent, e.agentID = mk(access.Agent)
	e.other, e.otherID = mk(access.Agent)
	e.admin, e.adminID = mk(access.Admin)
	e.staff, _ = mk(access.ProviderAdmin)
	e.member, e.memberID = mk(access.Member)
	return e
}

func text(s string) presentation.SlideInput {
	return presentation.SlideInput{Type: "text", Overlay: &presentation.Overlay{Text: s}}
}

func ptr[T any](v T) *T { return &v }

func TestTemplates(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		list, err := e.svc.Templates(e.agent)
		if err != nil || len(list) < 3 {
			t.Fatalf("templates: %v %v", list, err)
		}
		names := map[string]bool{}
		for _, tp := range list {
			names[tp.Name] = true
			if len(tp.Slides) == 0 {
				t.Errorf("%s has no slides", tp.Name)
			}
			for _, s := range tp.Slides {
				// Every seeded slide passes the rules agents are held to.
				if s.Type != "text" || s.Overlay.Text == "" || len(s.Overlay.Text) > presentation.MaxOverlayText ||
					s.Overlay.FontSize < presentation.MinFontSize || s.Overlay.FontSize > presentation.MaxFontSize {
					t.Errorf("%s: bad slide %+v", tp.Name, s)
				}
			}
		}
		for _, n := range []string{"Term plan basics", "Child education", "Retirement"} {
			if !names[n] {
				t.Errorf("template %q missing", n)
			}
		}
		// Starting from each template gives a valid presentation.
		for _, tp := range list {
			p, err := e.svc.Create(e.agent, presentation.CreateInput{TemplateID: tp.ID})
			if err != nil || p.Title != tp.Name || p.TemplateID != tp.ID || len(p.Slides) != len(tp.Slides) || p.Slides[0].Overlay.Text != tp.Slides[0].Overlay.Text {
				t.Fatalf("from %s: %+v %v", tp.Name, p, err)
			}
		}
		if _, err := e.svc.Templates(context.Background()); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("anonymous: %v", err)
		}
	})
}

func TestValidation(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		img, _, err := upload(e.agent, e.svc, presentationtest.PNG(300, 300), "")
		if err != nil {
			t.Fatal(err)
		}
		vid, _, err := upload(e.agent, e.svc, presentationtest.MP4("isom", 5000), "")
		if err != nil {
			t.Fatal(err)
		}
		theirs, _, err := upload(e.other, e.svc, presentationtest.PNG(301, 300), "")
		if err != nil {
			t.Fatal(err)
		}
		over := func(o presentation.Overlay) []presentation.SlideInput {
			return []presentation.SlideInput{{Type: "text", Overlay: &o}}
		}
		many := make([]presentation.SlideInput, presentation.MaxSlides+1)
		for i := range many {
			many[i] = text(fmt.Sprint("slide ", i))
		}
		cases := []struct {
			name  string
			in    presentation.CreateInput
			field string
		}{
			{"no title", presentation.CreateInput{}, "body.title"},
			{"blank title", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "   "}}, "body.title"},
			{"long title", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: strings.Repeat("a", 121)}}, "body.title"},
			{"long description", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Description: strings.Repeat("d", 501)}}, "body.description"},
			{"ends before it starts", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", StartsAt: ptr(start.Add(time.Hour)), EndsAt: ptr(start)}}, "body.ends_at"},
			{"ends when it starts", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", StartsAt: ptr(start), EndsAt: ptr(start)}}, "body.ends_at"},
			{"too many slides", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: many}}, "body.slides"},
			{"unknown type", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "gif"}}}}, "body.slides[0].type"},
			{"text without overlay", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "text"}}}}, "body.slides[0].overlay"},
			{"text with a file", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "text", MediaID: img.ID, Overlay: &presentation.Overlay{Text: "x"}}}}}, "body.slides[0].media_id"},
			{"image without file", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "image"}}}}, "body.slides[0].media_id"},
			{"image showing a video", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "image", MediaID: vid.ID}}}}, "body.slides[0].media_id"},
			{"video showing an image", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "video", MediaID: img.ID}}}}, "body.slides[0].media_id"},
			{"another agent's file", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "image", MediaID: theirs.ID}}}}, "body.slides[0].media_id"},
			{"unknown file", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "image", MediaID: ids.New()}}}}, "body.slides[0].media_id"},
			{"duration", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{Type: "text", DurationSeconds: 61, Overlay: &presentation.Overlay{Text: "x"}}}}}, "body.slides[0].duration_seconds"},
			{"blank overlay", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: over(presentation.Overlay{Text: "  "})}}, "body.slides[0].overlay.text"},
			{"long overlay", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: over(presentation.Overlay{Text: strings.Repeat("x", 281)})}}, "body.slides[0].overlay.text"},
			{"position", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: over(presentation.Overlay{Text: "x", Position: "middle"})}}, "body.slides[0].overlay.position"},
			{"short colour", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: over(presentation.Overlay{Text: "x", TextColor: "#FFF"})}}, "body.slides[0].overlay.text_color"},
			{"named colour", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: over(presentation.Overlay{Text: "x", BackgroundColor: "red"})}}, "body.slides[0].overlay.background_color"},
			{"not hex", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: over(presentation.Overlay{Text: "x", TextColor: "#GGGGGG"})}}, "body.slides[0].overlay.text_color"},
			{"font too small", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: over(presentation.Overlay{Text: "x", FontSize: 11})}}, "body.slides[0].overlay.font_size"},
			{"font too large", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: over(presentation.Overlay{Text: "x", FontSize: 97})}}, "body.slides[0].overlay.font_size"},
			{"slide id on create", presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{{ID: ids.New(), Type: "text", Overlay: &presentation.Overlay{Text: "x"}}}}}, "body.slides[0].id"},
			{"unknown template", presentation.CreateInput{TemplateID: ids.New()}, "body.template_id"},
		}
		for _, c := range cases {
			_, err := e.svc.Create(e.agent, c.in)
			ae, ok := apperr.As(err)
			if !ok || ae.Code != apperr.Invalid || ae.HTTPStatus() != 422 {
				t.Errorf("%s: %v, want invalid", c.name, err)
				continue
			}
			found := false
			for _, f := range ae.Fields {
				found = found || f.Location == c.field
			}
			if !found {
				t.Errorf("%s: fields %+v, want %s", c.name, ae.Fields, c.field)
			}
		}
		// Every bad field is named at once.
		_, err = e.svc.Create(e.agent, presentation.CreateInput{PresentationInput: presentation.PresentationInput{
			Slides: over(presentation.Overlay{Text: "x", TextColor: "blue", FontSize: 200})}})
		if ae, _ := apperr.As(err); ae == nil || len(ae.Fields) != 3 {
			t.Fatalf("several errors: %v", err)
		}
		// Defaults, and colours in upper case.
		p, err := e.svc.Create(e.agent, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "  Mine  ", Slides: []presentation.SlideInput{
			text("Hello"),
			{Type: "image", MediaID: img.ID, Overlay: &presentation.Overlay{Text: "Look", TextColor: "#aabbcc"}},
			{Type: "video", MediaID: vid.ID, DurationSeconds: 30},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		s0, s1, s2 := p.Slides[0], p.Slides[1], p.Slides[2]
		if p.Title != "Mine" || p.AgentID != e.agentID || p.Active || s0.Position != 0 || s2.Position != 2 ||
			s0.DurationSeconds != presentation.DefaultDuration || s0.Overlay.Position != "center" || s0.Overlay.BackgroundColor != "#111827" || s0.Overlay.FontSize != presentation.DefaultFontSize ||
			s1.Overlay.Position != "bottom" || s1.Overlay.TextColor != "#AABBCC" || s1.Overlay.BackgroundColor != "" || s1.Media == nil || s1.Media.ID != img.ID || s1.Media.Width != 300 ||
			s2.Overlay != nil || s2.Media.Kind != "video" || s2.DurationSeconds != 30 {
			t.Fatalf("stored: %+v / %+v / %+v / %+v", p, s0, s1, s2)
		}
	})
}

func TestOwnership(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		mine, err := e.svc.Create(e.agent, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "mine", Slides: []presentation.SlideInput{text("a")}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Create(e.other, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "theirs"}}); err != nil {
			t.Fatal(err)
		}
		// Others are told it does not exist, for every operation.
		for name, ctx := range map[string]context.Context{"other agent": e.other, "provider admin": e.staff, "member": e.member} {
			checks := map[string]error{}
			_, checks["get"] = e.svc.Get(ctx, mine.ID)
			_, checks["update"] = e.svc.Update(ctx, mine.ID, presentation.PresentationInput{Title: "x"})
			_, checks["reorder"] = e.svc.Reorder(ctx, mine.ID, []string{mine.Slides[0].ID})
			_, checks["activate"] = e.svc.Activate(ctx, mine.ID)
			_, checks["deactivate"] = e.svc.Deactivate(ctx, mine.ID)
			_, checks["active"] = e.svc.Active(ctx, e.agentID)
			checks["delete"] = e.svc.Delete(ctx, mine.ID)
			for op, err := range checks {
				want := presentation.CodePresentationNotFound
				if op == "active" {
					want = presentation.CodeAgentNotFound
				}
				if e, ok := apperr.As(err); !ok || e.Code != want || e.HTTPStatus() != 404 {
					t.Errorf("%s %s: %v, want 404 %s", name, op, err, want)
				}
			}
		}
		if _, err := e.svc.Create(e.other, presentation.CreateInput{AgentID: e.agentID, PresentationInput: presentation.PresentationInput{Title: "x"}}); apperr.CodeOf(err) != presentation.CodeAgentNotFound {
			t.Fatalf("creating for another agent: %v", err)
		}
		if _, _, err := e.svc.List(e.other, presentation.ListQuery{AgentID: e.agentID}); apperr.CodeOf(err) != presentation.CodeAgentNotFound {
			t.Fatalf("listing another agent's: %v", err)
		}
		for name, ctx := range map[string]context.Context{"provider admin": e.staff, "member": e.member} {
			if _, _, err := e.svc.List(ctx, presentation.ListQuery{}); apperr.CodeOf(err) != presentation.CodeNotAnAgent {
				t.Errorf("%s list: %v", name, err)
			}
			if _, err := e.svc.Create(ctx, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "x"}}); apperr.CodeOf(err) != presentation.CodeNotAnAgent {
				t.Errorf("%s create: %v", name, err)
			}
		}
		// The owner's list holds only theirs.
		list, _, err := e.svc.List(e.agent, presentation.ListQuery{})
		if err != nil || len(list) != 1 || list[0].ID != mine.ID || list[0].SlideCount != 1 {
			t.Fatalf("own list: %+v %v", list, err)
		}
		// Administrators see and act on everyone's.
		if p, err := e.svc.Get(e.admin, mine.ID); err != nil || p.ID != mine.ID {
			t.Fatalf("admin get: %v", err)
		}
		all, _, err := e.svc.List(e.admin, presentation.ListQuery{})
		if err != nil || len(all) != 2 {
			t.Fatalf("admin list: %d %v", len(all), err)
		}
		one, _, err := e.svc.List(e.admin, presentation.ListQuery{AgentID: e.otherID})
		if err != nil || len(one) != 1 || one[0].AgentID != e.otherID {
			t.Fatalf("admin list of one agent: %+v %v", one, err)
		}
		if _, _, err := e.svc.List(e.admin, presentation.ListQuery{AgentID: e.memberID}); apperr.CodeOf(err) != presentation.CodeAgentNotFound {
			t.Fatalf("admin list of a member: %v", err)
		}
		if _, err := e.svc.Create(e.admin, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "x"}}); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("admin create without agent: %v", err)
		}
		made, err := e.svc.Create(e.admin, presentation.CreateInput{AgentID: e.agentID, PresentationInput: presentation.PresentationInput{Title: "made for you"}})
		if err != nil || made.AgentID != e.agentID {
			t.Fatalf("admin create: %+v %v", made, err)
		}
		if _, err := e.svc.Active(e.admin, e.memberID); apperr.CodeOf(err) != presentation.CodeAgentNotFound {
			t.Fatalf("active of a member: %v", err)
		}
		// Pages.
		for i := 0; i < 3; i++ {
			if _, err := e.svc.Create(e.agent, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: fmt.Sprint("p", i)}}); err != nil {
				t.Fatal(err)
			}
		}
		page1, next, err := e.svc.List(e.agent, presentation.ListQuery{Limit: 3})
		if err != nil || len(page1) != 3 || next == "" || page1[0].Title != "p2" {
			t.Fatalf("page 1: %+v %q %v", page1, next, err)
		}
		page2, next, err := e.svc.List(e.agent, presentation.ListQuery{Limit: 3, Cursor: next})
		if err != nil || len(page2) != 2 || next != "" || page2[1].ID != mine.ID {
			t.Fatalf("page 2: %+v %q %v", page2, next, err)
		}
		if _, _, err := e.svc.List(e.agent, presentation.ListQuery{Cursor: "!!"}); apperr.CodeOf(err) != apperr.Invalid {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

func TestUpdateAndReorder(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		p, err := e.svc.Create(e.agent, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "p", Slides: []presentation.SlideInput{text("a"), text("b"), text("c")}}})
		if err != nil {
			t.Fatal(err)
		}
		a, b, c := p.Slides[0].ID, p.Slides[1].ID, p.Slides[2].ID
		r, err := e.svc.Reorder(e.agent, p.ID, []string{c, a, b})
		if err != nil || r.Slides[0].ID != c || r.Slides[1].ID != a || r.Slides[2].ID != b || r.Slides[0].Overlay.Text != "c" || r.Slides[2].Position != 2 {
			t.Fatalf("reorder: %+v %v", r.Slides, err)
		}
		for name, order := range map[string][]string{"missing": {c, a}, "twice": {c, a, a}, "foreign": {c, a, ids.New()}, "extra": {c, a, b, b}, "none": nil} {
			if _, err := e.svc.Reorder(e.agent, p.ID, order); apperr.CodeOf(err) != apperr.Invalid || field(err) != "body.slide_ids" {
				t.Errorf("reorder %s: %v", name, err)
			}
		}
		if got, _ := e.svc.Get(e.agent, p.ID); got.Slides[0].ID != c {
			t.Fatal("a refused reorder changed the order")
		}
		// Update keeps the slides sent with their id, drops the others and
		// adds new ones, in the order sent.
		kept := text("b, edited")
		kept.ID = b
		u, err := e.svc.Update(e.agent, p.ID, presentation.PresentationInput{Title: "renamed", Description: "d", Slides: []presentation.SlideInput{kept, text("new")}})
		if err != nil || u.Title != "renamed" || len(u.Slides) != 2 || u.Slides[0].ID != b || u.Slides[0].Overlay.Text != "b, edited" || u.Slides[1].ID == a || u.Slides[1].ID == c {
			t.Fatalf("update: %+v %v", u, err)
		}
		stale := text("x")
		stale.ID = a // dropped just before
		if _, err := e.svc.Update(e.agent, p.ID, presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{stale}}); field(err) != "body.slides[0].id" {
			t.Fatalf("stale slide id: %v", err)
		}
		twice := []presentation.SlideInput{kept, kept}
		if _, err := e.svc.Update(e.agent, p.ID, presentation.PresentationInput{Title: "t", Slides: twice}); field(err) != "body.slides[1].id" {
			t.Fatalf("slide id twice: %v", err)
		}
		// Another presentation's slide id is not this one's.
		q, _ := e.svc.Create(e.agent, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "q", Slides: []presentation.SlideInput{text("q")}}})
		foreign := text("x")
		foreign.ID = q.Slides[0].ID
		if _, err := e.svc.Update(e.agent, p.ID, presentation.PresentationInput{Title: "t", Slides: []presentation.SlideInput{foreign}}); field(err) != "body.slides[0].id" {
			t.Fatalf("foreign slide id: %v", err)
		}
		if _, err := e.svc.Update(e.agent, ids.New(), presentation.PresentationInput{Title: "t"}); apperr.CodeOf(err) != presentation.CodePresentationNotFound {
			t.Fatalf("update of nothing: %v", err)
		}
	})
}

func TestOneActiveAndSchedule(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		mk := func(title string, in presentation.PresentationInput) *presentation.Presentation {
			in.Title = title
			if in.Slides == nil {
				in.Slides = []presentation.SlideInput{text(title)}
			}
			p, err := e.svc.Create(e.agent, presentation.CreateInput{PresentationInput: in})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		p1, p2 := mk("one", presentation.PresentationInput{}), mk("two", presentation.PresentationInput{})
		if _, err := e.svc.Active(e.agent, e.agentID); apperr.CodeOf(err) != presentation.CodeNoActive {
			t.Fatalf("nothing active: %v", err)
		}
		if a, err := e.svc.Activate(e.agent, p1.ID); err != nil || !a.Active {
			t.Fatalf("activate: %+v %v", a, err)
		}
		if a, err := e.svc.Active(e.agent, e.agentID); err != nil || a.ID != p1.ID || len(a.Slides) != 1 {
			t.Fatalf("active: %+v %v", a, err)
		}
		// Activating the other stops the first.
		if _, err := e.svc.Activate(e.agent, p2.ID); err != nil {
			t.Fatal(err)
		}
		if g, _ := e.svc.Get(e.agent, p1.ID); g.Active {
			t.Fatal("two active presentations")
		}
		if a, _ := e.svc.Active(e.agent, e.agentID); a == nil || a.ID != p2.ID {
			t.Fatalf("active after switching: %+v", a)
		}
		// Again is harmless.
		if _, err := e.svc.Activate(e.agent, p2.ID); err != nil {
			t.Fatal(err)
		}
		// Another agent's activation does not touch this agent's.
		q, _ := e.svc.Create(e.other, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: "q", Slides: []presentation.SlideInput{text("q")}}})
		if _, err := e.svc.Activate(e.other, q.ID); err != nil {
			t.Fatal(err)
		}
		if a, _ := e.svc.Active(e.agent, e.agentID); a == nil || a.ID != p2.ID {
			t.Fatal("another agent's activation changed this one's")
		}
		// The database refuses a second active row, whatever the code does.
		_, err := db.Exec(context.Background(), `UPDATE presentations SET is_active = TRUE WHERE id = ?`, p1.ID)
		if !database.IsUniqueViolation(err) {
			t.Fatalf("second active row: %v", err)
		}
		// Empty presentations are not shown, nor emptied while shown.
		empty := mk("empty", presentation.PresentationInput{Slides: []presentation.SlideInput{}})
		if _, err := e.svc.Activate(e.agent, empty.ID); apperr.CodeOf(err) != presentation.CodePresentationEmpty {
			t.Fatalf("activate empty: %v", err)
		}
		if a, _ := e.svc.Active(e.agent, e.agentID); a == nil || a.ID != p2.ID {
			t.Fatal("a refused activation changed the active presentation")
		}
		if _, err := e.svc.Update(e.agent, p2.ID, presentation.PresentationInput{Title: "two"}); apperr.CodeOf(err) != presentation.CodePresentationEmpty {
			t.Fatalf("empty the active one: %v", err)
		}
		// Schedule: shown only inside [starts_at, ends_at).
		keep := func(in presentation.PresentationInput) presentation.PresentationInput {
			g, _ := e.svc.Get(e.agent, p2.ID)
			in.Title = g.Title
			for _, s := range g.Slides {
				in.Slides = append(in.Slides, presentation.SlideInput{ID: s.ID, Type: s.Type, Overlay: s.Overlay})
			}
			return in
		}
		shown := func() bool {
			t.Helper()
			a, err := e.svc.Active(e.agent, e.agentID)
			if err != nil && apperr.CodeOf(err) != presentation.CodeNoActive {
				t.Fatal(err)
			}
			return a != nil
		}
		now := e.clock.now()
		if _, err := e.svc.Update(e.agent, p2.ID, keep(presentation.PresentationInput{StartsAt: ptr(now.Add(time.Hour))})); err != nil {
			t.Fatal(err)
		}
		if shown() {
			t.Fatal("shown before it starts")
		}
		e.clock.add(time.Hour)
		if !shown() {
			t.Fatal("not shown once started")
		}
		if _, err := e.svc.Update(e.agent, p2.ID, keep(presentation.PresentationInput{StartsAt: ptr(now), EndsAt: ptr(now.Add(2 * time.Hour))})); err != nil {
			t.Fatal(err)
		}
		e.clock.add(time.Hour - time.Second)
		if !shown() {
			t.Fatal("not shown just before the end")
		}
		e.clock.add(time.Second)
		if shown() {
			t.Fatal("shown at its end")
		}
		// Deactivation and deletion.
		if _, err := e.svc.Update(e.agent, p2.ID, keep(presentation.PresentationInput{})); err != nil {
			t.Fatal(err)
		}
		if d, err := e.svc.Deactivate(e.agent, p2.ID); err != nil || d.Active || shown() {
			t.Fatalf("deactivate: %+v %v", d, err)
		}
		if _, err := e.svc.Activate(e.admin, p1.ID); err != nil || !shown() {
			t.Fatalf("admin activation: %v", err)
		}
		if err := e.svc.Delete(e.agent, p1.ID); err != nil || shown() {
			t.Fatalf("delete the active one: %v", err)
		}
		if _, err := e.svc.Get(e.agent, p1.ID); apperr.CodeOf(err) != presentation.CodePresentationNotFound {
			t.Fatalf("after delete: %v", err)
		}
		var slides int
		if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM presentation_slides WHERE presentation_id = ?`, p1.ID).Scan(&slides); err != nil || slides != 0 {
			t.Fatalf("slides left: %d %v", slides, err)
		}
		// Audited: creation, activation, deactivation, deletion.
		entries, _, err := audit.List(context.Background(), db, audit.Filter{Action: "presentation.", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, en := range entries {
			seen[en.Action]++
			if en.Action == "presentation.deleted" && (en.TargetID != p1.ID || en.ActorID == nil || *en.ActorID != e.agentID) {
				t.Errorf("deletion entry: %+v", en)
			}
		}
		if seen["presentation.created"] != 4 || seen["presentation.activated"] < 3 || seen["presentation.deactivated"] != 1 || seen["presentation.deleted"] != 1 {
			t.Fatalf("audit: %v", seen)
		}
	})
}

// Concurrent activations of an agent's presentations leave exactly one
// active: the transaction and the partial unique index agree.
func TestConcurrentActivation(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		var ps []string
		for i := 0; i < 4; i++ {
			p, err := e.svc.Create(e.agent, presentation.CreateInput{PresentationInput: presentation.PresentationInput{Title: fmt.Sprint(i), Slides: []presentation.SlideInput{text("x")}}})
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p.ID)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				if _, err := e.svc.Activate(e.agent, id); err != nil {
					errs <- err
				}
			}(ps[i%len(ps)])
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("activation failed: %v", err)
		}
		var n int
		if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM presentations WHERE agent_id = ? AND is_active = TRUE`, e.agentID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d active, %v", n, err)
		}
	})
}
