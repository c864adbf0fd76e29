package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"mitra/internal/auth/authtest"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/server"
)

type client struct {
	t     *testing.T
	h     http.Handler
	token string
	ip    string
}

func (c client) do(method, path string, body any, header ...string) (*httptest.ResponseRecorder, map[string]any) {
	c.t.Helper()
	var rd *bytes.Reader
	if s, ok := body.(string); ok {
		rd = bytes.NewReader([]byte(s))
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		r.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.ip != "" {
		r.RemoteAddr = c.ip + ":40000"
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	var m map[string]any
	if strings.Contains(w.Header().Get("Content-Type"), "json") && w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			c.t.Fatalf("%s %s: invalid JSON %v: %s", method, path, err, w.Body)
		}
	}
	return w, m
}

// signIn registers (or, for administrators, creates) a user and returns a
// client carrying their token and their id.
func signUp(t *testing.T, s *server.Server, email string) (client, string) {
	t.Helper()
	c := client{t: t, h: s, ip: "198.51.100.10"}
	w, b := c.do(http.MethodPost, "/api/v1/auth/register", map[string]string{"email": email, "password": "correct horse battery", "name": "Someone"})
	if w.Code != http.StatusCreated {
		t.Fatalf("register %s: %d %v", email, w.Code, b)
	}
	c.token = b["access_token"].(string)
	return c, b["user"].(map[string]any)["id"].(string)
}

func admin(t *testing.T, s *server.Server, e *authtest.Env, email string) client {
	t.Helper()
	if _, err := e.Svc.CreateAdmin(t.Context(), email, "correct horse battery", "Admin", "admin"); err != nil {
		t.Fatal(err)
	}
	c := client{t: t, h: s, ip: "198.51.100.11"}
	w, b := c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": email, "password": "correct horse battery"})
	if w.Code != 200 {
		t.Fatalf("admin login: %d %v", w.Code, b)
	}
	c.token = b["access_token"].(string)
	return c
}

var permissionRE = regexp.MustCompile("\\*\\*Permission:\\*\\* `([a-z_:]+)`")

type operation struct {
	method, path, permission string
}

// operations lists every documented operation with its permission, read
// from the OpenAPI document (which routes.go writes).
func operations(t *testing.T, s *server.Server) []operation {
	t.Helper()
	var ops []operation
	for path, item := range s.OpenAPI().Paths {
		for m, o := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
			if o == nil {
				continue
			}
			perm := "public"
			if mm := permissionRE.FindStringSubmatch(o.Description); mm != nil {
				perm = mm[1]
			}
			ops = append(ops, operation{m, path, perm})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

func fill(path, userID string) string {
	return strings.NewReplacer("{user_id}", userID, "{session_id}", "01a20000-0000-7000-8000-000000000000", "{key}", "test_flag").Replace(path)
}

// OWASP API5:2023 Broken Function Level Authorization: every operation
// that needs a permission refuses anonymous callers (401) and callers
// without it (403), and lets a holder through.
func TestAPI5FunctionLevelAuthorization(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s, e := newServerEnv(t, db, nil, authtest.Memory)
		member, memberID := signUp(t, s, "member@example.com")
		adm := admin(t, s, e, "admin@example.com")
		anon := client{t: t, h: s, ip: "198.51.100.12"}
		checked := 0
		for i, o := range operations(t, s) {
			if o.permission == "public" {
				continue
			}
			path := fill(o.path, memberID)
			// Anonymous callers are rate limited per address (before the
			// permission check): one address per operation keeps the
			// limit out of this test.
			anon.ip = fmt.Sprintf("198.51.%d.%d", 101+i/250, 1+i%250)
			if w, b := anon.do(o.method, path, "{}"); w.Code != 401 || b["code"] != "unauthorized" || w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s anonymous: %d %v", o.method, o.path, w.Code, b)
			}
			if o.permission == "authenticated" {
				checked++
				continue
			}
			if w, b := member.do(o.method, path, "{}"); w.Code != 403 || b["code"] != "forbidden" {
				t.Errorf("%s %s (%s) as member: %d %v", o.method, o.path, o.permission, w.Code, b)
			}
			if w, b := adm.do(o.method, path, "{}"); w.Code == 401 || w.Code == 403 {
				t.Errorf("%s %s (%s) as admin: %d %v", o.method, o.path, o.permission, w.Code, b)
			}
			checked++
		}
		if checked < 15 {
			t.Fatalf("only %d protected operations found: the permission annotations are missing", checked)
		}
	})
}

