// Package whatsapp sends template messages through the WhatsApp Business
// Cloud API (Meta's Graph API).
//
// A message a business starts (outside a 24-hour window opened by the
// person) must be an approved template: Mitra sends a template's name, its
// language and its body parameters, never free text. Client calls
// POST {BaseURL}/{version}/{phone_number_id}/messages with a bearer token;
// LogSender is the development stand-in, which logs the message with the
// number masked and sends nothing.
//
// Senders are called from durable jobs, so every error says whether a retry
// can help: an error wrapping ErrPermanent (bad token, unknown template,
// number not on WhatsApp) must not be retried; any other (network, timeout,
// throughput or pair rate limit, Meta outage) may be. Error texts are safe
// to log: they hold Meta's numeric code and trace id, never the token, the
// number, the parameters or Meta's free text.
package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mitra/internal/platform/logging"
)

// Defaults of Config.
const (
	DefaultBaseURL    = "https://graph.facebook.com"
	DefaultAPIVersion = "v23.0"
)

// maxResponseBytes bounds how much of an answer is read.
const maxResponseBytes = 64 << 10

// maxParamRunes bounds one body parameter (a template body holds at most
// 1024 characters in all).
const maxParamRunes = 600

// Template is one template message: a logical Name (mapped to the approved
// template's name by Config.Templates), the Language code the template was
// approved in ("id", "en"), its body parameters in order, and the filled
// Text (logged by LogSender only; the API receives the parameters).
type Template struct {
	Name     string
	Language string
	Params   []string
	Text     string
}

// TemplateSender delivers template messages. to is E.164 ("+6281234567890").
// It returns WhatsApp's message id ("wamid...") when there is one.
type TemplateSender interface {
	SendTemplate(ctx context.Context, to string, t Template) (string, error)
	Name() string
}

// ErrPermanent marks a failure that retrying will not fix.
var ErrPermanent = errors.New("whatsapp: permanent failure")

// Error is a failed send. Its message holds the HTTP status, Meta's error
// code and trace id, so it is safe to log.
type Error struct {
	Status     int    // HTTP status, 0 when no answer came
	Code       int    // Meta's error code (error.code), 0 when none
	Subcode    int    // error.error_subcode, 0 when none
	TraceID    string // error.fbtrace_id, for Meta support
	Permanent  bool
	RetryAfter time.Duration // from Retry-After on a retryable answer

	reason string
	cause  error
}

