package httpx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/httpx"
)

type env struct {
	handler http.Handler
	logs    *bytes.Buffer
	reg     *prometheus.Registry
}

type createInput struct {
	Body struct {
		Name  string `json:"name" minLength:"2" maxLength:"20"`
		Email string `json:"email" format:"email"`
	}
}

type createOutput struct {
	Body struct {
		Name string `json:"name"`
	}
}

// newEnv builds a small API through the real middleware stack.
func newEnv(t *testing.T) *env {
	t.Helper()
	httpx.InstallHumaErrors()
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("test", "1"))
	huma.Post(api, "/things", func(ctx context.Context, in *createInput) (*createOutput, error) {
		switch in.Body.Name {
		case "gone":
			return nil, apperr.New(apperr.NotFound, "thing not found")
		case "custom":
			return nil, &apperr.Error{Code: "agent_not_approved", Status: http.StatusForbidden, Message: "agent is not approved yet"}
		case "broken":
			return nil, errors.New("pq: relation \"secret_table\" does not exist")
		case "wrapped":
			return nil, apperr.Wrap(errors.New("dial tcp 10.0.0.5:5432: refused"), apperr.Unavailable, "database unavailable")
		}
		httpx.SetUser(ctx, "user-42")
		out := &createOutput{}
		out.Body.Name = in.Body.Name
		return out, nil
	})
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("secret panic detail") })
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.PathValue("id")) })
	h := httpx.Stack(httpx.Router(mux), httpx.Options{
		Logger:         log,
		Metrics:        httpx.NewMetrics(reg),
		CORSOrigins:    []string{"https://app.example.com"},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		MaxBodyBytes:   1024,
	})
	return &env{handler: h, logs: logs, reg: reg}
}

func (e *env) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

func problem(t *testing.T, w *httptest.ResponseRecorder, status int, code string) httpx.Problem {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != httpx.ProblemContentType {
		t.Fatalf("content type %q, want problem+json", ct)
	}
	var p httpx.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("body is not a problem: %v: %s", err, w.Body)
	}
	if string(p.Code) != code || p.Status != status || p.Title == "" {
		t.Fatalf("problem %+v, want code %s status %d", p, code, status)
	}
	if p.RequestID == "" || p.RequestID != w.Header().Get("X-Request-Id") {
		t.Fatalf("problem request_id %q, header %q", p.RequestID, w.Header().Get("X-Request-Id"))
	}
	return p
}

func post(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/things", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestProblems(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name   string
		req    *http.Request
		status int
		code   string
		leak   string
	}{
		{"unknown path", httptest.NewRequest(http.MethodGet, "/nowhere", nil), 404, "not_found", ""},
		{"wrong method", httptest.NewRequest(http.MethodDelete, "/things", nil), 405, "method_not_allowed", ""},
		{"malformed json", post(`{"name":`), 400, "bad_request", ""},
		{"validation", post(`{"name":"x","email":"not-an-email"}`), 422, "invalid", ""},
		{"domain not found", post(`{"name":"gone","email":"a@b.co"}`), 404, "not_found", ""},
		{"domain specific code", post(`{"name":"custom","email":"a@b.co"}`), 403, "agent_not_approved", ""},
		{"internal error hidden", post(`{"name":"broken","email":"a@b.co"}`), 500, "internal", "secret_table"},
		{"wrapped cause hidden", post(`{"name":"wrapped","email":"a@b.co"}`), 503, "unavailable", "10.0.0.5"},
		{"panic hidden", httptest.NewRequest(http.MethodGet, "/panic", nil), 500, "internal", "secret panic"},
		{"declared body too large", post(`{"name":"` + strings.Repeat("a", 2000) + `"}`), 413, "payload_too_large", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(c.req)
			p := problem(t, w, c.status, c.code)
			if c.leak != "" && strings.Contains(w.Body.String(), c.leak) {
				t.Fatalf("internal text %q reached the client: %s", c.leak, w.Body)
			}
			if c.code == "invalid" && (len(p.Errors) == 0 || p.Errors[0].Location == "") {
				t.Fatalf("validation problem without field errors: %+v", p)
			}
		})
	}
	if !strings.Contains(e.logs.String(), "secret_table") || !strings.Contains(e.logs.String(), "secret panic detail") {
		t.Fatal("internal causes must be logged for operators")
	}
	if w := e.do(httptest.NewRequest(http.MethodDelete, "/things", nil)); w.Header().Get("Allow") == "" {
		t.Fatal("405 without Allow header")
	}
}

