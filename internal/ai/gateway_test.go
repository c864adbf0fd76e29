package ai_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"mitra/internal/ai"
	"mitra/internal/ai/fakeupstream"
	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/ratelimit"
)

const upstreamKey = "sk-or-test-upstream-key"

// Every goroutine a test starts (streams, relays, upstream requests) must
// be gone when the tests end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type env struct {
	g    *ai.Gateway
	fake *fakeupstream.Server
	db   *database.DB
	p    access.Principal
}

func newEnv(t *testing.T, db *database.DB, mutate func(*ai.Config, *ai.Deps)) *env {
	t.Helper()
	fake := fakeupstream.New(fakeupstream.Options{APIKey: upstreamKey})
	base, closeFake := fake.Start()
	t.Cleanup(closeFake)
	cfg := ai.Config{BaseURL: base, APIKey: upstreamKey, DefaultModel: "openai/gpt-4o-mini",
		Models:    []string{"openai/gpt-4o-mini", "anthropic/claude-3.5-haiku", "meta-llama/llama-3.1-8b-instruct"},
		Fallbacks: []string{"anthropic/claude-3.5-haiku"}, AppURL: "https://mitra.example", AppName: "Mitra Test",
		MaxBackoff: 50 * time.Millisecond, IdleStreamTimeout: 2 * time.Second}
	deps := ai.Deps{DB: db, Limiter: ratelimit.NewMemory()}
	if mutate != nil {
		mutate(&cfg, &deps)
	}
	g := ai.New(cfg, deps)
	t.Cleanup(g.Close)
	return &env{g: g, fake: fake, db: db, p: access.Principal{UserID: "user-1", SessionID: "s1", Role: access.Member}}
}

func msgs(text string) []ai.Message { return []ai.Message{{Role: "user", Content: text}} }

func code(err error) apperr.Code {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return "?"
}

// lastRecord returns the newest ledger row.
func (e *env) lastRecord(t *testing.T) ai.Record {
	t.Helper()
	e.g.Flush()
	u, err := e.g.Usage(context.Background(), e.p)
	if err != nil || len(u.Recent) == 0 {
		t.Fatalf("no usage recorded: %v", err)
	}
	return u.Recent[0]
}

func TestCompleteRecordsUsageAndHidesKeys(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		comp, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("halo")}, ai.EndpointChat)
		if err != nil {
			t.Fatal(err)
		}
		if comp.Choices[0].Message.Content == "" || comp.Usage == nil || comp.Usage.Cost == nil {
			t.Fatalf("completion %+v", comp)
		}
		got := e.fake.Requests()
		if len(got) != 1 || got[0].Authorization != "Bearer "+upstreamKey || got[0].Referer != "https://mitra.example" || got[0].Title != "Mitra Test" {
			t.Fatalf("upstream saw %+v", got)
		}
		r := e.lastRecord(t)
		if r.Outcome != ai.OutcomeOK || r.TotalTokens != comp.Usage.TotalTokens || r.CostUSD == nil || r.Model != "openai/gpt-4o-mini" || r.Estimated {
			t.Fatalf("ledger %+v", r)
		}
		e.g.Flush()
		u, _ := e.g.Usage(context.Background(), e.p)
		if u.Today.Requests != 1 || u.Today.TotalTokens != int64(comp.Usage.TotalTokens) || *u.Quota.DailyRemaining != ai.DefaultLimits[access.Member].DailyTokens-int64(comp.Usage.TotalTokens) {
			t.Fatalf("usage %+v quota %+v", u.Today, u.Quota)
		}
	})
}

func TestRetriesHonourRetryAfterThenSucceed(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), func(c *ai.Config, _ *ai.Deps) { c.MaxBackoff = 2 * time.Second })
	e.fake.Enqueue(fakeupstream.Scenario{Status: 429, RetryAfter: "1"}, fakeupstream.Scenario{Status: 502})
	start := time.Now()
	if _, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("x")}, ai.EndpointChat); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < time.Second {
		t.Fatalf("Retry-After: 1 not honoured (%v)", took)
	}
	if r := e.lastRecord(t); r.Attempts != 3 || r.Outcome != ai.OutcomeOK {
		t.Fatalf("ledger %+v", r)
	}
}

