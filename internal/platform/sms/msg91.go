package sms

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultMSG91BaseURL is where MSG91's API lives.
const DefaultMSG91BaseURL = "https://control.msg91.com"

// msg91OTPPath is the send-OTP endpoint of MSG91's v5 API.
const msg91OTPPath = "/api/v5/otp"

// maxResponseBytes bounds how much of an answer is read.
const maxResponseBytes = 64 << 10

// MSG91Config configures NewMSG91.
type MSG91Config struct {
	AuthKey    string        // secret; sent only in the "authkey" header
	TemplateID string        // the OTP template (MSG91 panel: OTP > Templates), containing ##OTP##
	BaseURL    string        // default https://control.msg91.com
	HTTPClient *http.Client  // default: a client with sane timeouts
	Timeout    time.Duration // per request, default 10s
	// Flows maps TemplateKey(name, language) to the id of an MSG91 flow
	// template, for SendTemplate. Optional: without it only codes are sent.
	Flows map[string]string
}

// MSG91 sends codes through MSG91's OTP API (v5): one POST per code, the
// code chosen by us, MSG91 only delivering it. Verification stays ours.
// It is safe for concurrent use.
type MSG91 struct {
	authKey    string
	templateID string
	endpoint   *url.URL
	client     *http.Client
	timeout    time.Duration

	flowEndpoint *url.URL
	flows        map[string]string
}

var _ OTPSender = (*MSG91)(nil)

// NewMSG91 validates cfg (AuthKey and TemplateID are required, BaseURL must
// be an absolute http or https URL) and returns the sender.
func NewMSG91(cfg MSG91Config) (*MSG91, error) {
	if strings.TrimSpace(cfg.AuthKey) == "" {
		return nil, errors.New("sms: msg91 auth key is required")
	}
	if strings.ContainsAny(cfg.AuthKey, " \t\r\n") {
		return nil, errors.New("sms: msg91 auth key must not contain white space")
	}
	if strings.TrimSpace(cfg.TemplateID) == "" {
		return nil, errors.New("sms: msg91 template id is required")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("sms: msg91 timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultMSG91BaseURL
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("sms: msg91 base URL must be an absolute http(s) URL without credentials, query or fragment")
	}
	endpoint := base.JoinPath(msg91OTPPath)
	flows := map[string]string{}
	for k, v := range cfg.Flows {
		if strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, errors.New("sms: msg91 flow templates need a name.language and an id")
		}
		flows[k] = strings.TrimSpace(v)
	}

	var client http.Client
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient // a copy: the caller's client is not changed
	} else {
		client = defaultHTTPClient(cfg.Timeout)
	}
	// The auth key travels in a custom header, which Go would forward to
	// any host a redirect points at. MSG91 does not redirect this call, so
	// a redirect is answered as an error instead of being followed.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	return &MSG91{
		authKey:    cfg.AuthKey,
		templateID: strings.TrimSpace(cfg.TemplateID),
		endpoint:   endpoint,
		client:     &client,
		timeout:    cfg.Timeout,

		flowEndpoint: base.JoinPath(msg91FlowPath),
		flows:        flows,
	}, nil
}

// defaultHTTPClient bounds every phase of a call; the per-request context
// deadline bounds the whole.
func defaultHTTPClient(timeout time.Duration) http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = timeout
	t.ExpectContinueTimeout = time.Second
	t.IdleConnTimeout = 90 * time.Second
	t.MaxIdleConnsPerHost = 4
	return http.Client{Transport: t, Timeout: timeout + 5*time.Second}
}

// Name returns "msg91".
func (m *MSG91) Name() string { return "msg91" }

// SendOTP asks MSG91 to deliver code to phone with the configured template.
//
// The request is POST {BaseURL}/api/v5/otp?template_id=…&mobile=…&otp=…&otp_length=…
// with the "authkey" header and an empty JSON object as body; mobile is
// the E.164 number without "+". MSG91 answers {"type":"success",…} or
// {"type":"error","message":…}.
//
// Classification: network errors, timeouts, 408, 429, 5xx and an
// unreadable 2xx answer are retryable; other 3xx and 4xx answers, a 2xx
// whose type is "error", and invalid arguments wrap ErrPermanent. purpose
// is not sent: one template serves every purpose.
func (m *MSG91) SendOTP(ctx context.Context, phone, code, purpose string) error {
	if err := validate(phone, code); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()

	u := *m.endpoint
	q := url.Values{}
	q.Set("template_id", m.templateID)
	q.Set("mobile", phone[1:]) // country code and national number, no "+"
	q.Set("otp", code)
	q.Set("otp_length", strconv.Itoa(len(code)))
	u.RawQuery = q.Encode()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader("{}"))
	if err != nil {
		// Only a malformed URL gets here, and the URL holds the code: say
		// nothing more.
		return &Error{Provider: m.Name(), Permanent: true, reason: "could not build the request"}
	}
	req.Header.Set("authkey", m.authKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := m.client.Do(req)
	if err != nil {
		return transportError(ctx, m.Name(), err)
	}
	defer resp.Body.Close()

	return m.classify(ctx, resp)
}

