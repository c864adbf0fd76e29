package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mitra/internal/platform/apperr"
)

// Config configures the upstream and the gateway.
type Config struct {
	BaseURL      string   // e.g. https://openrouter.ai/api/v1
	APIKey       string   // secret; empty disables every AI route (503 ai_unavailable)
	DefaultModel string   // used when a request names none
	Models       []string // allow-list; empty allows the default and fallbacks only
	Fallbacks    []string // tried in order when the chosen model fails
	AppURL       string   // OpenRouter attribution: HTTP-Referer
	AppName      string   // OpenRouter attribution: X-Title
	// SafetyModel reads chat messages for the crisis second opinion
	// (SafetyText); empty: no second opinion.
	SafetyModel string

	ConnectTimeout    time.Duration // TCP+TLS connect (default 5s)
	FirstByteTimeout  time.Duration // until response headers (default 60s)
	IdleStreamTimeout time.Duration // longest silence inside a stream (default 60s)
	MaxAttempts       int           // per model, before the first byte (default 3)
	MaxBackoff        time.Duration // cap of one wait between attempts (default 8s)
	ModelsTTL         time.Duration // model list cache age (default 10m)
}

func (c *Config) defaults() {
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.FirstByteTimeout == 0 {
		c.FirstByteTimeout = 60 * time.Second
	}
	if c.IdleStreamTimeout == 0 {
		c.IdleStreamTimeout = 60 * time.Second
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 8 * time.Second
	}
	if c.ModelsTTL == 0 {
		c.ModelsTTL = 10 * time.Minute
	}
}

// Problem codes of the gateway.
const (
	CodeUnavailable     apperr.Code = "ai_unavailable"
	CodeQuotaExhausted  apperr.Code = "ai_quota_exhausted"
	CodeRefused         apperr.Code = "ai_refused"
	CodeBadRequest      apperr.Code = "ai_bad_request"
	CodeUpstream        apperr.Code = "ai_upstream_error"
	CodeTimeout         apperr.Code = "ai_timeout"
	CodeModelNotAllowed apperr.Code = "ai_model_not_allowed"
	CodeTokenQuota      apperr.Code = "ai_token_quota_exceeded"
)

var (
	errNotConfigured = &apperr.Error{Code: CodeUnavailable, Status: 503, Message: "the AI service is not configured on this server"}
	errOpenCircuit   = &apperr.Error{Code: CodeUnavailable, Status: 503, Message: "the AI service is failing; try again shortly", RetryAfter: 10 * time.Second}
)

// upstreamError is a non-200 answer or a transport failure.
type upstreamError struct {
	status     int           // 0 for transport errors
	retryAfter time.Duration // from Retry-After
	timeout    bool
	err        error
}

func (e *upstreamError) Error() string {
	if e.status == 0 {
		return fmt.Sprintf("ai upstream: %v", e.err)
	}
	return fmt.Sprintf("ai upstream: status %d", e.status)
}

func (e *upstreamError) Unwrap() error { return e.err }

// retryable reports whether another attempt (same model, before any byte
// was relayed) may succeed.
func (e *upstreamError) retryable() bool {
	return e.status == 0 || e.status == 408 || e.status == 429 || e.status >= 500
}

// breakerFailure reports whether the upstream itself is unwell.
func (e *upstreamError) breakerFailure() bool { return e.status == 0 || e.status >= 500 }

// fallback reports whether the next model may do better.
func (e *upstreamError) fallback() bool { return e.retryable() || e.status == 404 }

// problem maps the final upstream failure to what the client sees, with no
// upstream text.
func (e *upstreamError) problem() *apperr.Error {
	switch {
	case e.status == 400 || e.status == 413 || e.status == 422:
		return &apperr.Error{Code: CodeBadRequest, Status: 400, Message: "the AI service could not process this request", Err: e}
	case e.status == 402:
		return &apperr.Error{Code: CodeQuotaExhausted, Status: 503, Message: "the AI service has run out of credit; please try later", Err: e}
	case e.status == 403:
		return &apperr.Error{Code: CodeRefused, Status: 422, Message: "the AI service declined this request", Err: e}
	case e.status == 401:
		return &apperr.Error{Code: CodeUnavailable, Status: 503, Message: "the AI service is misconfigured", Err: e}
	case e.timeout:
		return &apperr.Error{Code: CodeTimeout, Status: 504, Message: "the AI service took too long to answer", Err: e}
	case e.status == 429:
		return &apperr.Error{Code: CodeUpstream, Status: 503, Message: "the AI service is busy; try again shortly", RetryAfter: max(e.retryAfter, time.Second), Err: e}
	}
	return &apperr.Error{Code: CodeUpstream, Status: 502, Message: "the AI service failed to answer", Err: e}
}

// client speaks to one OpenAI-compatible upstream.
type client struct {
	cfg  Config
	http *http.Client
}

func newClient(cfg Config) *client {
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: cfg.FirstByteTimeout,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	// No overall Timeout: streams last as long as they last; each phase
	// has its own limit.
	return &client{cfg: cfg, http: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// post sends a chat completion request. It returns the 200 response (body
// open) or an *upstreamError (body drained and closed).
func (c *client) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, &upstreamError{err: err}
	}
	c.headers(req)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		var ne net.Error
		return nil, &upstreamError{err: errors.New("request failed"), timeout: errors.As(err, &ne) && ne.Timeout()}
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, &upstreamError{status: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	}
	return resp, nil
}

func (c *client) headers(req *http.Request) {
	req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	req.Header.Set("Accept", "application/json, text/event-stream")
	if c.cfg.AppURL != "" {
		req.Header.Set("HTTP-Referer", c.cfg.AppURL)
	}
	if c.cfg.AppName != "" {
		req.Header.Set("X-Title", c.cfg.AppName)
	}
}

// listModels fetches the upstream's model list.
func (c *client) listModels(ctx context.Context) ([]Model, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+"/models", nil)
	if err != nil {
		return nil, err
	}
	c.headers(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &upstreamError{err: errors.New("request failed")}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &upstreamError{status: resp.StatusCode}
	}
	var list struct {
		Data []struct {
			ID            string          `json:"id"`
			Name          string          `json:"name"`
			Created       int64           `json:"created"`
			ContextLength int             `json:"context_length"`
			Pricing       json.RawMessage `json:"pricing"`
			OwnedBy       string          `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&list); err != nil {
		return nil, &upstreamError{status: 502, err: errors.New("malformed model list")}
	}
	out := make([]Model, 0, len(list.Data))
	for _, m := range list.Data {
		owner := m.OwnedBy
		if owner == "" {
			owner, _, _ = strings.Cut(m.ID, "/")
		}
		out = append(out, Model{ID: m.ID, Object: "model", Created: m.Created, OwnedBy: owner, Name: m.Name, ContextLength: m.ContextLength, Pricing: m.Pricing})
	}
	return out, nil
}

// parseRetryAfter reads seconds or an HTTP date; unknown forms give 0.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}
