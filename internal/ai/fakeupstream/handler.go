package fakeupstream

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// keepAlive is the SSE comment OpenRouter sends while a model is slow to
// start.
const keepAlive = ": OPENROUTER PROCESSING\n\n"

// midStreamMessage is the message of the mid-stream error chunk.
const midStreamMessage = "Provider disconnected unexpectedly"

// chatRequest is the part of an OpenAI-style chat completion request the
// fake reads.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream        bool     `json:"stream"`
	MaxTokens     *int     `json:"max_tokens"`
	Temperature   *float64 `json:"temperature"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Usage *struct {
		Include bool `json:"include"`
	} `json:"usage"`
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.total.Add(1)
	s.active.Add(1)
	defer s.active.Add(-1)

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	s.record(r, body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "Request body too large", nil)
		} else {
			writeError(w, http.StatusBadRequest, "Could not read the request body", nil)
		}
		return
	}

	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/models" || strings.HasSuffix(path, "/models"):
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed", nil)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(s.modelsJSON)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(s.modelsJSON)
		}
	case strings.HasSuffix(path, "/chat/completions"):
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed", nil)
			return
		}
		s.chat(w, r, body)
	default:
		writeError(w, http.StatusNotFound, "Not Found", nil)
	}
}

// bearer returns the key of an "Authorization: Bearer <key>" header.
func bearer(h string) string {
	const prefix = "Bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return ""
	}
	return strings.TrimSpace(h[len(prefix):])
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request, body []byte) {
	if s.opts.APIKey != "" {
		switch key := bearer(r.Header.Get("Authorization")); {
		case key == "":
			writeError(w, http.StatusUnauthorized, "No auth credentials found", nil)
			return
		case key != s.opts.APIKey:
			writeError(w, http.StatusUnauthorized, "User not found.", nil)
			return
		}
	}
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON in request body: "+err.Error(), nil)
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, `Input required: specify "prompt" or a non-empty "messages"`, nil)
		return
	}
	model := req.Model
	if model == "" {
		model = s.defaultModel // OpenRouter falls back to the account's default
	}
	info := s.models[model]
	if info == nil {
		writeError(w, http.StatusBadRequest, model+" is not a valid model ID", nil)
		return
	}
	sc, _ := s.take(model)

	ctx := r.Context()
	// A handler ended by a cancelled context (client gone, or the server
	// of Start closing) sends nothing more: not even net/http's implicit
	// empty 200, nor a clean end of the event stream.
	defer func() {
		if ctx.Err() != nil {
			drop(w)
		}
	}()
	if sc.FirstByteDelay > 0 && !sleep(ctx, sc.FirstByteDelay) {
		return
	}
	now := time.Now().Unix()
	id := newID(now)
	h := w.Header()
	h.Set("X-Generation-Id", id)
	if sc.RetryAfter != "" {
		h.Set("Retry-After", sc.RetryAfter)
	}
	if sc.Status != 0 && sc.Status != http.StatusOK {
		msg, meta := errorFor(sc.Status, model, &req)
		writeError(w, sc.Status, msg, meta)
		return
	}

	plan := s.defaultPlan
	if sc.Reply != "" {
		plan = newPlan(sc.Reply, s.opts.Chunks)
	}
	completion := plan.tokens
	if sc.MidStreamError {
		completion = plan.halfTokens
	}
	a := answer{
		sc:    sc,
		plan:  plan,
		head:  chunkHead(id, now, info.jsonID),
		usage: usageFor(sc, info, estimateTokens(promptWords(&req)), completion),
	}
	if req.Stream {
		a.includeUsage = (req.StreamOptions != nil && req.StreamOptions.IncludeUsage) ||
			(req.Usage != nil && req.Usage.Include)
		s.stream(ctx, w, &a)
		return
	}
	s.complete(ctx, w, &a, id, now, info)
}

// answer is what a successful (status 200) reply is built from.
type answer struct {
	sc           Scenario
	plan         *replyPlan
	head         []byte // `data: {"id":...,"provider":...,` of every chunk
	usage        Usage
	includeUsage bool
}

func usageFor(sc Scenario, info *modelInfo, prompt, completion int) Usage {
	if sc.Usage != nil {
		u := *sc.Usage
		if u.TotalTokens == 0 {
			u.TotalTokens = u.PromptTokens + u.CompletionTokens
		}
		return u
	}
	return Usage{
		PromptTokens:     prompt,
		CompletionTokens: completion,
		TotalTokens:      prompt + completion,
		Cost:             float64(prompt)*info.promptPrice + float64(completion)*info.completionPrice,
	}
}

// complete answers a non-streaming request.
func (s *Server) complete(ctx context.Context, w http.ResponseWriter, a *answer, id string, created int64, info *modelInfo) {
	switch {
	case a.sc.Hang:
		<-ctx.Done()
		return
	case a.sc.DropAfterChunks > 0:
		drop(w)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if a.sc.Malformed {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"id":"`+id+`","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel`)
		return
	}
	content, finish := a.plan.full, `"stop"`
	if a.sc.MidStreamError {
		content, finish = a.plan.half, `"error"`
	}
	b := make([]byte, 0, 400+len(content))
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","provider":"`+ProviderName+`","model":`...)
	b = append(b, info.jsonID...)
	b = append(b, `,"object":"chat.completion","created":`...)
	b = strconv.AppendInt(b, created, 10)
	if a.sc.MidStreamError {
		b = append(b, `,"error":{"code":"server_error","message":"`+midStreamMessage+`"}`...)
	}
	b = append(b, `,"choices":[{"logprobs":null,"finish_reason":`...)
	b = append(b, finish...)
	b = append(b, `,"native_finish_reason":`...)
	b = append(b, finish...)
	b = append(b, `,"index":0,"message":{"role":"assistant","content":`...)
	b = append(b, content...)
	b = append(b, `,"refusal":null}}],"usage":`...)
	b = appendUsage(b, a.usage)
	b = append(b, "}\n"...)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// stream answers a streaming request with server-sent events.