// Every path PRODUCT.md names for the platform works as written.
func TestAPI9InventoryOfPlatformPaths(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	want := []string{
		"GET /health", "GET /api/v1/health", "GET /api/v1/health/database", "GET /api/v1/health/system", "GET /api/v1/health/comprehensive",
		"POST /api/v1/auth/register", "POST /api/v1/auth/login", "POST /api/v1/auth/send-otp", "POST /api/v1/auth/verify-otp",
		"POST /api/v1/auth/refresh", "POST /api/v1/auth/logout", "GET /api/v1/auth/me", "POST /api/v1/auth/password",
		"GET /api/v1/auth/sessions", "DELETE /api/v1/auth/sessions/{session_id}", "DELETE /api/v1/auth/sessions",
		"GET /.well-known/jwks.json", "GET /api/v1/users/{user_id}", "PUT /api/v1/users/{user_id}", "DELETE /api/v1/users/{user_id}",
		"GET /api/v1/users/search", "GET /api/v1/users/{user_id}/preferences", "PUT /api/v1/users/{user_id}/preferences",
		"GET /api/v1/users/{user_id}/export", "GET /api/v1/audit", "GET /api/v1/feature-flags",
	}
	have := map[string]bool{}
	for _, o := range operations(t, s) {
		have[o.method+" "+o.path] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("%s is not served", w)
		}
	}
}

// OWASP API4:2023 Unrestricted Resource Consumption: rate limits with
// standard headers, pagination caps and body limits.
func TestAPI4ResourceConsumption(t *testing.T) {
	s, e := newServerEnv(t, dbtest.SQLite(t), nil, authtest.Memory)
	c := client{t: t, h: s, ip: "203.0.113.50"}
	var last *httptest.ResponseRecorder
	var body map[string]any
	for i := 0; i < 12; i++ {
		last, body = c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": fmt.Sprintf("u%d@example.com", i), "password": "whatever pass"})
		if last.Header().Get("RateLimit-Limit") == "" || last.Header().Get("RateLimit-Remaining") == "" || last.Header().Get("RateLimit-Reset") == "" {
			t.Fatalf("attempt %d lacks RateLimit headers", i)
		}
	}
	if last.Code != 429 || body["code"] != "rate_limited" || last.Header().Get("Retry-After") == "" || last.Header().Get("RateLimit-Remaining") != "0" {
		t.Fatalf("burst over the auth limit: %d %v %v", last.Code, body, last.Header())
	}
	// Another IP is not affected.
	if w, _ := (client{t: t, h: s, ip: "203.0.113.51"}).do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": "x@example.com", "password": "whatever pass"}); w.Code != 401 {
		t.Fatalf("other IP: %d", w.Code)
	}
	adm := admin(t, s, e, "root@example.com")
	if w, b := adm.do(http.MethodGet, "/api/v1/users/search?limit=1000", nil); w.Code != 422 || b["code"] != "invalid" {
		t.Fatalf("page size over the cap: %d %v", w.Code, b)
	}
	big := `{"email":"a@example.com","password":"` + strings.Repeat("x", 2<<20) + `","name":"A"}`
	if w, b := (client{t: t, h: s, ip: "203.0.113.52"}).do(http.MethodPost, "/api/v1/auth/register", big); w.Code != 413 || b["code"] != "payload_too_large" {
		t.Fatalf("2 MiB body: %d %v", w.Code, b)
	}
}