// classify turns MSG91's answer into nil or an *Error.
func (m *MSG91) classify(ctx context.Context, resp *http.Response) error {
	name := m.Name()
	status := resp.StatusCode
	switch {
	case status == http.StatusTooManyRequests:
		return &Error{Provider: name, Status: status, RetryAfter: retryAfter(resp.Header), reason: "rate limited the request"}
	case status == http.StatusRequestTimeout:
		return &Error{Provider: name, Status: status, reason: "timed out reading the request"}
	case status >= 500:
		return &Error{Provider: name, Status: status, RetryAfter: retryAfter(resp.Header), reason: "failed upstream"}
	case status >= 400:
		return &Error{Provider: name, Status: status, Permanent: true, reason: "rejected the request"}
	case status >= 300:
		return &Error{Provider: name, Status: status, Permanent: true, reason: "answered with a redirect, which is not followed"}
	case status < 200:
		return &Error{Provider: name, Status: status, reason: "answered with an unexpected status"}
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return transportError(ctx, name, err)
	}
	if len(body) > maxResponseBytes {
		return &Error{Provider: name, Status: status, reason: "sent an oversized answer"}
	}
	r, err := parseResponse(body)
	if err != nil {
		// The code may or may not have gone out. A retry at worst sends the
		// same code twice; not retrying may lock the user out.
		return &Error{Provider: name, Status: status, reason: "sent an unreadable answer"}
	}
	if r.Type == responseError {
		return &Error{Provider: name, Status: status, Permanent: true, reason: "reported an error"}
	}
	return nil
}

// transportError classifies a failure to get an answer. All are retryable.
// The *url.Error is dropped: its text holds the URL, and so the code.
func transportError(ctx context.Context, provider string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	e := &Error{Provider: provider, cause: err}
	var ne net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		e.reason = "request cancelled"
		if ctx.Err() != nil {
			e.cause = ctx.Err()
		}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()):
		e.reason = "request timed out"
		if ctx.Err() != nil {
			e.cause = ctx.Err()
		}
	case errors.As(err, &dnsErr):
		e.reason = "request failed (dns)"
	case errors.As(err, &opErr) && opErr.Op != "":
		e.reason = "request failed (" + opErr.Op + ")"
	default:
		e.reason = "request failed (network)"
	}
	return e
}

// retryAfter reads a Retry-After header given in seconds; dates and
// nonsense give 0. It is capped at an hour.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}

// The values of "type" in MSG91's answers.
const (
	responseSuccess = "success"
	responseError   = "error"
)

// msg91Response is MSG91's answer: {"type":"success","request_id":"…"} or
// {"type":"error","message":"…"}. Only Type decides; the message is the
// upstream's free text and is never surfaced.
type msg91Response struct {
	Type      string // responseSuccess or responseError
	RequestID string // the request_id of a success, when it is a string
}

var errMalformed = errors.New("sms: malformed msg91 answer")

// parseResponse reads an answer body. It fails unless the body is one JSON
// object whose "type" is the string "success" or "error" (in any case).
// Other fields may have any type.
func parseResponse(body []byte) (msg91Response, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return msg91Response{}, errMalformed
	}
	var typ string
	if err := json.Unmarshal(raw["type"], &typ); err != nil {
		return msg91Response{}, errMalformed
	}
	var r msg91Response
	switch strings.ToLower(strings.TrimSpace(typ)) {
	case responseSuccess:
		r.Type = responseSuccess
	case responseError:
		r.Type = responseError
	default:
		return msg91Response{}, errMalformed
	}
	if id, ok := raw["request_id"]; ok {
		_ = json.Unmarshal(id, &r.RequestID) // informative only
	}
	return r, nil
}
