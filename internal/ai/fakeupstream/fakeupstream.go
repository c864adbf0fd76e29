// Package fakeupstream is a fake OpenRouter for tests and benchmarks: an
// http.Handler that speaks OpenRouter's wire format for GET /models and
// POST /chat/completions (plain JSON and server-sent events), with
// scripted failures (error statuses in OpenRouter's error shape, slow or
// hanging answers, keep-alive comments, mid-stream errors, dropped
// connections, malformed bodies) and a record of what it received.
//
// It imports nothing from the rest of the module, so any package's tests
// and the benchmarks may use it.
package fakeupstream

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultReply is the assistant text when neither Options.Reply nor a
// Scenario says otherwise.
const DefaultReply = "Hello! This is a canned answer from the fake upstream, so you can test without spending credits."

// DefaultRecordLimit is how many requests Requests keeps when
// Options.RecordLimit is zero.
const DefaultRecordLimit = 10000

// ProviderName is the provider the fake claims answered ("provider" in
// responses, "provider_name" in error metadata).
const ProviderName = "FakeProvider"

// maxBody bounds a request body; OpenRouter itself accepts large prompts,
// a test never needs more.
const maxBody = 8 << 20

// Options configures a Server.
type Options struct {
	// APIKey is the bearer key chat completions require; a request without
	// it gets 401 in OpenRouter's error shape. Empty accepts any request.
	// GET /models needs no key, as on OpenRouter.
	APIKey string
	// Models is the /models list and the set of models chat completions
	// accept; DefaultModels() when nil.
	Models []Model
	// Reply is the assistant text when no scenario says otherwise;
	// DefaultReply when empty.
	Reply string
	// ChunkDelay is the pause between two streamed events (default 0).
	ChunkDelay time.Duration
	// Chunks is the number of content chunks a reply is split into
	// (at rune boundaries, as evenly as possible); 0 means one per word.
	Chunks int
	// RecordLimit is how many requests Requests keeps (the first ones
	// after New or Reset; later ones are counted, not kept). Zero means
	// DefaultRecordLimit; negative keeps none.
	RecordLimit int
}

// Scenario scripts how one upcoming chat completion request is answered.
// The zero Scenario is a normal success. FirstByteDelay applies first;
// then the first of Status, Hang, DropAfterChunks (non-streaming) and
// Malformed that is set decides the answer; KeepAlives, MidStreamError and
// DropAfterChunks shape a stream.
type Scenario struct {
	// Model restricts the scenario to requests for this model ("" = any).
	Model string
	// Status is the HTTP status to answer with (e.g. 400, 402, 403, 408,
	// 429, 500, 502, 503), with a body in OpenRouter's error shape;
	// 0 or 200 means success.
	Status int
	// RetryAfter is the Retry-After header value (sent whenever set;
	// OpenRouter documents it on 429 and 503).
	RetryAfter string
	// KeepAlives is the number of ": OPENROUTER PROCESSING" comment lines
	// sent before the first chunk (streaming only).
	KeepAlives int
	// MidStreamError makes a streamed reply stop after half its content
	// chunks with OpenRouter's mid-stream error chunk (HTTP status stays
	// 200, no [DONE]). Non-streaming: a 200 chat.completion carrying half
	// the text, a top-level error and finish_reason "error".
	MidStreamError bool
	// FirstByteDelay is a wait before anything, headers included, is sent.
	FirstByteDelay time.Duration
	// Hang sends headers (and KeepAlives) for a streaming request, nothing
	// for a non-streaming one, then blocks until the client goes away or
	// the server started by Start is closed.
	Hang bool
	// DropAfterChunks closes the connection abruptly after this many SSE
	// data events (the role chunk counts), without [DONE]. Non-streaming:
	// the connection is closed before any response.
	DropAfterChunks int
	// Malformed answers 200 with a body that is not valid JSON
	// (non-streaming) or with a truncated SSE data line (streaming).
	Malformed bool
	// Reply overrides the assistant text.
	Reply string
	// Usage overrides the usage reported (cost included, taken as is).
	Usage *Usage
}

// Usage is the token count and cost (US dollars) of an answer.
type Usage struct {
	PromptTokens, CompletionTokens, TotalTokens int
	Cost                                        float64
}