// A problem never repeats what the client sent: a number where a string
// belongs (an Aadhaar number, 12 digits), a short invalid string, a short
// body that is not JSON.
func TestProblemsDoNotEchoInput(t *testing.T) {
	e := newEnv(t)
	const secret = "234567890124"
	for name, c := range map[string]struct {
		body   string
		status int
		code   string
	}{
		"number for a string":    {`{"name":` + secret + `,"email":"a@b.co"}`, 422, "invalid"},
		"short invalid string":   {`{"name":"x","email":"` + secret + `"}`, 422, "invalid"},
		"number for an e-mail":   {`{"name":"okay","email":` + secret + `}`, 422, "invalid"},
		"short body, not JSON":   {`{"name":` + secret, 400, "bad_request"},
		"string for an object":   {`"` + secret + `"`, 422, "invalid"},
		"number in a wrong type": {`{"name":["` + secret + `"],"email":"a@b.co"}`, 422, "invalid"},
	} {
		t.Run(name, func(t *testing.T) {
			w := e.do(post(c.body))
			p := problem(t, w, c.status, c.code)
			if strings.Contains(w.Body.String(), secret) || strings.Contains(w.Body.String(), `"value"`) {
				t.Fatalf("the problem repeats the input: %s", w.Body)
			}
			if c.status == 422 && (len(p.Errors) == 0 || p.Errors[0].Location == "" || p.Errors[0].Message == "") {
				t.Fatalf("no field error: %+v", p)
			}
		})
	}
}

func TestChunkedBodyOverLimit(t *testing.T) {
	e := newEnv(t)
	body := io.MultiReader(strings.NewReader(`{"name":"`), strings.NewReader(strings.Repeat("a", 4000)), strings.NewReader(`"}`))
	r := httptest.NewRequest(http.MethodPost, "/things", body)
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	problem(t, e.do(r), 413, "payload_too_large")
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	r := httptest.NewRequest(http.MethodGet, "/users/7", nil)
	r.Header.Set("X-Request-Id", "mobile-abc-123456")
	if got := e.do(r).Header().Get("X-Request-Id"); got != "mobile-abc-123456" {
		t.Fatalf("sane incoming id replaced: %q", got)
	}
	for _, bad := range []string{"short", "has space in it!", strings.Repeat("x", 200), "inj\"ect<script>"} {
		r := httptest.NewRequest(http.MethodGet, "/users/7", nil)
		r.Header.Set("X-Request-Id", bad)
		got := e.do(r).Header().Get("X-Request-Id")
		if got == bad || len(got) != 36 {
			t.Fatalf("unsafe incoming id %q gave %q", bad, got)
		}
	}
}

func TestAccessLogAndMetrics(t *testing.T) {
	e := newEnv(t)
	w := e.do(post(`{"name":"okay","email":"a@b.co"}`))
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	e.do(httptest.NewRequest(http.MethodGet, "/users/9", nil))
	lines := strings.Split(strings.TrimSpace(e.logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per request, got %d: %s", len(lines), e.logs)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"request_id", "method", "route", "status", "duration_ms", "bytes", "ip", "user_id"} {
		if _, ok := rec[k]; !ok {
			t.Fatalf("access log lacks %q: %s", k, lines[0])
		}
	}
	if rec["route"] != "/things" || rec["user_id"] != "user-42" || rec["status"] != float64(200) {
		t.Fatalf("access log %v", rec)
	}
	// Metrics are labelled by route pattern, not by raw path.
	if n := e.requests(t, "/users/{id}"); n != 1 {
		t.Fatalf("requests for /users/{id}: %v", n)
	}
}

func (e *env) requests(t *testing.T, route string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "mitra_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && l.GetValue() == route {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no requests metric for route %s", route)
	return 0
}

