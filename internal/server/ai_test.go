package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"mitra/internal/ai"
	"mitra/internal/ai/fakeupstream"
	"mitra/internal/auth/authtest"
	"mitra/internal/platform/access"
	"mitra/internal/platform/config"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/server"
)

const upstreamKey = "sk-or-v1-upstream-secret"

func aiServer(t *testing.T) (*httptest.Server, *fakeupstream.Server, string) {
	t.Helper()
	fake := fakeupstream.New(fakeupstream.Options{APIKey: upstreamKey})
	base, closeFake := fake.Start()
	t.Cleanup(closeFake)
	s, _ := newServerWithAI(t, dbtest.SQLite(t), nil, authtest.Memory, ai.Config{BaseURL: base, APIKey: upstreamKey, DefaultModel: "openai/gpt-4o-mini",
		Models: []string{"openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"}})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	_, b := (client{t: t, h: s, ip: "198.51.100.40"}).do(http.MethodPost, "/api/v1/auth/register", map[string]string{"email": "sdk@example.com", "password": "correct horse battery", "name": "SDK"})
	return srv, fake, b["access_token"].(string)
}

// Any OpenAI SDK works against Mitra with a Mitra access token as its key:
// proven with the official Go SDK, streaming and not.
func TestOpenAIGoSDKAgainstMitra(t *testing.T) {
	srv, fake, token := aiServer(t)
	c := openai.NewClient(option.WithBaseURL(srv.URL+"/api/v1/ai/"), option.WithAPIKey(token), option.WithMaxRetries(0))
	ctx := context.Background()
	comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "openai/gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Halo, apa kabar?")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(comp.Choices) == 0 || comp.Choices[0].Message.Content == "" || comp.Usage.TotalTokens == 0 {
		t.Fatalf("completion %+v", comp)
	}
	stream := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    "openai/gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me something kind.")},
	})
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if chunks < 3 || acc.Choices[0].Message.Content == "" || acc.Usage.TotalTokens == 0 {
		t.Fatalf("stream: %d chunks, %+v", chunks, acc)
	}
	// The Mitra token never went upstream; the upstream key never came back.
	for _, r := range fake.Requests() {
		if strings.Contains(r.Authorization, token) || r.Authorization != "Bearer "+upstreamKey {
			t.Fatalf("upstream saw Authorization %q", r.Authorization)
		}
	}
	// A mid-stream failure reaches the SDK as an error.
	fake.Enqueue(fakeupstream.Scenario{MidStreamError: true})
	bad := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    "openai/gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("one two three four five six seven eight")},
	})
	for bad.Next() {
	}
	if bad.Err() == nil {
		t.Fatal("mid-stream error not surfaced to the SDK")
	}
}

