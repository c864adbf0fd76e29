package fakeupstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "sk-or-v1-test"

type fixture struct {
	s      *Server
	base   string
	client *http.Client
	tr     *http.Transport
	close  func()
}

func start(t *testing.T, opts Options) *fixture {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	s := New(opts)
	base, closeFn := s.Start()
	tr := &http.Transport{}
	f := &fixture{s: s, base: base, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, tr: tr}
	f.close = func() { tr.CloseIdleConnections(); closeFn() }
	t.Cleanup(f.close)
	return f
}

func chatBody(stream bool, extra map[string]any) map[string]any {
	b := map[string]any{
		"model": "openai/gpt-4o-mini",
		"messages": []map[string]any{
			{"role": "system", "content": "Be brief."},
			{"role": "user", "content": "Hi there"},
		},
		"stream": stream,
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func (f *fixture) post(t *testing.T, ctx context.Context, body any) (*http.Response, error) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base+"/chat/completions", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("HTTP-Referer", "https://mitra.example")
	req.Header.Set("X-Title", "Mitra")
	return f.client.Do(req)
}

func (f *fixture) mustPost(t *testing.T, body any) *http.Response {
	t.Helper()
	resp, err := f.post(t, context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// sseLines returns the non-empty lines of an event stream and the read
// error that ended it (nil at a clean end).
func sseLines(r io.Reader) ([]string, error) {
	var lines []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, sc.Err()
}

type testChunk struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Choices []struct {
		Delta struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int     `json:"prompt_tokens"`
		CompletionTokens int     `json:"completion_tokens"`
		TotalTokens      int     `json:"total_tokens"`
		Cost             float64 `json:"cost"`
	} `json:"usage"`
	Error *struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func parseChunk(t *testing.T, line string) testChunk {
	t.Helper()
	payload, ok := strings.CutPrefix(line, "data: ")
	if !ok {
		t.Fatalf("not a data line: %q", line)
	}
	var c testChunk
	if err := json.Unmarshal([]byte(payload), &c); err != nil {
		t.Fatalf("chunk %q: %v", payload, err)
	}
	return c
}

type testError struct {
	Error struct {
		Code     int            `json:"code"`
		Message  string         `json:"message"`
		Metadata map[string]any `json:"metadata"`
	} `json:"error"`
}

func decodeError(t *testing.T, resp *http.Response) testError {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var e testError
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("error body: %v", err)
	}
	if e.Error.Code != resp.StatusCode || e.Error.Message == "" {
		t.Errorf("error = %+v, status %d", e.Error, resp.StatusCode)
	}
	return e
}

func TestModels(t *testing.T) {
	f := start(t, Options{})
	resp, err := f.client.Get(f.base + "/models") // no key needed, as on OpenRouter
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID            string `json:"id"`
			Name          string `json:"name"`
			Created       int64  `json:"created"`
			ContextLength int    `json:"context_length"`
			Pricing       struct {
				Prompt     string `json:"prompt"`
				Completion string `json:"completion"`
			} `json:"pricing"`
			TopProvider struct {
				ContextLength int `json:"context_length"`
			} `json:"top_provider"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(list.Data) != 4 {
		t.Fatalf("status %d, %d models", resp.StatusCode, len(list.Data))
	}
	m := list.Data[0]
	if m.ID != "openai/gpt-4o-mini" || m.Name == "" || m.Created == 0 || m.ContextLength != 128000 ||
		m.Pricing.Prompt != "0.00000015" || m.Pricing.Completion != "0.0000006" || m.TopProvider.ContextLength != 128000 {
		t.Errorf("first model = %+v", m)
	}

	// Mounted at the root, /models works too.
	ts := httptest.NewServer(New(Options{Models: []Model{{ID: "x/y", ContextLength: 8}}}).Handler())
	defer ts.Close()
	resp2, err := ts.Client().Get(ts.URL + "/models")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if !strings.Contains(string(body), `"id":"x/y"`) || !strings.Contains(string(body), `"prompt":"0"`) {
		t.Errorf("root /models = %s", body)
	}
}

func TestAuthAndValidation(t *testing.T) {
	f := start(t, Options{})
	f.s.Enqueue(Scenario{Status: 503})
	for _, tc := range []struct {
		name   string
		auth   string
		body   any
		status int
		msg    string
	}{
		{"no key", "", chatBody(false, nil), 401, "No auth credentials found"},
		{"wrong key", "Bearer nope", chatBody(false, nil), 401, "User not found."},
		{"no messages", "Bearer " + testKey, map[string]any{"model": "openai/gpt-4o-mini", "messages": []any{}}, 400, "messages"},
		{"unknown model", "Bearer " + testKey, chatBody(false, map[string]any{"model": "nope/nope"}), 400, "nope/nope is not a valid model ID"},
		{"not JSON", "Bearer " + testKey, "{", 400, "Invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := json.Marshal(tc.body)
			if s, ok := tc.body.(string); ok {
				raw = []byte(s)
			}
			req, _ := http.NewRequest(http.MethodPost, f.base+"/chat/completions", bytes.NewReader(raw))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := f.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if e := decodeError(t, resp); !strings.Contains(e.Error.Message, tc.msg) {
				t.Errorf("message = %q, want %q", e.Error.Message, tc.msg)
			}
		})
	}
	if f.s.Pending() != 1 {
		t.Errorf("refused requests took a scenario: %d pending", f.s.Pending())
	}
}

func TestCompletion(t *testing.T) {
	f := start(t, Options{Reply: "one two three four five six seven eight nine ten"})
	resp := f.mustPost(t, chatBody(false, map[string]any{"max_tokens": 50, "temperature": 0.2}))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("X-Generation-Id"), "gen-") {
		t.Fatalf("status %d, generation id %q", resp.StatusCode, resp.Header.Get("X-Generation-Id"))
	}
	var c struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index   int `json:"index"`
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int     `json:"prompt_tokens"`
			CompletionTokens int     `json:"completion_tokens"`
			TotalTokens      int     `json:"total_tokens"`
			Cost             float64 `json:"cost"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.ID, "gen-") || c.ID != resp.Header.Get("X-Generation-Id") || c.Object != "chat.completion" ||
		c.Created == 0 || c.Model != "openai/gpt-4o-mini" || len(c.Choices) != 1 {
		t.Fatalf("completion = %+v", c)
	}
	ch := c.Choices[0]
	if ch.Message.Role != "assistant" || ch.Message.Content != "one two three four five six seven eight nine ten" || ch.FinishReason != "stop" {
		t.Errorf("choice = %+v", ch)
	}
	// 4 prompt words -> 5 tokens, 10 reply words -> 13 tokens, at gpt-4o-mini prices.
	u := c.Usage
	if u.PromptTokens != 5 || u.CompletionTokens != 13 || u.TotalTokens != 18 || math.Abs(u.Cost-(5*0.00000015+13*0.0000006)) > 1e-12 {
		t.Errorf("usage = %+v", u)
	}

	// A scenario's reply and usage override the defaults.
	f.s.Enqueue(Scenario{Reply: "Custom <reply> & \"quotes\"", Usage: &Usage{PromptTokens: 7, CompletionTokens: 3, Cost: 0.5}})
	resp = f.mustPost(t, chatBody(false, nil))
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if c.Choices[0].Message.Content != `Custom <reply> & "quotes"` || c.Usage.TotalTokens != 10 || c.Usage.Cost != 0.5 {
		t.Errorf("override: %s", body)
	}
}

func TestStreaming(t *testing.T) {
	for _, tc := range []struct {
		name      string
		extra     map[string]any
		wantUsage bool
	}{
		{"no usage", nil, false},
		{"stream_options", map[string]any{"stream_options": map[string]any{"include_usage": true}}, true},
		{"usage.include", map[string]any{"usage": map[string]any{"include": true}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, Options{Reply: "Halo apa kabar?"})
			resp := f.mustPost(t, chatBody(true, tc.extra))
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			lines, err := sseLines(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if lines[len(lines)-1] != "data: [DONE]" {
				t.Fatalf("last line %q", lines[len(lines)-1])
			}
			lines = lines[:len(lines)-1]
			first := parseChunk(t, lines[0])
			if first.Object != "chat.completion.chunk" || !strings.HasPrefix(first.ID, "gen-") ||
				first.Choices[0].Delta.Role != "assistant" || first.Choices[0].FinishReason != nil {
				t.Errorf("first chunk %s", lines[0])
			}
			var text []string
			var finish string
			var usage *testChunk
			for _, l := range lines[1:] {
				c := parseChunk(t, l)
				if c.ID != first.ID || c.Model != "openai/gpt-4o-mini" {
					t.Errorf("chunk %s", l)
				}
				switch {
				case c.Usage != nil:
					if len(c.Choices) != 0 {
						t.Errorf("usage chunk with choices: %s", l)
					}
					usage = &c
				case c.Choices[0].FinishReason != nil:
					finish = *c.Choices[0].FinishReason
				default:
					if finish != "" {
						t.Errorf("content after finish: %s", l)
					}
					text = append(text, c.Choices[0].Delta.Content)
				}
			}
			if strings.Join(text, "|") != "Halo| apa| kabar?" || finish != "stop" {
				t.Errorf("pieces %q, finish %q", text, finish)
			}
			if (usage != nil) != tc.wantUsage {
				t.Fatalf("usage chunk present = %v", usage != nil)
			}
			if usage != nil {
				u := usage.Usage
				if u.PromptTokens != 5 || u.CompletionTokens != 4 || u.TotalTokens != 9 || u.Cost <= 0 {
					t.Errorf("usage %+v", u)
				}
			}
		})
	}
}

func TestChunksAndDelay(t *testing.T) {
	f := start(t, Options{Reply: "abcdefghi", Chunks: 3, ChunkDelay: 5 * time.Millisecond})
	began := time.Now()
	resp := f.mustPost(t, chatBody(true, nil))
	lines, err := sseLines(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// role, 3 pieces, finish, [DONE]: five pauses.
	if len(lines) != 6 || time.Since(began) < 25*time.Millisecond {
		t.Fatalf("%d lines in %v: %q", len(lines), time.Since(began), lines)
	}
	for i, want := range []string{"abc", "def", "ghi"} {
		if got := parseChunk(t, lines[1+i]).Choices[0].Delta.Content; got != want {
			t.Errorf("piece %d = %q", i, got)
		}
	}
}

func TestKeepAlives(t *testing.T) {
	f := start(t, Options{})
	f.s.Enqueue(Scenario{KeepAlives: 3})
	lines, err := sseLines(f.mustPost(t, chatBody(true, nil)).Body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if lines[i] != ": OPENROUTER PROCESSING" {
			t.Fatalf("line %d = %q", i, lines[i])
		}
	}
	if parseChunk(t, lines[3]).Choices[0].Delta.Role != "assistant" {
		t.Errorf("after keep-alives: %q", lines[3])
	}
	for _, l := range lines[4:] {
		if strings.HasPrefix(l, ":") {
			t.Errorf("keep-alive after the first chunk: %q", l)
		}
	}
}

func TestErrorStatuses(t *testing.T) {
	f := start(t, Options{})
	user := strings.Repeat("flag me ", 20)
	for _, stream := range []bool{false, true} {
		for _, status := range []int{400, 402, 403, 408, 429, 500, 502, 503} {
			retry := ""
			if status == 429 || status == 503 {
				retry = "7"
			}
			f.s.Enqueue(Scenario{Status: status, RetryAfter: retry})
			body := chatBody(stream, map[string]any{"messages": []map[string]any{{"role": "user", "content": user}}})
			resp := f.mustPost(t, body)
			if resp.StatusCode != status || resp.Header.Get("Retry-After") != retry {
				t.Fatalf("stream=%v: status %d, Retry-After %q; want %d", stream, resp.StatusCode, resp.Header.Get("Retry-After"), status)
			}
			e := decodeError(t, resp).Error
			switch status {
			case 402:
				if !strings.HasPrefix(e.Message, "Insufficient credits") {
					t.Errorf("402 message %q", e.Message)
				}
			case 403:
				md := e.Metadata
				reasons, _ := md["reasons"].([]any)
				flagged, _ := md["flagged_input"].(string)
				if len(reasons) == 0 || md["model_slug"] != "openai/gpt-4o-mini" || md["provider_name"] == nil ||
					len([]rune(flagged)) != 100 || !strings.Contains(flagged, "...") {
					t.Errorf("403 metadata %v", md)
				}
			case 429, 502:
				if e.Metadata["provider_name"] != ProviderName {
					t.Errorf("%d metadata %v", status, e.Metadata)
				}
			}
		}
	}
	if f.s.Pending() != 0 {
		t.Errorf("%d scenarios left", f.s.Pending())
	}
}

func TestMidStreamError(t *testing.T) {
	f := start(t, Options{Reply: "one two three four"})
	f.s.Enqueue(Scenario{MidStreamError: true})
	resp := f.mustPost(t, chatBody(true, nil))
	lines, err := sseLines(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode, err)
	}
	// role, "one", " two", error chunk; no [DONE].
	if len(lines) != 4 {
		t.Fatalf("lines %q", lines)
	}
	if a, b := parseChunk(t, lines[1]).Choices[0].Delta.Content, parseChunk(t, lines[2]).Choices[0].Delta.Content; a+b != "one two" {
		t.Errorf("content before the error: %q", a+b)
	}
	c := parseChunk(t, lines[3])
	if c.Error == nil || c.Error.Code != "server_error" || c.Error.Message != "Provider disconnected unexpectedly" ||
		c.Object != "chat.completion.chunk" || c.ID == "" || len(c.Choices) != 1 ||
		c.Choices[0].FinishReason == nil || *c.Choices[0].FinishReason != "error" {
		t.Errorf("error chunk %s", lines[3])
	}

	// Non-streaming: 200, half the text, finish_reason "error", an error.
	f.s.Enqueue(Scenario{MidStreamError: true})
	body, _ := io.ReadAll(f.mustPost(t, chatBody(false, nil)).Body)
	var nc struct {
		Error   *struct{ Message string } `json:"error"`
		Choices []struct {
			Message      struct{ Content string } `json:"message"`
			FinishReason string                   `json:"finish_reason"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &nc); err != nil || nc.Error == nil || nc.Choices[0].FinishReason != "error" ||
		nc.Choices[0].Message.Content != "one two" {
		t.Errorf("non-streaming mid-stream error: %s (%v)", body, err)
	}
}

func TestDropAfterChunks(t *testing.T) {
	f := start(t, Options{Reply: "one two three four"})
	f.s.Enqueue(Scenario{DropAfterChunks: 2})
	resp := f.mustPost(t, chatBody(true, nil))
	lines, err := sseLines(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(lines) != 2 {
		t.Fatalf("lines %q, err %v", lines, err)
	}

	// More chunks than the reply has: everything but [DONE].
	f.s.Enqueue(Scenario{DropAfterChunks: 100})
	lines, err = sseLines(f.mustPost(t, chatBody(true, nil)).Body)
	if err == nil || len(lines) != 6 || strings.Contains(strings.Join(lines, "\n"), "[DONE]") {
		t.Fatalf("lines %q, err %v", lines, err)
	}

	f.s.Enqueue(Scenario{DropAfterChunks: 1})
	if resp, err := f.post(t, context.Background(), chatBody(false, nil)); err == nil {
		resp.Body.Close()
		t.Fatalf("non-streaming drop answered %d", resp.StatusCode)
	}
}

func TestMalformed(t *testing.T) {
	f := start(t, Options{})
	f.s.Enqueue(Scenario{Malformed: true}, Scenario{Malformed: true})
	resp := f.mustPost(t, chatBody(false, nil))
	body, _ := io.ReadAll(resp.Body)
	var v any
	if resp.StatusCode != 200 || json.Unmarshal(body, &v) == nil {
		t.Errorf("non-streaming: %d %s", resp.StatusCode, body)
	}
	lines, err := sseLines(f.mustPost(t, chatBody(true, nil)).Body)
	if err != nil {
		t.Fatal(err)
	}
	broken := 0
	for _, l := range lines {
		if p, ok := strings.CutPrefix(l, "data: "); ok && p != "[DONE]" && json.Unmarshal([]byte(p), &v) != nil {
			broken++
		}
	}
	if broken != 1 {
		t.Errorf("broken data lines = %d in %q", broken, lines)
	}
}

func TestFirstByteDelayAndFIFO(t *testing.T) {
	f := start(t, Options{})
	f.s.Enqueue(
		Scenario{Model: "anthropic/claude-3.5-haiku", Status: 503},
		Scenario{Status: 429},
		Scenario{FirstByteDelay: 60 * time.Millisecond},
	)
	// The first scenario is for another model: this request takes the 429.
	if resp := f.mustPost(t, chatBody(false, nil)); resp.StatusCode != 429 {
		t.Fatalf("status %d, want 429", resp.StatusCode)
	}
	if resp := f.mustPost(t, chatBody(false, map[string]any{"model": "anthropic/claude-3.5-haiku"})); resp.StatusCode != 503 {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	began := time.Now()
	if resp := f.mustPost(t, chatBody(true, nil)); resp.StatusCode != 200 || time.Since(began) < 60*time.Millisecond {
		t.Fatalf("status %d after %v", resp.StatusCode, time.Since(began))
	}
	if resp := f.mustPost(t, chatBody(false, nil)); resp.StatusCode != 200 {
		t.Fatalf("empty queue: status %d", resp.StatusCode)
	}
}

func waitIdle(t *testing.T, s *Server) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); s.active.Load() != 0 || s.OpenStreams() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("handlers still running: %d active, %d streams", s.active.Load(), s.OpenStreams())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHangEndsWhenClientCancels(t *testing.T) {
	f := start(t, Options{})

	// Streaming: headers and the keep-alive arrive, then nothing.
	f.s.Enqueue(Scenario{Hang: true, KeepAlives: 1})
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := f.post(t, ctx, chatBody(true, nil))
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != ": OPENROUTER PROCESSING\n" {
		t.Fatalf("%q %v", line, err)
	}
	if f.s.OpenStreams() != 1 {
		t.Errorf("open streams = %d", f.s.OpenStreams())
	}
	cancel()
	resp.Body.Close()
	waitIdle(t, f.s)

	// Non-streaming: nothing at all until the client gives up.
	f.s.Enqueue(Scenario{Hang: true})
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if resp, err := f.post(t, ctx, chatBody(false, nil)); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			resp.Body.Close()
		}
		t.Fatalf("err = %v", err)
	}
	waitIdle(t, f.s)

	// Closing the server ends a hang the client keeps waiting on.
	f.s.Enqueue(Scenario{Hang: true})
	failed := make(chan error, 1)
	go func() {
		resp, err := f.post(t, context.Background(), chatBody(false, nil))
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	for f.s.active.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	f.close()
	if err := <-failed; err == nil {
		t.Error("request to a closed server succeeded")
	}
	waitIdle(t, f.s)
	goleak.VerifyNone(t)
}

func TestRequestsRecorded(t *testing.T) {
	f := start(t, Options{})
	f.mustPost(t, chatBody(true, map[string]any{"max_tokens": 64}))
	got := f.s.Requests()
	if len(got) != 1 || f.s.TotalRequests() != 1 {
		t.Fatalf("%d requests, total %d", len(got), f.s.TotalRequests())
	}
	r := got[0]
	if r.Method != "POST" || r.Path != "/api/v1/chat/completions" || r.Authorization != "Bearer "+testKey ||
		r.Referer != "https://mitra.example" || r.Title != "Mitra" || r.ContentType != "application/json" ||
		r.Header.Get("X-Title") != "Mitra" {
		t.Errorf("request = %+v", r)
	}
	msgs, _ := r.Body["messages"].([]any)
	if r.Body["model"] != "openai/gpt-4o-mini" || r.Body["stream"] != true || r.Body["max_tokens"] != float64(64) || len(msgs) != 2 {
		t.Errorf("body = %v", r.Body)
	}
	f.s.Enqueue(Scenario{Status: 500})
	f.s.Reset()
	if len(f.s.Requests()) != 0 || f.s.Pending() != 0 || f.s.TotalRequests() != 0 {
		t.Error("Reset left state behind")
	}

	limited := New(Options{RecordLimit: 1})
	ts := httptest.NewServer(limited.Handler())
	defer ts.Close()
	for range 3 {
		resp, err := ts.Client().Get(ts.URL + "/api/v1/models")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(limited.Requests()) != 1 || limited.TotalRequests() != 3 {
		t.Errorf("limit 1: kept %d of %d", len(limited.Requests()), limited.TotalRequests())
	}
}

// The handler's own cost per request, without the network.
func benchmarkHandler(b *testing.B, stream bool) {
	s := New(Options{APIKey: testKey, RecordLimit: -1})
	raw, _ := json.Marshal(chatBody(stream, map[string]any{"stream_options": map[string]any{"include_usage": true}}))
	h := s.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/chat/completions", bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+testKey)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

func BenchmarkCompletion(b *testing.B) { benchmarkHandler(b, false) }
func BenchmarkStream(b *testing.B)     { benchmarkHandler(b, true) }