func (s *Server) stream(ctx context.Context, w http.ResponseWriter, a *answer) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	s.openStreams.Add(1)
	defer s.openStreams.Add(-1)

	sw := sseWriter{w: w, rc: http.NewResponseController(w), ctx: ctx, delay: s.opts.ChunkDelay, dropAfter: a.sc.DropAfterChunks}
	defer sw.stop()
	if sw.rc.Flush() != nil {
		return
	}
	for range a.sc.KeepAlives {
		if !sw.comment() {
			return
		}
	}
	if a.sc.Hang {
		<-ctx.Done()
		return
	}

	buf := make([]byte, 0, 512)
	chunk := func(delta []byte, finish string) []byte {
		buf = append(buf[:0], a.head...)
		buf = append(buf, `"choices":[{"index":0,"delta":`...)
		buf = append(buf, delta...)
		buf = append(buf, `,"finish_reason":`...)
		buf = append(buf, finish...)
		buf = append(buf, `,"native_finish_reason":`...)
		buf = append(buf, finish...)
		buf = append(buf, `,"logprobs":null}]}`+"\n\n"...)
		return buf
	}
	if !sw.data(chunk([]byte(`{"role":"assistant","content":""}`), "null")) {
		return
	}
	if a.sc.Malformed {
		if sw.data([]byte("data: {\"id\":\"gen-broken\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\n\n")) {
			sw.done()
		}
		return
	}
	pieces := a.plan.pieces
	if a.sc.MidStreamError {
		pieces = pieces[:a.plan.halfPieces]
	}
	delta := make([]byte, 0, 128)
	for _, p := range pieces {
		delta = append(append(append(delta[:0], `{"content":`...), p...), '}')
		if !sw.data(chunk(delta, "null")) {
			return
		}
	}
	if a.sc.MidStreamError {
		buf = append(buf[:0], a.head...)
		buf = append(buf, `"error":{"code":"server_error","message":"`+midStreamMessage+`"},`+
			`"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error","native_finish_reason":"error","logprobs":null}]}`+"\n\n"...)
		sw.data(buf) // the stream ends here, without [DONE]
		return
	}
	if !sw.data(chunk([]byte(`{"content":""}`), `"stop"`)) {
		return
	}
	if a.includeUsage {
		buf = append(buf[:0], a.head...)
		buf = append(buf, `"choices":[],"usage":`...)
		buf = appendUsage(buf, a.usage)
		buf = append(buf, "}\n\n"...)
		if !sw.data(buf) {
			return
		}
	}
	sw.done()
}

