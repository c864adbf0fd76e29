package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testKey      = "test-authkey-Zq9vX2Lp"
	testTemplate = "64f0c0ffee1234567890abcd"
	testPhone    = "+919812345678"
	testMobile   = "919812345678"
	testCode     = "482913"
	freeText     = "FREE-TEXT-FROM-UPSTREAM"
)

// secrets are strings no error may contain: the key, the code, the
// upstream's message and the number itself.
var secrets = []string{testKey, testCode, freeText, testMobile}

// checkRequest asserts that r is the documented send-OTP request.
func checkRequest(t *testing.T, r *http.Request) {
	t.Helper()
	if r.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", r.Method)
	}
	if r.URL.Path != "/api/v5/otp" {
		t.Errorf("path = %q, want /api/v5/otp", r.URL.Path)
	}
	q := r.URL.Query()
	want := map[string]string{"template_id": testTemplate, "mobile": testMobile, "otp": testCode, "otp_length": "6"}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("query %s = %q, want %q", k, got, v)
		}
	}
	if len(q) != len(want) {
		t.Errorf("query has %d parameters, want %d: %v", len(q), len(want), q)
	}
	if q.Has("authkey") {
		t.Error("auth key sent in the query string")
	}
	if got := r.Header.Get("authkey"); got != testKey {
		t.Errorf("authkey header = %q, want the key", got)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read body: %v", err)
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		t.Errorf("body %q is not a JSON object", body)
	}
}

// fake is an MSG91 stand-in: it checks every request, counts them and
// answers with h.
func fake(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		checkRequest(t, r)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func newSender(t *testing.T, baseURL string, timeout time.Duration) *MSG91 {
	t.Helper()
	m, err := NewMSG91(MSG91Config{AuthKey: testKey, TemplateID: testTemplate, BaseURL: baseURL, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// assertSafe fails if err's text, in any verb, holds a secret.
func assertSafe(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("error %q contains %q", s, secret)
			}
		}
	}
}

func TestMSG91SendsTheDocumentedRequest(t *testing.T) {
	srv, calls := fake(t, answer(200, `{"type":"success","request_id":"3763646c3058373530393938"}`))
	m := newSender(t, srv.URL, 0)
	if m.Name() != "msg91" {
		t.Fatalf("Name() = %q", m.Name())
	}
	if err := m.SendOTP(context.Background(), testPhone, testCode, PurposeLogin); err != nil {
		t.Fatalf("SendOTP: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls, want 1", calls.Load())
	}
}

func TestMSG91BaseURLWithPath(t *testing.T) {
	var path atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
		_, _ = io.WriteString(w, `{"type":"success"}`)
	}))
	defer srv.Close()
	m := newSender(t, srv.URL+"/proxy/", 0)
	if err := m.SendOTP(context.Background(), testPhone, testCode, PurposeLogin); err != nil {
		t.Fatal(err)
	}
	if got := path.Load(); got != "/proxy/api/v5/otp" {
		t.Fatalf("path = %v", got)
	}
}