// OWASP API3:2023: the sign-up schema refuses role, status and owner.
func TestAPI3MassAssignmentRefused(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	c := client{t: t, h: s, ip: "198.51.100.20"}
	for _, field := range []string{"role", "status", "owner_id", "agent_code"} {
		w, b := c.do(http.MethodPost, "/api/v1/auth/register", map[string]string{"email": field + "@example.com", "password": "correct horse battery", "name": "N", field: "admin"})
		if w.Code != 422 || !strings.Contains(w.Body.String(), "body."+field) {
			t.Errorf("register with %s: %d %v", field, w.Code, b)
		}
	}
	member, id := signUp(t, s, "self@example.com")
	if w, b := member.do(http.MethodPut, "/api/v1/users/"+id, map[string]string{"role": "admin"}); w.Code != 403 {
		t.Fatalf("self promotion: %d %v", w.Code, b)
	}
}

// OWASP API2:2023 over HTTP: expired tokens say so; garbage does not.
func TestAPI2TokenErrorsOverHTTP(t *testing.T) {
	s, e := newServerEnv(t, dbtest.SQLite(t), nil, authtest.Memory)
	member, _ := signUp(t, s, "t@example.com")
	if w, _ := member.do(http.MethodGet, "/api/v1/auth/me", nil); w.Code != 200 {
		t.Fatalf("me: %d", w.Code)
	}
	for _, bad := range []string{"Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-token"} {
		w, b := (client{t: t, h: s}).do(http.MethodGet, "/api/v1/auth/me", nil, "Authorization", bad)
		if w.Code != 401 || b["code"] != "unauthorized" {
			t.Fatalf("%q: %d %v", bad, w.Code, b)
		}
	}
	e.Clock.Add(16 * time.Minute)
	if w, b := member.do(http.MethodGet, "/api/v1/auth/me", nil); w.Code != 401 || b["code"] != "token_expired" {
		t.Fatalf("expired: %d %v", w.Code, b)
	}
}

func TestFeatureFlagsETagOverHTTP(t *testing.T) {
	s, e := newServerEnv(t, dbtest.SQLite(t), nil, authtest.Memory)
	e.Svc.SetFlagDefaults(map[string]bool{"dark_mode": true})
	member, _ := signUp(t, s, "flags@example.com")
	w, b := member.do(http.MethodGet, "/api/v1/feature-flags", nil)
	tag := w.Header().Get("ETag")
	if w.Code != 200 || tag == "" || b["flags"].(map[string]any)["dark_mode"] != true {
		t.Fatalf("flags: %d %v %q", w.Code, b, tag)
	}
	if w, _ := member.do(http.MethodGet, "/api/v1/feature-flags", nil, "If-None-Match", tag); w.Code != 304 || w.Body.Len() != 0 {
		t.Fatalf("unchanged flags: %d %q", w.Code, w.Body)
	}
	adm := admin(t, s, e, "flagadmin@example.com")
	if w, b := adm.do(http.MethodPut, "/api/v1/feature-flags/definitions/dark_mode", map[string]any{"enabled": false}); w.Code != 200 {
		t.Fatalf("put flag: %d %v", w.Code, b)
	}
	if w, _ := member.do(http.MethodGet, "/api/v1/feature-flags", nil, "If-None-Match", tag); w.Code != 200 {
		t.Fatalf("changed flags answered %d", w.Code)
	}
	if w, b := adm.do(http.MethodGet, "/api/v1/audit?action=flag.", nil); w.Code != 200 || len(b["entries"].([]any)) != 1 {
		t.Fatalf("audit: %d %v", w.Code, b)
	}
}