// Received is one request the server got.
type Received struct {
	Method string
	Path   string
	// Header is a copy of all request headers; Authorization, HTTP-Referer,
	// X-Title and Content-Type are also copied into the fields below.
	Header        http.Header
	Authorization string
	Referer       string // HTTP-Referer
	Title         string // X-Title
	ContentType   string
	// RawBody is the body as sent; Body is it decoded as a JSON object
	// (nil when empty or not an object).
	RawBody []byte
	Body    map[string]any
	At      time.Time
}

// modelInfo is what a chat completion needs about a model, precomputed.
type modelInfo struct {
	jsonID          []byte // the id as a JSON string
	promptPrice     float64
	completionPrice float64
}

// replyPlan is a reply split into chunks, with each piece already a JSON
// string.
type replyPlan struct {
	text       string
	full       []byte   // whole text as a JSON string
	half       []byte   // first half of the pieces as a JSON string
	pieces     [][]byte // JSON strings
	halfPieces int
	tokens     int // estimated tokens of text
	halfTokens int // and of its first half
}

// Server is a fake OpenRouter. Use New, then Handler() with
// httptest.NewServer, or Start() for a loopback server.
type Server struct {
	opts         Options
	models       map[string]*modelInfo
	defaultModel string
	modelsJSON   []byte
	defaultPlan  *replyPlan
	recordLimit  int

	mu       sync.Mutex
	queue    []Scenario
	queued   atomic.Int64 // len(queue), read without the lock
	received []Received

	total       atomic.Int64
	openStreams atomic.Int64
	active      atomic.Int64 // handlers running
}

// New returns a Server configured by opts.
func New(opts Options) *Server {
	if opts.Models == nil {
		opts.Models = DefaultModels()
	}
	if opts.Reply == "" {
		opts.Reply = DefaultReply
	}
	s := &Server{opts: opts, models: make(map[string]*modelInfo, len(opts.Models))}
	list := make([]Model, len(opts.Models))
	for i, m := range opts.Models {
		m = m.withDefaults()
		list[i] = m
		id, _ := json.Marshal(m.ID)
		s.models[m.ID] = &modelInfo{
			jsonID:          id,
			promptPrice:     parsePrice(m.Pricing.Prompt),
			completionPrice: parsePrice(m.Pricing.Completion),
		}
		if i == 0 {
			s.defaultModel = m.ID
		}
	}
	var err error
	if s.modelsJSON, err = json.Marshal(struct {
		Data []Model `json:"data"`
	}{list}); err != nil {
		panic("fakeupstream: " + err.Error())
	}
	s.defaultPlan = newPlan(opts.Reply, opts.Chunks)
	switch {
	case opts.RecordLimit == 0:
		s.recordLimit = DefaultRecordLimit
	case opts.RecordLimit < 0:
		s.recordLimit = 0
	default:
		s.recordLimit = opts.RecordLimit
	}
	return s
}

func parsePrice(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0
	}
	return f
}