// Error returns a short description such as "whatsapp: rejected the
// request (status 400, code 132001, trace AbC)".
func (e *Error) Error() string {
	s := "whatsapp: " + e.reason
	var parts []string
	if e.Status != 0 {
		parts = append(parts, "status "+strconv.Itoa(e.Status))
	}
	if e.Code != 0 {
		parts = append(parts, "code "+strconv.Itoa(e.Code))
	}
	if e.TraceID != "" {
		parts = append(parts, "trace "+e.TraceID)
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// Unwrap returns ErrPermanent when the failure is permanent, and the cause.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Permanent {
		errs = append(errs, ErrPermanent)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// Config configures New.
type Config struct {
	Token         string // secret: a system user's access token
	PhoneNumberID string // the sending business number's id (not the number)
	APIVersion    string // default DefaultAPIVersion
	BaseURL       string // default DefaultBaseURL
	// Templates maps a logical template name to the approved template's
	// name; a name not in the map is sent as it is.
	Templates  map[string]string
	HTTPClient *http.Client  // default: a client with bounded phases
	Timeout    time.Duration // per request, default 10s
}

// Client sends template messages through the Cloud API. It is safe for
// concurrent use.
type Client struct {
	token     string
	endpoint  string
	templates map[string]string
	client    *http.Client
	timeout   time.Duration
}

var _ TemplateSender = (*Client)(nil)

var (
	versionPattern = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)
	idPattern      = regexp.MustCompile(`^[0-9]{5,25}$`)
)

// New validates cfg (a token without white space, a numeric phone number
// id, a version like v23.0, an absolute http(s) base URL) and returns the
// client.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Token) == "" || strings.ContainsAny(cfg.Token, " \t\r\n") {
		return nil, errors.New("whatsapp: an access token without white space is required")
	}
	if !idPattern.MatchString(cfg.PhoneNumberID) {
		return nil, errors.New("whatsapp: the phone number id must be the numeric id Meta shows (not the phone number)")
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if !versionPattern.MatchString(cfg.APIVersion) {
		return nil, errors.New("whatsapp: the API version must look like v23.0")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("whatsapp: the base URL must be an absolute http(s) URL without credentials, query or fragment")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("whatsapp: the timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	var client http.Client
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 5 * time.Second
		t.ResponseHeaderTimeout = cfg.Timeout
		t.MaxIdleConnsPerHost = 4
		client = http.Client{Transport: t, Timeout: cfg.Timeout + 5*time.Second}
	}
	// A redirect would carry the bearer token to wherever it points (Go
	// drops Authorization only across hosts, not schemes): refuse it.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	templates := map[string]string{}
	for k, v := range cfg.Templates {
		templates[k] = v
	}
	return &Client{
		token:     cfg.Token,
		endpoint:  base.JoinPath(cfg.APIVersion, cfg.PhoneNumberID, "messages").String(),
		templates: templates,
		client:    &client,
		timeout:   cfg.Timeout,
	}, nil
}

// Name returns "whatsapp".
func (c *Client) Name() string { return "whatsapp" }

// request is the Cloud API's send-message body for a template.
type request struct {
	MessagingProduct string          `json:"messaging_product"`
	RecipientType    string          `json:"recipient_type"`
	To               string          `json:"to"`
	Type             string          `json:"type"`
	Template         requestTemplate `json:"template"`
}

type requestTemplate struct {
	Name       string             `json:"name"`
	Language   requestLanguage    `json:"language"`
	Components []requestComponent `json:"components,omitempty"`
}

type requestLanguage struct {
	Code string `json:"code"`
}

type requestComponent struct {
	Type       string         `json:"type"`
	Parameters []requestParam `json:"parameters"`
}

type requestParam struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// SendTemplate sends t to the number to and returns the message id.
//
// The body is {"messaging_product":"whatsapp","recipient_type":"individual",
// "to":"<digits>","type":"template","template":{"name":…,"language":{"code":…},
// "components":[{"type":"body","parameters":[{"type":"text","text":…}…]}]}}.
// Parameters lose new lines, tabs and runs of spaces (which the API
// refuses). Classification: network errors, timeouts, 408, 429, 5xx, an
// unreadable 2xx, and Meta's throughput, pair-rate and temporary codes are
// retryable; everything else wraps ErrPermanent.
func (c *Client) SendTemplate(ctx context.Context, to string, t Template) (string, error) {
	params, err := checkTemplate(to, t)
	if err != nil {
		return "", err
	}
	name := t.Name
	if n := c.templates[t.Name]; n != "" {
		name = n
	}
	body := request{MessagingProduct: "whatsapp", RecipientType: "individual", To: to[1:], Type: "template",
		Template: requestTemplate{Name: name, Language: requestLanguage{Code: t.Language}}}
	if len(params) > 0 {
		comp := requestComponent{Type: "body"}
		for _, p := range params {
			comp.Parameters = append(comp.Parameters, requestParam{Type: "text", Text: p})
		}
		body.Template.Components = []requestComponent{comp}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", &Error{Permanent: true, reason: "could not encode the request"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(b))
	if err != nil {
		return "", &Error{Permanent: true, reason: "could not build the request"}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return "", transportError(ctx, err)
	}
	defer resp.Body.Close()
	return classify(ctx, resp)
}

var spaces = regexp.MustCompile(`\s+`)

// checkTemplate validates the arguments and returns the parameters as the
// API accepts them.
func checkTemplate(to string, t Template) ([]string, error) {
	if !validPhone(to) {
		return nil, &Error{Permanent: true, reason: "invalid phone number (want E.164, such as +6281234567890)"}
	}
	if t.Name == "" || t.Language == "" {
		return nil, &Error{Permanent: true, reason: "template name and language are required"}
	}
	out := make([]string, len(t.Params))
	for i, p := range t.Params {
		if !utf8.ValidString(p) {
			return nil, &Error{Permanent: true, reason: "template parameter is not UTF-8"}
		}
		p = strings.TrimSpace(spaces.ReplaceAllString(p, " "))
		if p == "" || utf8.RuneCountInString(p) > maxParamRunes {
			return nil, &Error{Permanent: true, reason: "template parameter is empty or too long"}
		}
		out[i] = p
	}
	return out, nil
}

func validPhone(p string) bool {
	if len(p) < 9 || len(p) > 16 || p[0] != '+' || p[1] == '0' {
		return false
	}
	for i := 1; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// answer is the Cloud API's answer: {"messages":[{"id":"wamid..."}]} on
// success, {"error":{...}} on failure.
type answer struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// retryableCodes are Meta error codes that a later attempt may get past:
// API unknown/temporarily unavailable (1, 2), application and throughput
// rate limits (4, 80007, 130429), pair rate limit (131056), generic and
// service unavailable (131000, 131016), server temporarily unavailable
// (133004).
var retryableCodes = map[int]bool{1: true, 2: true, 4: true, 80007: true, 130429: true, 131000: true, 131016: true, 131056: true, 133004: true}

var errMalformed = errors.New("whatsapp: malformed answer")

// parseAnswer reads a body; it fails unless it is one JSON object whose
// known fields have their documented types.
func parseAnswer(body []byte) (answer, error) {
	var a answer
	if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '{' {
		return a, errMalformed
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return answer{}, errMalformed
	}
	return a, nil
}

func classify(ctx context.Context, resp *http.Response) (string, error) {
	status := resp.StatusCode
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return "", transportError(ctx, err)
	}
	if len(body) > maxResponseBytes {
		return "", &Error{Status: status, Permanent: status/100 == 4 && status != 408 && status != 429, reason: "sent an oversized answer"}
	}
	a, perr := parseAnswer(body)
	if status/100 == 2 {
		if perr != nil || a.Error != nil || len(a.Messages) == 0 || a.Messages[0].ID == "" {
			// The message may or may not have gone out: a retry at worst
			// sends it twice, no retry may never send it.
			return "", &Error{Status: status, reason: "sent an unreadable answer"}
		}
		return a.Messages[0].ID, nil
	}
	e := &Error{Status: status}
	if perr == nil && a.Error != nil {
		e.Code, e.Subcode, e.TraceID = a.Error.Code, a.Error.Subcode, safeTrace(a.Error.FBTraceID)
	}
	switch {
	case status == http.StatusTooManyRequests || retryableCodes[e.Code]:
		e.reason, e.RetryAfter = "rate limited or temporarily unavailable", retryAfter(resp.Header)
	case status == http.StatusRequestTimeout:
		e.reason = "timed out reading the request"
	case status >= 500:
		e.reason, e.RetryAfter = "failed upstream", retryAfter(resp.Header)
	case status >= 300 && status < 400:
		e.reason, e.Permanent = "answered with a redirect, which is not followed", true
	default:
		e.reason, e.Permanent = "rejected the request", true
	}
	return "", e
}

var tracePattern = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)

// safeTrace keeps a trace id only when it looks like one.
func safeTrace(s string) string {
	if tracePattern.MatchString(s) {
		return s
	}
	return ""
}

func retryAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}