func TestAuthFlowOverHTTP(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	c := client{t: t, h: s, ip: "198.51.100.30"}
	w, b := c.do(http.MethodPost, "/api/v1/auth/register", map[string]string{"phone": "0812-9999-0000", "password": "correct horse battery", "name": "Putri"})
	if w.Code != 201 || w.Header().Get("Cache-Control") != "no-store" || b["token_type"] != "Bearer" {
		t.Fatalf("register: %d %v", w.Code, b)
	}
	refresh := b["refresh_token"].(string)
	w, b = c.do(http.MethodPost, "/api/v1/auth/refresh", map[string]string{"refresh_token": refresh})
	if w.Code != 200 || b["refresh_token"] == refresh {
		t.Fatalf("refresh: %d %v", w.Code, b)
	}
	c.token = b["access_token"].(string)
	if w, b := c.do(http.MethodGet, "/api/v1/auth/sessions", nil); w.Code != 200 || len(b["sessions"].([]any)) != 1 {
		t.Fatalf("sessions: %d %v", w.Code, b)
	}
	if w, _ := c.do(http.MethodPost, "/api/v1/auth/logout", nil); w.Code != 204 {
		t.Fatalf("logout: %d", w.Code)
	}
	if w, _ := c.do(http.MethodGet, "/api/v1/auth/me", nil); w.Code != 401 {
		t.Fatalf("me after logout: %d", w.Code)
	}
	w, b = c.do(http.MethodPost, "/api/v1/auth/send-otp", map[string]string{"phone": "081299990000", "purpose": "login"})
	if w.Code != 202 || b["status"] != "sent" {
		t.Fatalf("send-otp: %d %v", w.Code, b)
	}
	if w, _ := (client{t: t, h: s}).do(http.MethodGet, "/.well-known/jwks.json", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"kty":"EC"`) {
		t.Fatalf("jwks: %d %s", w.Code, w.Body)
	}
}

// Crisis resources need no account; mood and assessments are the caller's.
func TestPersonaOverHTTP(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	anon := client{t: t, h: s, ip: "198.51.100.70"}
	w, b := anon.do(http.MethodGet, "/api/v1/crisis/resources?country=id", nil)
	if w.Code != 200 || b["country"] != "ID" || len(b["resources"].([]any)) != 3 {
		t.Fatalf("resources: %d %v", w.Code, b)
	}
	if w, _ := anon.do(http.MethodPost, "/api/v1/moods", map[string]any{"score": 5}); w.Code != 401 {
		t.Fatalf("anonymous mood: %d", w.Code)
	}
	c, _ := signUp(t, s, "mood@example.com")
	if w, b := c.do(http.MethodPost, "/api/v1/moods", map[string]any{"score": 11}); w.Code != 422 {
		t.Fatalf("score 11: %d %v", w.Code, b)
	}
	if w, b := c.do(http.MethodPost, "/api/v1/moods", map[string]any{"score": 4, "emotions": []string{"anxious"}}); w.Code != 201 {
		t.Fatalf("mood: %d %v", w.Code, b)
	}
	w, b = c.do(http.MethodPost, "/api/v1/assessments", map[string]any{"type": "phq9", "answers": []int{2, 2, 2, 2, 2, 2, 2, 2, 2}})
	if w.Code != 201 || b["severity"] != "moderately_severe" || b["crisis"] == nil {
		t.Fatalf("assessment: %d %v", w.Code, b)
	}
}

// A counselor (made so by an administrator) works the queue over HTTP.
func TestCounselorQueueOverHTTP(t *testing.T) {
	s, e := newServerEnv(t, dbtest.SQLite(t), nil, authtest.Memory)
	adm := admin(t, s, e, "queue-admin@example.com")
	_, id := signUp(t, s, "counselor@example.com")
	if w, b := adm.do(http.MethodPut, "/api/v1/users/"+id, map[string]string{"role": "counselor"}); w.Code != 200 {
		t.Fatalf("promote: %d %v", w.Code, b)
	}
	c := client{t: t, h: s, ip: "198.51.100.80"}
	w, b := c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"identifier": "counselor@example.com", "password": "correct horse battery"})
	if w.Code != 200 {
		t.Fatalf("login: %d %v", w.Code, b)
	}
	c.token = b["access_token"].(string)
	if w, b := c.do(http.MethodGet, "/api/v1/crisis/events", nil); w.Code != 200 || b["events"] == nil {
		t.Fatalf("queue: %d %v", w.Code, b)
	}
	if w, _ := c.do(http.MethodGet, "/api/v1/crisis/report", nil); w.Code != 200 {
		t.Fatalf("report: %d", w.Code)
	}
	if w, _ := c.do(http.MethodGet, "/api/v1/users/search", nil); w.Code != 403 {
		t.Fatalf("a counselor searched users: %d", w.Code)
	}
}