func TestMSG91Classification(t *testing.T) {
	cases := []struct {
		name       string
		handler    http.HandlerFunc
		permanent  bool
		status     int
		retryAfter time.Duration
	}{
		{"success with message", answer(200, `{"message":"3763646c3058373530393938","type":"success"}`), false, 0, 0},
		{"type error on 200", answer(200, `{"type":"error","message":"`+freeText+` `+testCode+`"}`), true, 200, 0},
		{"type ERROR in capitals", answer(200, `{"type":"ERROR","message":"`+freeText+`"}`), true, 200, 0},
		{"401 bad key", answer(401, `{"type":"error","message":"AuthenticationFailure `+freeText+`"}`), true, 401, 0},
		{"400 bad request", answer(400, `{"type":"error","message":"`+freeText+`"}`), true, 400, 0},
		{"404", answer(404, `not found`), true, 404, 0},
		{"418 ip not whitelisted", answer(418, `{"type":"error","message":"`+freeText+`"}`), true, 418, 0},
		{"408", answer(408, ``), false, 408, 0},
		{"429 with Retry-After", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			_, _ = io.WriteString(w, `{"type":"error","message":"`+freeText+`"}`)
		}, false, 429, 7 * time.Second},
		{"429 with a date", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")
			w.WriteHeader(429)
		}, false, 429, 0},
		{"500", answer(500, `{"type":"error","message":"`+freeText+`"}`), false, 500, 0},
		{"502 html", answer(502, `<html>`+freeText+`</html>`), false, 502, 0},
		{"503", answer(503, ``), false, 503, 0},
		{"malformed body", answer(200, `<html>`+freeText+`</html>`), false, 200, 0},
		{"truncated json", answer(200, `{"type":"succ`), false, 200, 0},
		{"empty body", answer(200, ``), false, 200, 0},
		{"empty object", answer(200, `{}`), false, 200, 0},
		{"unknown type", answer(200, `{"type":"pending","message":"`+freeText+`"}`), false, 200, 0},
		{"type not a string", answer(200, `{"type":1}`), false, 200, 0},
		{"oversized body", answer(200, `{"type":"success","pad":"`+strings.Repeat("x", 70<<10)+`"}`), false, 200, 0},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusTemporaryRedirect)
		}, true, 307, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, calls := fake(t, c.handler)
			m := newSender(t, srv.URL, 5*time.Second)
			err := m.SendOTP(context.Background(), testPhone, testCode, PurposeLogin)
			if calls.Load() != 1 {
				t.Fatalf("%d calls, want 1", calls.Load())
			}
			if c.status == 0 {
				if err != nil {
					t.Fatalf("SendOTP: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("SendOTP succeeded, want an error")
			}
			assertSafe(t, err)
			if got := errors.Is(err, ErrPermanent); got != c.permanent {
				t.Fatalf("permanent = %v, want %v (err %q)", got, c.permanent, err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *Error", err)
			}
			if e.Status != c.status || e.Provider != "msg91" || e.RetryAfter != c.retryAfter || e.Permanent != c.permanent {
				t.Fatalf("got %+v", e)
			}
			if want := fmt.Sprintf("(status %d)", c.status); !strings.HasPrefix(err.Error(), "sms: msg91 ") || !strings.HasSuffix(err.Error(), want) {
				t.Fatalf("error %q, want \"sms: msg91 … %s\"", err, want)
			}
		})
	}
}

func TestMSG91ErrorText(t *testing.T) {
	srv, _ := fake(t, answer(401, `{"type":"error","message":"`+freeText+`"}`))
	err := newSender(t, srv.URL, 0).SendOTP(context.Background(), testPhone, testCode, PurposeLogin)
	if err == nil || err.Error() != "sms: msg91 rejected the request (status 401)" {
		t.Fatalf("err = %v", err)
	}
}

func TestMSG91RedirectIsNotFollowed(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
	}))
	defer other.Close()
	srv, _ := fake(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	caller := &http.Client{}
	m, err := NewMSG91(MSG91Config{AuthKey: testKey, TemplateID: testTemplate, BaseURL: srv.URL, HTTPClient: caller})
	if err != nil {
		t.Fatal(err)
	}
	err = m.SendOTP(context.Background(), testPhone, testCode, PurposeLogin)
	if !errors.Is(err, ErrPermanent) {
		t.Fatalf("err = %v, want permanent", err)
	}
	if leaked.Load() != 0 {
		t.Fatal("redirect followed: the auth key reached another host")
	}
	if caller.CheckRedirect != nil {
		t.Fatal("the caller's client was modified")
	}
}

func TestMSG91SlowAnswerTimesOut(t *testing.T) {
	srv, _ := fake(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		_, _ = io.WriteString(w, `{"type":"success"}`)
	})
	m := newSender(t, srv.URL, 100*time.Millisecond)
	start := time.Now()
	err := m.SendOTP(context.Background(), testPhone, testCode, PurposeLogin)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("returned after %v, want about 100ms", elapsed)
	}
	if err == nil || errors.Is(err, ErrPermanent) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded in the chain", err)
	}
	assertSafe(t, err)
	if err.Error() != "sms: msg91 request timed out" {
		t.Fatalf("err = %q", err)
	}
}

func TestMSG91SlowBodyTimesOut(t *testing.T) {
	srv, _ := fake(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		_, _ = io.WriteString(w, `{"type":`)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	m := newSender(t, srv.URL, 200*time.Millisecond)
	err := m.SendOTP(context.Background(), testPhone, testCode, PurposeLogin)
	if err == nil || errors.Is(err, ErrPermanent) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a retryable timeout", err)
	}
	assertSafe(t, err)
}

