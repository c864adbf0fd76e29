package ai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/singleflight"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
	"mitra/internal/platform/httpx"
	"mitra/internal/platform/logging"
	"mitra/internal/platform/ratelimit"
)

// Deps are the gateway's collaborators.
type Deps struct {
	DB      *database.DB
	Limiter ratelimit.Store
	Limits  map[access.Role]RoleLimits // nil: DefaultLimits
	Now     func() time.Time
	Logger  *slog.Logger
}

// Gateway is the AI gateway.
type Gateway struct {
	cfg     Config
	client  *client
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	db      *database.DB
	limiter ratelimit.Store
	limits  map[access.Role]RoleLimits
	now     func() time.Time
	log     *slog.Logger

	mu       sync.Mutex
	models   []Model
	modelsAt time.Time

	ledger *ledger
	quotas quotaCache
	fetch  singleflight.Group
}

// New returns the gateway. Without an API key it answers every call with
// ai_unavailable. Close it to write the last usage records.
func New(cfg Config, d Deps) *Gateway {
	cfg.defaults()
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = logging.Discard()
	}
	if d.Limits == nil {
		d.Limits = DefaultLimits
	}
	g := &Gateway{cfg: cfg, client: newClient(cfg), db: d.DB, limiter: d.Limiter, limits: d.Limits, now: d.Now, log: d.Logger}
	g.ledger = newLedger(g)
	g.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        cfg.BaseURL,
		MaxRequests: 3,
		Interval:    time.Minute,
		Timeout:     15 * time.Second,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 5 },
		OnStateChange: func(name string, from, to gobreaker.State) {
			g.log.Warn("ai upstream circuit", "from", from.String(), "to", to.String())
		},
	})
	return g
}

// callTimeout bounds a whole non-streaming call: every attempt's wait for
// the first byte and backoff, on the default and one fallback model, then
// reading the answer. (Streams are bounded by their idle watchdog.)
func (g *Gateway) callTimeout() time.Duration {
	return time.Duration(2*g.cfg.MaxAttempts)*(g.cfg.FirstByteTimeout+g.cfg.MaxBackoff) + g.cfg.FirstByteTimeout
}

// Enabled reports whether an upstream is configured.
func (g *Gateway) Enabled() bool { return g.cfg.APIKey != "" && g.cfg.BaseURL != "" }

// Check probes the upstream's model list (for health).
func (g *Gateway) Check(ctx context.Context) error {
	if !g.Enabled() {
		return errNotConfigured
	}
	_, err := g.Models(ctx)
	return err
}

func (g *Gateway) limitsFor(r access.Role) RoleLimits { return g.limits[r] }

// Admission is what the caller learns before the call: its remaining
// request rate and token allowances, for the response headers.
type Admission struct {
	Rate  *ratelimit.Result
	Quota Quota
}

// Headers writes the admission's figures as response headers.
func (a Admission) Headers(h http.Header) {
	if a.Rate != nil {
		h.Set("RateLimit-Limit", strconv.Itoa(a.Rate.Limit.Burst))
		h.Set("RateLimit-Remaining", strconv.Itoa(a.Rate.Remaining))
		h.Set("RateLimit-Reset", strconv.Itoa(int((a.Rate.ResetAfter+time.Second-1)/time.Second)))
	}
	if a.Quota.DailyRemaining >= 0 {
		h.Set("X-AI-Tokens-Daily-Remaining", strconv.FormatInt(a.Quota.DailyRemaining, 10))
	}
	if a.Quota.MonthlyRemaining >= 0 {
		h.Set("X-AI-Tokens-Monthly-Remaining", strconv.FormatInt(a.Quota.MonthlyRemaining, 10))
	}
}