// Handler returns the fake's HTTP handler. It serves GET .../models and
// POST .../chat/completions under any prefix (so both "/api/v1/models"
// and "/models").
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves the fake on a new 127.0.0.1 port. baseURL ends with
// "/api/v1", like OpenRouter's. closeFn ends handlers still blocked
// (Hang, delays), closes the server and waits for its handlers to return;
// it may be called more than once.
func (s *Server) Start() (baseURL string, closeFn func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("fakeupstream: listen: " + err.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var running atomic.Int64
	h := s.Handler()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			running.Add(1)
			defer running.Add(-1)
			h.ServeHTTP(w, r)
		}),
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	var once sync.Once
	return "http://" + ln.Addr().String() + "/api/v1", func() {
		once.Do(func() {
			cancel()
			_ = srv.Close()
			<-served
			// Handlers see the cancelled context and return promptly.
			for deadline := time.Now().Add(5 * time.Second); running.Load() > 0 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// Requests returns a copy of the requests received since New or Reset (up
// to Options.RecordLimit), oldest first, with Body decoded.
func (s *Server) Requests() []Received {
	s.mu.Lock()
	out := make([]Received, len(s.received))
	copy(out, s.received)
	s.mu.Unlock()
	for i := range out {
		out[i].Header = out[i].Header.Clone()
		if len(out[i].RawBody) > 0 {
			var m map[string]any
			if json.Unmarshal(out[i].RawBody, &m) == nil {
				out[i].Body = m
			}
		}
	}
	return out
}

// Reset clears recorded requests, queued scenarios and the request count.
func (s *Server) Reset() {
	s.mu.Lock()
	s.queue = nil
	s.queued.Store(0)
	s.received = nil
	s.mu.Unlock()
	s.total.Store(0)
}

// Enqueue makes the next matching chat completion requests behave as
// given, first in first out: each request takes the first queued scenario
// whose Model is empty or its model. When none matches, requests succeed
// normally. Requests refused for a bad key or body take no scenario.
func (s *Server) Enqueue(sc ...Scenario) {
	s.mu.Lock()
	s.queue = append(s.queue, sc...)
	s.queued.Store(int64(len(s.queue)))
	s.mu.Unlock()
}

// Pending returns the number of scenarios still queued.
func (s *Server) Pending() int { return int(s.queued.Load()) }

// OpenStreams returns the number of event streams being sent now.
func (s *Server) OpenStreams() int { return int(s.openStreams.Load()) }

// TotalRequests returns the number of requests received since New or
// Reset, on every path.
func (s *Server) TotalRequests() int64 { return s.total.Load() }

func (s *Server) take(model string) (Scenario, bool) {
	if s.queued.Load() == 0 {
		return Scenario{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sc := range s.queue {
		if sc.Model == "" || sc.Model == model {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			s.queued.Store(int64(len(s.queue)))
			return sc, true
		}
	}
	return Scenario{}, false
}

func (s *Server) record(r *http.Request, body []byte) {
	if s.recordLimit == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.received) >= s.recordLimit {
		return
	}
	s.received = append(s.received, Received{
		Method:        r.Method,
		Path:          r.URL.Path,
		Header:        r.Header.Clone(),
		Authorization: r.Header.Get("Authorization"),
		Referer:       r.Header.Get("HTTP-Referer"),
		Title:         r.Header.Get("X-Title"),
		ContentType:   r.Header.Get("Content-Type"),
		RawBody:       body,
		At:            time.Now(),
	})
}

// newPlan splits text into chunks: one per word (each word carries the
// white space before it, as model tokens do) when chunks <= 0, else chunks pieces cut at rune
// boundaries as evenly as possible.
func newPlan(text string, chunks int) *replyPlan {
	var pieces []string
	if chunks <= 0 {
		start, inWord := 0, false
		for i, r := range text {
			space := unicode.IsSpace(r)
			if space && inWord {
				pieces = append(pieces, text[start:i])
				start = i
			}
			inWord = !space
		}
		switch rest := text[start:]; {
		case rest == "":
		case len(pieces) > 0 && !hasNonSpace(rest):
			pieces[len(pieces)-1] += rest
		default:
			pieces = append(pieces, rest)
		}
	} else if n := utf8.RuneCountInString(text); n > 0 {
		if chunks > n {
			chunks = n
		}
		start, runeIdx, cut := 0, 0, 1
		for i := range text {
			if runeIdx == cut*n/chunks && i > start {
				pieces = append(pieces, text[start:i])
				start = i
				cut++
			}
			runeIdx++
		}
		pieces = append(pieces, text[start:])
	}
	p := &replyPlan{text: text, full: jsonString(text), tokens: estimateTokens(countWords(text))}
	p.halfPieces = (len(pieces) + 1) / 2
	half := ""
	for i, piece := range pieces {
		p.pieces = append(p.pieces, jsonString(piece))
		if i < p.halfPieces {
			half += piece
		}
	}
	p.half = jsonString(half)
	p.halfTokens = estimateTokens(countWords(half))
	return p
}

func hasNonSpace(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) {
			return true
		}
	}
	return false
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func countWords(s string) int {
	n, in := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}

// estimateTokens is the fake's tokenizer: 1.3 tokens a word, rounded.
func estimateTokens(words int) int { return int(math.Round(float64(words) * 1.3)) }

// DefaultModels returns the list served when Options.Models is nil:
// four common models with OpenRouter-like context lengths and prices
// (US dollars per token, as strings, as OpenRouter reports them).
func DefaultModels() []Model {
	return []Model{
		{ID: "openai/gpt-4o-mini", Name: "OpenAI: GPT-4o-mini", Created: 1721260800, ContextLength: 128000,
			Description: "A small, fast, affordable model from OpenAI.",
			Pricing:     Pricing{Prompt: "0.00000015", Completion: "0.0000006"},
			TopProvider: TopProvider{ContextLength: 128000, MaxCompletionTokens: ptr(16384), IsModerated: true},
			Architecture: Architecture{Modality: "text+image->text", InputModalities: []string{"text", "image"},
				OutputModalities: []string{"text"}, Tokenizer: "GPT"}},
		{ID: "anthropic/claude-3.5-haiku", Name: "Anthropic: Claude 3.5 Haiku", Created: 1730678400, ContextLength: 200000,
			Description: "Anthropic's fastest model of the Claude 3.5 family.",
			Pricing:     Pricing{Prompt: "0.0000008", Completion: "0.000004"},
			TopProvider: TopProvider{ContextLength: 200000, MaxCompletionTokens: ptr(8192), IsModerated: true},
			Architecture: Architecture{Modality: "text+image->text", InputModalities: []string{"text", "image"},
				OutputModalities: []string{"text"}, Tokenizer: "Claude"}},
		{ID: "meta-llama/llama-3.1-8b-instruct", Name: "Meta: Llama 3.1 8B Instruct", Created: 1721692800, ContextLength: 131072,
			Description: "Meta's 8B instruction-tuned Llama 3.1.",
			Pricing:     Pricing{Prompt: "0.00000002", Completion: "0.00000003"},
			TopProvider: TopProvider{ContextLength: 131072, MaxCompletionTokens: ptr(16384)},
			Architecture: Architecture{Modality: "text->text", InputModalities: []string{"text"},
				OutputModalities: []string{"text"}, Tokenizer: "Llama3", InstructType: ptr("llama3")}},
		{ID: "google/gemini-flash-1.5", Name: "Google: Gemini 1.5 Flash", Created: 1715644800, ContextLength: 1000000,
			Description: "Google's fast multimodal Gemini 1.5 model.",
			Pricing:     Pricing{Prompt: "0.000000075", Completion: "0.0000003"},
			TopProvider: TopProvider{ContextLength: 1000000, MaxCompletionTokens: ptr(8192)},
			Architecture: Architecture{Modality: "text+image->text", InputModalities: []string{"text", "image"},
				OutputModalities: []string{"text"}, Tokenizer: "Gemini"}},
	}
}

func ptr[T any](v T) *T { return &v }

// Model is one entry of OpenRouter's /models list.
type Model struct {
	ID                  string            `json:"id"`
	CanonicalSlug       string            `json:"canonical_slug"`
	Name                string            `json:"name"`
	Created             int64             `json:"created"`
	Description         string            `json:"description"`
	ContextLength       int               `json:"context_length"`
	Architecture        Architecture      `json:"architecture"`
	Pricing             Pricing           `json:"pricing"`
	TopProvider         TopProvider       `json:"top_provider"`
	PerRequestLimits    map[string]string `json:"per_request_limits"`
	SupportedParameters []string          `json:"supported_parameters"`
}

// Architecture describes a model's modalities and tokenizer.
type Architecture struct {
	Modality         string   `json:"modality"`
	InputModalities  []string `json:"input_modalities"`
	OutputModalities []string `json:"output_modalities"`
	Tokenizer        string   `json:"tokenizer"`
	InstructType     *string  `json:"instruct_type"`
}

// Pricing is a model's price in US dollars per token (per request or image
// for those fields), as decimal strings.
type Pricing struct {
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
	Request    string `json:"request"`
	Image      string `json:"image"`
}

// TopProvider is the limits of the provider OpenRouter prefers for a model.
type TopProvider struct {
	ContextLength       int  `json:"context_length"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	IsModerated         bool `json:"is_moderated"`
}

func (m Model) withDefaults() Model {
	if m.CanonicalSlug == "" {
		m.CanonicalSlug = m.ID
	}
	if m.Name == "" {
		m.Name = m.ID
	}
	if m.Created == 0 {
		m.Created = 1700000000
	}
	if m.Architecture.Modality == "" {
		m.Architecture = Architecture{Modality: "text->text", InputModalities: []string{"text"},
			OutputModalities: []string{"text"}, Tokenizer: "Other"}
	}
	for _, p := range []*string{&m.Pricing.Prompt, &m.Pricing.Completion, &m.Pricing.Request, &m.Pricing.Image} {
		if *p == "" {
			*p = "0"
		}
	}
	if m.TopProvider.ContextLength == 0 {
		m.TopProvider.ContextLength = m.ContextLength
	}
	if m.SupportedParameters == nil {
		m.SupportedParameters = []string{"max_tokens", "temperature", "top_p", "stop", "seed"}
	}
	return m
}