func TestMSG91CancelledContextStopsTheCall(t *testing.T) {
	arrived := make(chan struct{})
	srv, _ := fake(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	m := newSender(t, srv.URL, 10*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	err := m.SendOTP(ctx, testPhone, testCode, PurposeLogin)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("returned after %v: cancellation did not stop the call", elapsed)
	}
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrPermanent) {
		t.Fatalf("err = %v, want a retryable context.Canceled", err)
	}
	assertSafe(t, err)
}

func TestMSG91AlreadyCancelledContext(t *testing.T) {
	srv, calls := fake(t, answer(200, `{"type":"success"}`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := newSender(t, srv.URL, 0).SendOTP(ctx, testPhone, testCode, PurposeLogin)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrPermanent) {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 0 {
		t.Fatal("request sent with a cancelled context")
	}
}

func TestMSG91NetworkErrorsAreRetryable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		err = newSender(t, "http://"+addr, time.Second).SendOTP(context.Background(), testPhone, testCode, PurposeLogin)
		if err == nil || errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v, want retryable", err)
		}
		assertSafe(t, err)
		if err.Error() != "sms: msg91 request failed (dial)" {
			t.Fatalf("err = %q", err)
		}
	})
	t.Run("connection dropped", func(t *testing.T) {
		srv, _ := fake(t, func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
		})
		err := newSender(t, srv.URL, time.Second).SendOTP(context.Background(), testPhone, testCode, PurposeLogin)
		if err == nil || errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v, want retryable", err)
		}
		assertSafe(t, err)
	})
}

func TestMSG91RejectsBadInputWithoutCalling(t *testing.T) {
	srv, calls := fake(t, answer(200, `{"type":"success"}`))
	m := newSender(t, srv.URL, 0)
	cases := []struct{ phone, code string }{
		{"919812345678", testCode},      // no +
		{"+91 98123 45678", testCode},   // spaces
		{"+0919812345678", testCode},    // country code 0
		{"+1234567", testCode},          // too short
		{"+1234567890123456", testCode}, // 16 digits
		{"", testCode},
		{testPhone, "123"},
		{testPhone, "1234567890"},
		{testPhone, "12a456"},
		{testPhone, ""},
		{testPhone, "４８２９１３"}, // non-ASCII digits
	}
	for _, c := range cases {
		err := m.SendOTP(context.Background(), c.phone, c.code, PurposeLogin)
		if !errors.Is(err, ErrPermanent) {
			t.Errorf("SendOTP(%q, %q) = %v, want permanent", c.phone, c.code, err)
			continue
		}
		if c.code != "" && strings.Contains(err.Error(), c.code) {
			t.Errorf("error %q holds the code", err)
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("%d calls for invalid input", calls.Load())
	}
}

func TestNewMSG91Validates(t *testing.T) {
	cases := []struct {
		name string
		cfg  MSG91Config
	}{
		{"no key", MSG91Config{TemplateID: testTemplate}},
		{"blank key", MSG91Config{AuthKey: "  ", TemplateID: testTemplate}},
		{"key with space", MSG91Config{AuthKey: testKey + " x", TemplateID: testTemplate}},
		{"no template", MSG91Config{AuthKey: testKey}},
		{"relative base", MSG91Config{AuthKey: testKey, TemplateID: testTemplate, BaseURL: "control.msg91.com"}},
		{"ftp base", MSG91Config{AuthKey: testKey, TemplateID: testTemplate, BaseURL: "ftp://control.msg91.com"}},
		{"base with credentials", MSG91Config{AuthKey: testKey, TemplateID: testTemplate, BaseURL: "https://u:" + testKey + "@control.msg91.com"}},
		{"base with query", MSG91Config{AuthKey: testKey, TemplateID: testTemplate, BaseURL: "https://control.msg91.com/?authkey=" + testKey}},
		{"negative timeout", MSG91Config{AuthKey: testKey, TemplateID: testTemplate, Timeout: -time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := NewMSG91(c.cfg)
			if err == nil || m != nil {
				t.Fatalf("NewMSG91 = %v, %v; want an error", m, err)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Fatalf("error %q holds the key", err)
			}
		})
	}

	m, err := NewMSG91(MSG91Config{AuthKey: testKey, TemplateID: testTemplate})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.endpoint.String(); got != "https://control.msg91.com/api/v5/otp" {
		t.Fatalf("default endpoint = %s", got)
	}
	if m.timeout != 10*time.Second || m.client == nil || m.client.Timeout == 0 {
		t.Fatalf("defaults not applied: timeout %v, client %+v", m.timeout, m.client)
	}
}