// Admit checks that the gateway is on, the caller's request rate and their
// token allowances, before any call.
func (g *Gateway) Admit(ctx context.Context, p access.Principal) (Admission, error) {
	var a Admission
	if !g.Enabled() {
		return a, errNotConfigured
	}
	lim := g.limitsFor(p.Role)
	if lim.RequestsPerMinute > 0 && g.limiter != nil {
		res, err := g.limiter.Allow(ctx, "ai:req:"+p.UserID, ratelimit.PerMinute(lim.RequestsPerMinute, max(1, lim.RequestsPerMinute/2)))
		if err != nil {
			g.log.Warn("ai rate limiter unavailable", "err", err)
		} else {
			a.Rate = &res
			if !res.Allowed {
				return a, &apperr.Error{Code: apperr.RateLimited, Message: "too many AI requests; slow down", RetryAfter: res.RetryAfter}
			}
		}
	}
	q, err := g.checkQuota(ctx, p, lim)
	a.Quota = q
	return a, err
}

// resolveModel picks the model: the requested one if allowed, else the
// default. It returns the models to try, in order.
func (g *Gateway) resolveModel(requested, endpoint string) ([]string, error) {
	m := requested
	if endpoint == EndpointSafety && m == g.cfg.SafetyModel {
		// The server's own safety call: the operator chose the model, the
		// allow-list (what callers may choose) does not apply.
		return []string{m}, nil
	}
	if m == "" {
		m = g.cfg.DefaultModel
	}
	if m == "" {
		return nil, apperr.Field("body.model", "no model given and no default configured")
	}
	if !g.allowed(m) {
		return nil, &apperr.Error{Code: CodeModelNotAllowed, Status: 422, Message: "this model is not offered here; see GET /api/v1/ai/models",
			Fields: []apperr.FieldError{{Location: "body.model", Message: "not allowed"}}}
	}
	out := []string{m}
	for _, f := range g.cfg.Fallbacks {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

func (g *Gateway) allowed(m string) bool {
	if len(g.cfg.Models) == 0 {
		return m == g.cfg.DefaultModel || slices.Contains(g.cfg.Fallbacks, m)
	}
	return slices.Contains(g.cfg.Models, m)
}

// Models returns the upstream's models that the allow-list permits,
// cached for ModelsTTL. On an upstream failure a stale list is served.
func (g *Gateway) Models(ctx context.Context) ([]Model, error) {
	if !g.Enabled() {
		return nil, errNotConfigured
	}
	g.mu.Lock()
	models, fresh := g.models, g.now().Sub(g.modelsAt) < g.cfg.ModelsTTL
	g.mu.Unlock()
	if fresh && models != nil {
		return models, nil
	}
	// One fetch at a time, without holding the lock over the network; the
	// callers that arrive meanwhile share its result.
	v, err, _ := g.fetch.Do("models", func() (any, error) {
		all, err := g.client.listModels(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		out := make([]Model, 0, len(all))
		for _, m := range all {
			if g.allowed(m.ID) {
				out = append(out, m)
			}
		}
		g.mu.Lock()
		g.models, g.modelsAt = out, g.now()
		g.mu.Unlock()
		return out, nil
	})
	if err != nil {
		g.mu.Lock()
		// Serve the old list, and ask again only after a pause.
		g.modelsAt = g.now().Add(-g.cfg.ModelsTTL + 30*time.Second)
		stale := g.models
		g.mu.Unlock()
		if stale != nil {
			return stale, nil
		}
		var ue *upstreamError
		if errors.As(err, &ue) {
			return nil, ue.problem()
		}
		return nil, err
	}
	return v.([]Model), nil
}

// call is one gateway call in progress.
type call struct {
	p        access.Principal
	req      ChatRequest
	endpoint string
	start    time.Time
	model    string
	attempts int
}

// open obtains a 200 response from the upstream: for each model in turn,
// up to MaxAttempts tries with backoff and jitter on retryable failures,
// honouring Retry-After, all before any byte reaches the client.
func (g *Gateway) open(ctx context.Context, c *call, stream bool) (*http.Response, error) {
	models, err := g.resolveModel(c.req.Model, c.endpoint)
	if err != nil {
		return nil, err
	}
	var last *upstreamError
	for _, model := range models {
		c.model = model
		body, err := json.Marshal(g.upstreamBody(c.req, model, stream))
		if err != nil {
			return nil, err
		}
		for attempt := 1; attempt <= g.cfg.MaxAttempts; attempt++ {
			done, berr := g.breaker.Allow()
			if berr != nil {
				if last == nil {
					return nil, errOpenCircuit
				}
				return nil, last.problem()
			}
			c.attempts++
			resp, err := g.client.post(ctx, body)
			if err == nil {
				done(nil)
				return resp, nil
			}
			var ue *upstreamError
			if !errors.As(err, &ue) {
				done(nil)
				return nil, err
			}
			if ctx.Err() != nil {
				done(nil) // the client left; not the upstream's fault
				return nil, ctx.Err()
			}
			if ue.breakerFailure() {
				done(ue)
			} else {
				done(nil)
			}
			last = ue
			if !ue.retryable() || attempt == g.cfg.MaxAttempts {
				break
			}
			if err := sleep(ctx, g.backoff(attempt, ue.retryAfter)); err != nil {
				return nil, err
			}
		}
		if !last.fallback() {
			break
		}
	}
	return nil, last.problem()
}

// backoff is exponential from 250ms with full jitter, at least Retry-After
// when the upstream asked, at most MaxBackoff.
func (g *Gateway) backoff(attempt int, retryAfter time.Duration) time.Duration {
	base := 250 * time.Millisecond << (attempt - 1)
	d := time.Duration(rand.Int64N(int64(base) + 1))
	if retryAfter > d {
		d = retryAfter
	}
	return min(d, g.cfg.MaxBackoff)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (g *Gateway) upstreamBody(r ChatRequest, model string, stream bool) upstreamRequest {
	u := upstreamRequest{Model: model, Messages: r.Messages, Stream: stream, Temperature: r.Temperature, MaxTokens: r.MaxTokens, TopP: r.TopP}
	u.Usage = &struct {
		Include bool `json:"include"`
	}{Include: true}
	if stream {
		u.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	return u
}

func (g *Gateway) base(c *call, stream bool) Record {
	return Record{UserID: c.p.UserID, Model: c.model, Endpoint: c.endpoint, Stream: stream, Attempts: c.attempts,
		LatencyMS: time.Since(c.start).Milliseconds()}
}

func outcomeOf(err error) string {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case CodeRefused:
			return OutcomeRefused
		case CodeBadRequest:
			return OutcomeBadRequest
		case CodeQuotaExhausted:
			return OutcomeQuotaExhausted
		case CodeTimeout:
			return OutcomeTimeout
		case CodeUnavailable:
			return OutcomeUnavailable
		}
	}
	if errors.Is(err, context.Canceled) {
		return OutcomeClientDisconnected
	}
	return OutcomeUpstreamError
}

// Complete makes a non-streaming call and records it.
func (g *Gateway) Complete(ctx context.Context, p access.Principal, req ChatRequest, endpoint string) (*Completion, error) {
	comp, _, err := g.complete(ctx, p, req, endpoint)
	return comp, err
}

// complete is Complete that also returns the upstream's JSON as received,
// for the OpenAI-compatible surface to relay without re-encoding.
func (g *Gateway) complete(ctx context.Context, p access.Principal, req ChatRequest, endpoint string) (*Completion, []byte, error) {
	c := &call{p: p, req: req, endpoint: endpoint, start: time.Now()}
	rec := func(r Record) { r.RequestID = httpx.RequestID(ctx); g.record(ctx, r) }
	resp, err := g.open(ctx, c, false)
	if err != nil {
		if c.attempts > 0 && ctx.Err() == nil {
			// Recorded, but with no tokens: nothing was generated, so the
			// user's allowance is not charged for an upstream failure.
			r := g.base(c, false)
			r.Outcome = outcomeOf(err)
			rec(r)
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	ttfb := time.Since(c.start).Milliseconds()
	var comp Completion
	raw, decErr := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if decErr == nil {
		decErr = json.Unmarshal(raw, &comp)
	}
	r := g.base(c, false)
	r.TTFBMS = &ttfb
	if decErr != nil || len(comp.Choices) == 0 {
		r.Outcome = OutcomeUpstreamError
		rec(r)
		return nil, nil, (&upstreamError{status: 502, err: errors.New("malformed completion")}).problem()
	}
	if (len(comp.Error) > 0 && string(comp.Error) != "null") || comp.Choices[0].FinishReason == "error" {
		// A failure after generation began: the text is cut short.
		r.Outcome = OutcomeMidStreamError
		if comp.Usage != nil {
			r.PromptTokens, r.CompletionTokens, r.TotalTokens, r.CostUSD = comp.Usage.PromptTokens, comp.Usage.CompletionTokens, comp.Usage.TotalTokens, comp.Usage.Cost
		}
		rec(r)
		return nil, nil, (&upstreamError{status: 502, err: errors.New("generation failed")}).problem()
	}
	if comp.Usage != nil {
		r.PromptTokens, r.CompletionTokens, r.TotalTokens, r.CostUSD = comp.Usage.PromptTokens, comp.Usage.CompletionTokens, comp.Usage.TotalTokens, comp.Usage.Cost
	} else {
		r.PromptTokens, r.CompletionTokens = estimatePrompt(req.Messages), estimate(comp.Choices[0].Message.Content)
		r.TotalTokens, r.Estimated = r.PromptTokens+r.CompletionTokens, true
	}
	r.Outcome = OutcomeOK
	rec(r)
	if comp.Model == "" {
		comp.Model = c.model
	}
	if comp.Object == "" {
		comp.Object = "chat.completion"
	}
	return &comp, raw, nil
}

// estimate approximates tokens as a quarter of the characters.
func estimate(s string) int { return (len(s) + 3) / 4 }

func estimatePrompt(ms []Message) int {
	n := 0
	for _, m := range ms {
		n += estimate(m.Content) + 4
	}
	return n
}

// EndpointAnalyze is the ledger's name for analysis calls.
const EndpointAnalyze = "analyze"

// CompleteText makes one non-streaming call for a product feature (mood
// analysis, home content): the caller's rate limit and allowance apply,
// the call is recorded, and the assistant's text is returned.
func (g *Gateway) CompleteText(ctx context.Context, p access.Principal, system, user string, maxTokens int) (string, error) {
	adm, err := g.Admit(ctx, p)
	if err != nil {
		return "", err
	}
	if rem := adm.Quota.remaining(); rem >= 0 && int64(maxTokens) > rem {
		maxTokens = int(max(1, rem))
	}
	ctx, cancel := context.WithTimeout(ctx, g.callTimeout())
	defer cancel()
	comp, err := g.Complete(ctx, p, ChatRequest{Messages: []Message{{Role: "system", Content: system}, {Role: "user", Content: user}}, MaxTokens: &maxTokens}, EndpointAnalyze)
	if err != nil {
		return "", err
	}
	return comp.Choices[0].Message.Content, nil
}

// EndpointSafety is the ledger's name for the crisis second opinion.
const EndpointSafety = "safety"

// SafetyEnabled reports whether the crisis second opinion is on.
func (g *Gateway) SafetyEnabled() bool { return g.Enabled() && g.cfg.SafetyModel != "" }

// safetyRate bounds second opinions per user: a chat message costs one, so
// this is well above any chat allowance, and only stops a flood.
var safetyRate = ratelimit.PerMinute(60, 30)

// SafetyText makes the crisis second opinion's call (persona.Reviewer) on
// the safety model, at temperature 0, recorded under EndpointSafety. The
// caller's chat rate and token allowance do not gate it (a person at risk
// is never refused a safety reading for having chatted a lot); a limit of
// its own stops a flood. ctx bounds it.
func (g *Gateway) SafetyText(ctx context.Context, p access.Principal, system, user string, maxTokens int) (string, error) {
	if !g.SafetyEnabled() {
		return "", errNotConfigured
	}
	if g.limiter != nil {
		res, err := g.limiter.Allow(ctx, "ai:safety:"+p.UserID, safetyRate)
		if err != nil {
			g.log.Warn("ai rate limiter unavailable", "err", err)
		} else if !res.Allowed {
			return "", &apperr.Error{Code: apperr.RateLimited, Message: "too many safety readings", RetryAfter: res.RetryAfter}
		}
	}
	zero := 0.0
	comp, err := g.Complete(ctx, p, ChatRequest{Model: g.cfg.SafetyModel, Temperature: &zero, MaxTokens: &maxTokens,
		Messages: []Message{{Role: "system", Content: system}, {Role: "user", Content: user}}}, EndpointSafety)
	if err != nil {
		return "", err
	}
	return comp.Choices[0].Message.Content, nil
}