func TestFallbackToNextModel(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), nil)
	e.fake.Enqueue(fakeupstream.Scenario{Model: "openai/gpt-4o-mini", Status: 503}, fakeupstream.Scenario{Model: "openai/gpt-4o-mini", Status: 503},
		fakeupstream.Scenario{Model: "openai/gpt-4o-mini", Status: 503})
	comp, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("x")}, ai.EndpointChat)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.lastRecord(t); r.Model != "anthropic/claude-3.5-haiku" || r.Attempts != 4 || comp.Model == "" {
		t.Fatalf("fallback: %+v", r)
	}
}

func TestUpstreamRefusalsMapToCodesWithoutUpstreamText(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), nil)
	cases := map[int]apperr.Code{400: ai.CodeBadRequest, 402: ai.CodeQuotaExhausted, 403: ai.CodeRefused}
	for status, want := range cases {
		e.fake.Reset()
		e.fake.Enqueue(fakeupstream.Scenario{Status: status})
		_, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("x")}, ai.EndpointChat)
		if code(err) != want {
			t.Fatalf("upstream %d: %v, want %s", status, err, want)
		}
		ae, _ := apperr.As(err)
		if strings.Contains(strings.ToLower(ae.Message), "credit") && status != 402 || strings.Contains(ae.Message, "flagged") {
			t.Fatalf("upstream text leaked: %q", ae.Message)
		}
		if n := len(e.fake.Requests()); n != 1 {
			t.Fatalf("upstream %d was retried (%d requests)", status, n)
		}
	}
}

func TestCircuitBreakerOpensAfterFailures(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), func(c *ai.Config, _ *ai.Deps) { c.Fallbacks = nil; c.MaxAttempts = 1 })
	for i := 0; i < 5; i++ {
		e.fake.Enqueue(fakeupstream.Scenario{Status: 500})
		if _, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("x")}, ai.EndpointChat); code(err) != ai.CodeUpstream {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	before := len(e.fake.Requests())
	_, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("x")}, ai.EndpointChat)
	if code(err) != ai.CodeUnavailable || len(e.fake.Requests()) != before {
		t.Fatalf("open circuit: %v (upstream called: %v)", err, len(e.fake.Requests()) != before)
	}
}

func TestNotConfiguredAndModelAllowList(t *testing.T) {
	off := ai.New(ai.Config{}, ai.Deps{DB: dbtest.SQLite(t)})
	defer off.Close()
	if _, err := off.Admit(context.Background(), access.Principal{UserID: "u", Role: access.Member}); code(err) != ai.CodeUnavailable {
		t.Fatalf("unconfigured: %v", err)
	}
	e := newEnv(t, dbtest.SQLite(t), nil)
	_, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("x"), Model: "openai/gpt-5-secret"}, ai.EndpointChat)
	if code(err) != ai.CodeModelNotAllowed || len(e.fake.Requests()) != 0 {
		t.Fatalf("disallowed model: %v", err)
	}
	models, err := e.g.Models(context.Background())
	if err != nil || len(models) != 3 {
		t.Fatalf("models %v %v", models, err)
	}
	for _, m := range models {
		if m.Object != "model" || m.ContextLength == 0 || len(m.Pricing) == 0 {
			t.Fatalf("model %+v", m)
		}
	}
	if _, err := e.g.Models(context.Background()); err != nil || e.fake.TotalRequests() != 1 {
		t.Fatalf("model list not cached: %d upstream calls", e.fake.TotalRequests())
	}
}