// chunkHead returns the start of every chunk of one stream.
func chunkHead(id string, created int64, model []byte) []byte {
	b := make([]byte, 0, 160)
	b = append(b, `data: {"id":"`...)
	b = append(b, id...)
	b = append(b, `","object":"chat.completion.chunk","created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = append(b, model...)
	b = append(b, `,"provider":"`+ProviderName+`",`...)
	return b
}

func appendUsage(b []byte, u Usage) []byte {
	cost := u.Cost
	if math.IsNaN(cost) || math.IsInf(cost, 0) {
		cost = 0
	}
	b = append(b, `{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
	b = append(b, `,"cost":`...)
	b = strconv.AppendFloat(b, cost, 'f', -1, 64)
	b = append(b, `,"is_byok":false,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}`...)
	return b
}

// sseWriter writes the events of one stream, pacing them by ChunkDelay,
// flushing each, and dropping the connection after dropAfter data events.
type sseWriter struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	ctx       context.Context
	delay     time.Duration
	timer     *time.Timer
	events    int // all events written (comments included)
	dataSent  int
	dropAfter int
}

func (sw *sseWriter) write(b []byte) bool {
	if sw.events > 0 && sw.delay > 0 {
		if sw.timer == nil {
			sw.timer = time.NewTimer(sw.delay)
		} else {
			sw.timer.Reset(sw.delay)
		}
		select {
		case <-sw.ctx.Done():
			return false
		case <-sw.timer.C:
		}
	} else if sw.ctx.Err() != nil {
		return false
	}
	sw.events++
	if _, err := sw.w.Write(b); err != nil {
		return false
	}
	return sw.rc.Flush() == nil
}

func (sw *sseWriter) comment() bool { return sw.write([]byte(keepAlive)) }

// data writes one data event; false means stop (client gone or dropped).
func (sw *sseWriter) data(b []byte) bool {
	if !sw.write(b) {
		return false
	}
	sw.dataSent++
	if sw.dropAfter > 0 && sw.dataSent >= sw.dropAfter {
		drop(sw.w)
		return false
	}
	return true
}

// done ends the stream with [DONE], or drops it when a drop was asked for
// and has not happened yet.
func (sw *sseWriter) done() {
	if sw.dropAfter > 0 {
		drop(sw.w)
		return
	}
	sw.write([]byte("data: [DONE]\n\n"))
}

func (sw *sseWriter) stop() {
	if sw.timer != nil {
		sw.timer.Stop()
	}
}

// drop closes the client connection abruptly: what was flushed arrives,
// the rest of the response never does (nothing at all when no header was
// written).
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if errors.Is(err, http.ErrHijacked) {
		return
	}
	if err != nil {
		// HTTP/2 or a wrapper that cannot hijack: net/http resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newID returns an id shaped like OpenRouter's: gen-<unix>-<20 characters>.
func newID(now int64) string {
	var a [48]byte
	b := append(a[:0], "gen-"...)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, '-')
	x := rand.Uint64()
	for i := range 20 {
		if i == 10 {
			x = rand.Uint64()
		}
		b = append(b, idChars[x%uint64(len(idChars))])
		x /= uint64(len(idChars))
	}
	return string(b)
}

// messageText returns the text of a message content, a string or an array
// of parts.
func messageText(c json.RawMessage) []string {
	if len(c) == 0 {
		return nil
	}
	switch c[0] {
	case '"':
		var t string
		if json.Unmarshal(c, &t) == nil {
			return []string{t}
		}
	case '[':
		var parts []struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(c, &parts) == nil {
			out := make([]string, 0, len(parts))
			for _, p := range parts {
				out = append(out, p.Text)
			}
			return out
		}
	}
	return nil
}

func promptWords(req *chatRequest) int {
	n := 0
	for _, m := range req.Messages {
		for _, t := range messageText(m.Content) {
			n += countWords(t)
		}
	}
	return n
}

// flaggedInput is the last user message as OpenRouter reports a flagged
// input: at most 100 characters, cut in the middle with "...".
func flaggedInput(req *chatRequest) string {
	var text string
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			text = strings.Join(messageText(req.Messages[i].Content), " ")
			break
		}
	}
	r := []rune(text)
	if len(r) <= 100 {
		return text
	}
	return string(r[:48]) + "..." + string(r[len(r)-49:])
}

// errorFor returns the message and metadata of an error status, worded
// like OpenRouter's.
func errorFor(status int, model string, req *chatRequest) (string, map[string]any) {
	switch status {
	case http.StatusBadRequest:
		return "Provider returned error: invalid request", map[string]any{"provider_name": ProviderName, "raw": `{"error":{"message":"invalid request"}}`}
	case http.StatusUnauthorized:
		return "User not found.", nil
	case http.StatusPaymentRequired:
		return "Insufficient credits. Add more using https://openrouter.ai/settings/credits", nil
	case http.StatusForbidden:
		return model + " requires moderation on " + ProviderName + `. Your input was flagged for "harassment". No credits were charged.`,
			map[string]any{
				"reasons":       []string{"harassment"},
				"flagged_input": flaggedInput(req),
				"provider_name": ProviderName,
				"model_slug":    model,
			}
	case http.StatusRequestTimeout:
		return "Request timed out", nil
	case http.StatusTooManyRequests:
		return model + " is temporarily rate-limited upstream. Please retry shortly.",
			map[string]any{"provider_name": ProviderName, "raw": model + " is temporarily rate-limited upstream"}
	case http.StatusBadGateway:
		return "Provider returned error", map[string]any{"provider_name": ProviderName, "raw": "upstream connection reset"}
	case http.StatusServiceUnavailable:
		return "No available model provider that meets your routing requirements", nil
	}
	if t := http.StatusText(status); t != "" {
		return t, nil
	}
	return "Error", nil
}

// writeError answers in OpenRouter's error shape:
// {"error":{"code":<status>,"message":"...","metadata":{...}}}, metadata
// left out when there is none.
func writeError(w http.ResponseWriter, status int, msg string, meta map[string]any) {
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	type errBody struct {
		Code     int            `json:"code"`
		Message  string         `json:"message"`
		Metadata map[string]any `json:"metadata,omitempty"`
	}
	b, err := json.Marshal(struct {
		Error errBody `json:"error"`
	}{errBody{status, msg, meta}})
	if err != nil {
		b = []byte(`{"error":{"code":500,"message":"fakeupstream: cannot encode the error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