// transportError classifies a failure to get an answer; all are retryable.
// The *url.Error is dropped: its text holds the URL.
func transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	e := &Error{cause: err}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		e.reason = "request cancelled"
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		e.reason = "request timed out"
		if ctx.Err() != nil {
			e.cause = ctx.Err()
		}
	default:
		e.reason = "request failed (network)"
	}
	return e
}

// LogSender is the development sender: it logs the filled text, the
// template and the number masked ("message (development: not sent)") and
// sends nothing. It is refused in production by the configuration.
type LogSender struct{ Logger *slog.Logger }

var _ TemplateSender = LogSender{}

// Name returns "log".
func (LogSender) Name() string { return "log" }

// SendTemplate logs t and returns a made-up id ("log-<n>").
func (s LogSender) SendTemplate(ctx context.Context, to string, t Template) (string, error) {
	if _, err := checkTemplate(to, t); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("whatsapp: log: %w", err)
	}
	l := s.Logger
	if l == nil {
		l = slog.Default()
	}
	l.LogAttrs(ctx, slog.LevelInfo, "message (development: not sent)", slog.String("channel", "whatsapp"),
		slog.String("phone", logging.MaskPhone(to)), slog.String("template", t.Name), slog.String("language", t.Language), slog.String("text", t.Text))
	return "log-" + strconv.FormatInt(time.Now().UnixNano(), 36), nil
}