func TestTokenQuota(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), func(_ *ai.Config, d *ai.Deps) {
		d.Limits = map[access.Role]ai.RoleLimits{access.Member: {RequestsPerMinute: 100, DailyTokens: 10, MonthlyTokens: 1000}}
	})
	adm, err := e.g.Admit(context.Background(), e.p)
	if err != nil || adm.Quota.DailyRemaining != 10 {
		t.Fatalf("fresh quota: %+v %v", adm, err)
	}
	if _, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("a long enough message to use more than ten tokens in total")}, ai.EndpointChat); err != nil {
		t.Fatal(err)
	}
	e.g.Flush()
	_, err = e.g.Admit(context.Background(), e.p)
	if ae, ok := apperr.As(err); !ok || ae.Code != ai.CodeTokenQuota || ae.HTTPStatus() != 429 || ae.RetryAfter <= 0 {
		t.Fatalf("over quota: %v", err)
	}
}

func TestRequestRatePerRole(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), func(_ *ai.Config, d *ai.Deps) {
		d.Limits = map[access.Role]ai.RoleLimits{access.Member: {RequestsPerMinute: 2}}
	})
	for i := 0; i < 1; i++ {
		if _, err := e.g.Admit(context.Background(), e.p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.g.Admit(context.Background(), e.p); code(err) != apperr.RateLimited {
		t.Fatalf("second request of a 2/min, burst 1 limit: %v", err)
	}
}

// streamOnce runs one streaming call through a real HTTP server and
// returns the raw event lines the client received.
func streamOnce(t *testing.T, e *env, req ai.ChatRequest) []string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := e.g.Stream(r.Context(), e.p, req, ai.EndpointChat, w, nil); err != nil {
			http.Error(w, err.Error(), 500)
		}
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	return lines
}

func TestStreamRelaysChunksCommentsAndUsage(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		e.fake.Enqueue(fakeupstream.Scenario{KeepAlives: 2})
		lines := streamOnce(t, e, ai.ChatRequest{Messages: msgs("halo"), Stream: true})
		if len(lines) < 5 || !strings.HasPrefix(lines[0], ":") || !strings.HasPrefix(lines[1], ":") || lines[len(lines)-1] != "data: [DONE]" {
			t.Fatalf("events: %q", lines)
		}
		usageLine := lines[len(lines)-2]
		if !strings.Contains(usageLine, `"usage"`) || !strings.Contains(usageLine, "chat.completion.chunk") {
			t.Fatalf("last chunk lacks usage: %q", usageLine)
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "data: :") {
				t.Fatalf("comment re-wrapped as data: %q", l)
			}
		}
		if r := e.lastRecord(t); r.Outcome != ai.OutcomeOK || !r.Stream || r.Estimated || r.TotalTokens == 0 || r.TTFBMS == nil {
			t.Fatalf("ledger %+v", r)
		}
		if got := e.fake.Requests()[0].Body; got["stream"] != true {
			t.Fatalf("upstream body %v", got)
		}
	})
}

func TestStreamMidStreamErrorEndsWithErrorEvent(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), nil)
	e.fake.Enqueue(fakeupstream.Scenario{MidStreamError: true})
	lines := streamOnce(t, e, ai.ChatRequest{Messages: msgs("halo semua apa kabar hari ini"), Stream: true})
	last := lines[len(lines)-1]
	if !strings.Contains(last, `"error"`) || !strings.Contains(last, "ai_upstream_error") || strings.Contains(last, "[DONE]") {
		t.Fatalf("last event %q", last)
	}
	if r := e.lastRecord(t); r.Outcome != ai.OutcomeMidStreamError {
		t.Fatalf("ledger %+v", r)
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), func(c *ai.Config, _ *ai.Deps) { c.IdleStreamTimeout = 300 * time.Millisecond })
	e.fake.Enqueue(fakeupstream.Scenario{Hang: true})
	lines := streamOnce(t, e, ai.ChatRequest{Messages: msgs("x"), Stream: true})
	if last := lines[len(lines)-1]; !strings.Contains(last, string(ai.CodeTimeout)) {
		t.Fatalf("idle stream: %q", lines)
	}
	if r := e.lastRecord(t); r.Outcome != ai.OutcomeTimeout {
		t.Fatalf("ledger %+v", r)
	}
}