func TestSecurityHeadersAndHSTS(t *testing.T) {
	e := newEnv(t)
	w := e.do(httptest.NewRequest(http.MethodGet, "/users/1", nil))
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		"Content-Security-Policy": httpx.APICSP,
	} {
		if got := w.Header().Get(k); got != want {
			t.Fatalf("%s = %q, want %q", k, got, want)
		}
	}
	if w.Header().Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS over plain HTTP")
	}
	// X-Forwarded-Proto is believed only from a trusted proxy.
	r := httptest.NewRequest(http.MethodGet, "/users/1", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	if e.do(r).Header().Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS from an untrusted X-Forwarded-Proto")
	}
	r.RemoteAddr = "10.1.2.3:4444"
	if e.do(r).Header().Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS behind a trusted TLS proxy")
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t)
	pre := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "/things", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		return e.do(r)
	}
	w := pre("https://app.example.com")
	if w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("allowed origin refused: %v", w.Header())
	}
	if w := pre("https://evil.example.net"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("unknown origin allowed: %v", w.Header())
	}
	// With no origins configured, no origin is allowed (not every origin).
	h := httpx.Stack(http.NotFoundHandler(), httpx.Options{})
	req := httptest.NewRequest(http.MethodOptions, "/things", nil)
	req.Header.Set("Origin", "https://evil.example.net")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("default CORS allows %q", got)
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	cases := []struct {
		remote, xff, want string
	}{
		{"203.0.113.9:1234", "", "203.0.113.9"},
		{"203.0.113.9:1234", "1.2.3.4", "203.0.113.9"},             // untrusted peer: header ignored
		{"10.0.0.2:1234", "198.51.100.7", "198.51.100.7"},          // one trusted proxy
		{"10.0.0.2:1234", "6.6.6.6, 198.51.100.7", "198.51.100.7"}, // spoofed left part ignored
		{"10.0.0.2:1234", "198.51.100.7, 10.0.0.9", "198.51.100.7"},
		{"10.0.0.2:1234", "garbage", "10.0.0.2"},
		{"[::1]:80", "2001:db8::1", "2001:db8::1"},
	}
	for _, c := range cases {
		var got netip.Addr
		h := httpx.Stack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = httpx.ClientIP(r.Context()) }),
			httpx.Options{TrustedProxies: trusted})
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got.String() != c.want {
			t.Errorf("remote %s xff %q: got %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

func TestLimitKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":          "203.0.113.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"::ffff:198.51.100.1":  "::ffff:198.51.100.1",
		"":                     "",
		"garbage":              "garbage",
	} {
		if got := httpx.LimitKey(in); got != want {
			t.Errorf("LimitKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// One route may take larger bodies than the rest.
func TestBodyLimitPerRoute(t *testing.T) {
	mux := http.NewServeMux()
	read := func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			httpx.WriteProblem(w, httpx.StatusProblem(r.Context(), http.StatusRequestEntityTooLarge, err.Error()))
			return
		}
		_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
	}
	mux.HandleFunc("POST /upload", read)
	mux.HandleFunc("POST /other", read)
	h := httpx.Stack(httpx.Router(mux), httpx.Options{MaxBodyBytes: 1024, BodyLimits: map[string]int64{"POST /upload": 8192}})
	send := func(path string, n int, chunked bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(strings.Repeat("x", n)))
		if chunked {
			r.ContentLength = -1
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := send("/upload", 5000, false); w.Code != 200 || w.Body.String() != "5000" {
		t.Fatalf("5000 bytes to the large route: %d %s", w.Code, w.Body)
	}
	problem(t, send("/upload", 9000, false), 413, "payload_too_large")
	problem(t, send("/upload", 9000, true), 413, "payload_too_large")
	problem(t, send("/other", 5000, false), 413, "payload_too_large")
	problem(t, send("/other", 5000, true), 413, "payload_too_large")
	if w := send("/other", 1000, false); w.Code != 200 {
		t.Fatalf("small body elsewhere: %d", w.Code)
	}
}