func TestAIChatOverHTTP(t *testing.T) {
	srv, fake, token := aiServer(t)
	post := func(body string, tok string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/ai/chat", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post(`{"messages":[{"role":"user","content":"halo"}]}`, token)
	if resp.StatusCode != 200 || !strings.Contains(body, `"message":{"role":"assistant"`) || !strings.Contains(body, `"usage"`) {
		t.Fatalf("chat: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("X-AI-Tokens-Daily-Remaining") == "" || resp.Header.Get("RateLimit-Remaining") == "" {
		t.Fatalf("quota headers missing: %v", resp.Header)
	}
	resp, body = post(`{"messages":[{"role":"user","content":"halo"}],"stream":true}`, token)
	if resp.Header.Get("Content-Type") != "text/event-stream" || !strings.HasSuffix(strings.TrimSpace(body), "data: [DONE]") {
		t.Fatalf("stream: %d %s", resp.StatusCode, body)
	}
	if resp, body := post(`{"messages":[]}`, token); resp.StatusCode != 422 || !strings.Contains(body, "body.messages") {
		t.Fatalf("empty messages: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post(`{"messages":[{"role":"user","content":"x"}]}`, ""); resp.StatusCode != 401 {
		t.Fatalf("anonymous: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/ai/usage", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("usage: %v %v", resp, err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"recent"`) || !strings.Contains(string(b), `"daily_remaining"`) {
			t.Fatalf("usage body: %s", b)
		}
	}
	// The calls are part of the user's privacy export.
	var me struct{ ID string }
	meReq, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/auth/me", nil)
	meReq.Header.Set("Authorization", "Bearer "+token)
	if r, err := http.DefaultClient.Do(meReq); err == nil {
		_ = json.NewDecoder(r.Body).Decode(&me)
		r.Body.Close()
	}
	exReq, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/users/"+me.ID+"/export", nil)
	exReq.Header.Set("Authorization", "Bearer "+token)
	if r, err := http.DefaultClient.Do(exReq); err != nil || r.StatusCode != 200 {
		t.Fatalf("export: %v %v", r, err)
	} else {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if !strings.Contains(string(b), `"ai":{"calls":[`) {
			t.Fatalf("export lacks AI calls: %.300s", b)
		}
	}
	fake.Enqueue(fakeupstream.Scenario{Status: 403})
	resp, body = post(`{"messages":[{"role":"user","content":"x"}]}`, token)
	if resp.StatusCode != 422 || !strings.Contains(body, "ai_refused") || strings.Contains(body, "flagged") || strings.Contains(body, upstreamKey) {
		t.Fatalf("refusal: %d %s", resp.StatusCode, body)
	}
}

// Without MITRA_AI_API_KEY every AI route answers 503 ai_unavailable and
// nothing else changes.
func TestAIUnavailableWithoutKey(t *testing.T) {
	s, _ := newServerEnv(t, dbtest.SQLite(t), nil, authtest.Memory)
	c, _ := signUp(t, s, "nokey@example.com")
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/ai/chat", `{"messages":[{"role":"user","content":"x"}]}`},
		{"POST", "/api/v1/ai/chat", `{"messages":[{"role":"user","content":"x"}]}`},
		{"POST", "/api/v1/ai/chat/completions", `{"model":"x","messages":[{"role":"user","content":"x"}]}`},
		{"GET", "/api/ai/models", ""},
		{"GET", "/api/v1/ai/models", ""},
		{"GET", "/api/v1/ai/usage", ""},
	} {
		var body any
		if r.body != "" {
			body = r.body
		}
		w, b := c.do(r.method, r.path, body)
		if w.Code != 503 || b["code"] != "ai_unavailable" {
			t.Errorf("%s %s: %d %v", r.method, r.path, w.Code, b)
		}
	}
	if w, _ := c.do(http.MethodGet, "/api/v1/auth/me", nil); w.Code != 200 {
		t.Fatalf("the rest changed: %d", w.Code)
	}
}

// A call never asks for more tokens than the caller has left.
func TestMaxTokensClampedToAllowance(t *testing.T) {
	fake := fakeupstream.New(fakeupstream.Options{APIKey: upstreamKey})
	base, closeFake := fake.Start()
	defer closeFake()
	db := dbtest.SQLite(t)
	e := authtest.New(t, db, authtest.Memory)
	gw := ai.New(ai.Config{BaseURL: base, APIKey: upstreamKey, DefaultModel: "openai/gpt-4o-mini"},
		ai.Deps{DB: db, Limiter: e.Limiter, Limits: map[access.Role]ai.RoleLimits{access.Member: {DailyTokens: 50, MonthlyTokens: 1000}}})
	defer gw.Close()
	conf, _, _ := config.Load("test", func(string) string { return "" }, nil, io.Discard, nil)
	s := server.New(server.Deps{Config: conf, DB: db, Auth: e.Svc, Limiter: e.Limiter, AI: gw})
	c, _ := signUp(t, s, "clamp@example.com")
	w, b := c.do(http.MethodPost, "/api/ai/chat", `{"messages":[{"role":"user","content":"hi"}],"max_tokens":4000}`)
	if w.Code != 200 {
		t.Fatalf("%d %v", w.Code, b)
	}
	got := fake.Requests()[0].Body["max_tokens"]
	if got != float64(50) {
		t.Fatalf("upstream asked for %v tokens, want the 50 left", got)
	}
}