// The upstream request ends when the client goes away; the call is still
// recorded; no goroutine outlives the stream.
func TestStreamClientDisconnectCancelsUpstream(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), nil)
	e.fake.Enqueue(fakeupstream.Scenario{Hang: true})
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		_, _ = e.g.Stream(r.Context(), e.p, ai.ChatRequest{Messages: msgs("x"), Stream: true}, ai.EndpointChat, w, nil)
	}))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for e.fake.OpenStreams() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("handler still running after the client left")
	}
	for e.fake.OpenStreams() != 0 && time.Now().Before(deadline.Add(3*time.Second)) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := e.fake.OpenStreams(); n != 0 {
		t.Fatalf("upstream stream still open: %d", n)
	}
	if r := e.lastRecord(t); r.Outcome != ai.OutcomeClientDisconnected || !r.Estimated || r.PromptTokens == 0 {
		t.Fatalf("ledger %+v", r)
	}
	srv.Close()
	http.DefaultClient.CloseIdleConnections()
}

func TestSummaryGroups(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, nil)
		for _, u := range []string{"a", "a", "b"} {
			p := access.Principal{UserID: u, Role: access.Member}
			if _, err := e.g.Complete(context.Background(), p, ai.ChatRequest{Messages: msgs("x")}, ai.EndpointChat); err != nil {
				t.Fatal(err)
			}
		}
		e.g.Flush()
		for by, want := range map[string]int{"user": 2, "model": 1, "day": 1} {
			rows, err := e.g.Summary(context.Background(), by, time.Time{}, time.Time{}, 100)
			if err != nil || len(rows) != want {
				t.Fatalf("by %s: %+v %v", by, rows, err)
			}
		}
		rows, _ := e.g.Summary(context.Background(), "user", time.Time{}, time.Time{}, 100)
		if rows[0].Key != "a" || rows[0].Requests != 2 {
			t.Fatalf("by user: %+v", rows)
		}
		if _, err := e.g.Summary(context.Background(), "planet", time.Time{}, time.Time{}, 10); !errors.As(err, new(*apperr.Error)) {
			t.Fatalf("bad grouping: %v", err)
		}
	})
}

func TestFirstByteTimeout(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), func(c *ai.Config, _ *ai.Deps) {
		c.FirstByteTimeout, c.MaxAttempts, c.Fallbacks = 200*time.Millisecond, 1, nil
	})
	e.fake.Enqueue(fakeupstream.Scenario{FirstByteDelay: 2 * time.Second})
	start := time.Now()
	_, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("x")}, ai.EndpointChat)
	if code(err) != ai.CodeTimeout || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("slow upstream: %v after %v", err, time.Since(start))
	}
	if r := e.lastRecord(t); r.Outcome != ai.OutcomeTimeout {
		t.Fatalf("ledger %+v", r)
	}
}

// A 200 whose body says generation failed is a failure, not a short answer.
func TestNonStreamingErrorInsideA200(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), nil)
	e.fake.Enqueue(fakeupstream.Scenario{MidStreamError: true})
	_, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("one two three four five")}, ai.EndpointChat)
	if code(err) != ai.CodeUpstream {
		t.Fatalf("got %v", err)
	}
	if r := e.lastRecord(t); r.Outcome != ai.OutcomeMidStreamError {
		t.Fatalf("ledger %+v", r)
	}
}

// An upstream failure before any text costs the user no allowance.
func TestFailedCallsAreNotCharged(t *testing.T) {
	e := newEnv(t, dbtest.SQLite(t), func(c *ai.Config, _ *ai.Deps) { c.Fallbacks, c.MaxAttempts = nil, 1 })
	e.fake.Enqueue(fakeupstream.Scenario{Status: 503})
	if _, err := e.g.Complete(context.Background(), e.p, ai.ChatRequest{Messages: msgs("a long message to make the estimate visible")}, ai.EndpointChat); err == nil {
		t.Fatal("want a failure")
	}
	r := e.lastRecord(t)
	if r.Outcome != ai.OutcomeUpstreamError || r.TotalTokens != 0 {
		t.Fatalf("ledger %+v", r)
	}
	u, _ := e.g.Usage(context.Background(), e.p)
	if u.Today.TotalTokens != 0 || u.Today.Requests != 1 {
		t.Fatalf("usage %+v", u.Today)
	}
}
