package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const testFlow = "65a1f10w0000000000000001"

// flowFake is an MSG91 flow stand-in: it checks the documented request and
// keeps each recipient object it was sent.
type flowFake struct {
	mu         sync.Mutex
	recipients []map[string]string
	answer     http.HandlerFunc
}

func (f *flowFake) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v5/flow" || r.Header.Get("authkey") != testKey ||
			!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.URL.RawQuery != "" {
			t.Errorf("request %s %s authkey=%q type=%q", r.Method, r.URL, r.Header.Get("authkey"), r.Header.Get("Content-Type"))
		}
		var body struct {
			TemplateID string              `json:"template_id"`
			ShortURL   string              `json:"short_url"`
			Recipients []map[string]string `json:"recipients"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil || body.TemplateID != testFlow || body.ShortURL != "0" || len(body.Recipients) != 1 {
			t.Errorf("body %s", b)
		}
		f.mu.Lock()
		f.recipients = append(f.recipients, body.Recipients...)
		f.mu.Unlock()
		if f.answer != nil {
			f.answer(w, r)
			return
		}
		_, _ = io.WriteString(w, `{"type":"success","message":"3763646c3058373530393938"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func flowSender(t *testing.T, base string) *MSG91 {
	t.Helper()
	m, err := NewMSG91(MSG91Config{AuthKey: testKey, TemplateID: testTemplate, BaseURL: base,
		Flows: map[string]string{TemplateKey("contact_alert", "en"): testFlow}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var alert = Template{Name: "contact_alert", Language: "en", Params: []string{"Rina", "112", "https://mitra.example/x"},
	Text: "Rina may need support right now..."}

func TestMSG91SendTemplateSendsTheFlowRequest(t *testing.T) {
	f := &flowFake{}
	m := flowSender(t, f.start(t))
	if err := m.SendTemplate(context.Background(), testPhone, alert); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"mobiles": testMobile, "var1": "Rina", "var2": "112", "var3": "https://mitra.example/x"}
	if len(f.recipients) != 1 || len(f.recipients[0]) != len(want) {
		t.Fatalf("recipients %v", f.recipients)
	}
	for k, v := range want {
		if f.recipients[0][k] != v {
			t.Errorf("%s = %q, want %q", k, f.recipients[0][k], v)
		}
	}
}

func TestMSG91SendTemplateFailures(t *testing.T) {
	f := &flowFake{}
	m := flowSender(t, f.start(t))
	ctx := context.Background()
	// No flow for the language: permanent, and nothing is sent.
	if err := m.SendTemplate(ctx, testPhone, Template{Name: "contact_alert", Language: "id", Params: []string{"x"}}); !errors.Is(err, ErrPermanent) {
		t.Fatalf("unknown flow: %v", err)
	}
	for _, bad := range []struct {
		phone string
		t     Template
	}{
		{"0812345678", alert},
		{testPhone, Template{Name: "contact_alert", Language: "en", Params: []string{""}}},
		{testPhone, Template{Name: "contact_alert", Language: "en", Params: []string{strings.Repeat("x", 301)}}},
		{testPhone, Template{Language: "en"}},
	} {
		if err := m.SendTemplate(ctx, bad.phone, bad.t); !errors.Is(err, ErrPermanent) {
			t.Errorf("%q %+v: %v", bad.phone, bad.t, err)
		}
	}
	if len(f.recipients) != 0 {
		t.Fatalf("invalid input reached MSG91: %v", f.recipients)
	}
	// MSG91's own answers are classified as for codes.
	for _, c := range []struct {
		answer    http.HandlerFunc
		permanent bool
	}{
		{answer(200, `{"type":"error","message":"`+freeText+`"}`), true},
		{answer(401, `{"type":"error","message":"`+freeText+`"}`), true},
		{answer(503, ``), false},
		{answer(200, `<html>`), false},
	} {
		f.answer = c.answer
		err := m.SendTemplate(ctx, testPhone, alert)
		if err == nil || errors.Is(err, ErrPermanent) != c.permanent {
			t.Errorf("answer: %v, want permanent=%v", err, c.permanent)
		}
		if strings.Contains(err.Error(), "Rina") || strings.Contains(err.Error(), testMobile) || strings.Contains(err.Error(), freeText) {
			t.Errorf("error %q repeats the message, the number or the upstream's text", err)
		}
	}
}

func TestNewMSG91RefusesEmptyFlows(t *testing.T) {
	if _, err := NewMSG91(MSG91Config{AuthKey: testKey, TemplateID: testTemplate, Flows: map[string]string{"contact_alert.en": " "}}); err == nil {
		t.Fatal("an empty flow id was accepted")
	}
}

// The development sender writes the text, never the whole number.
func TestLogSenderTemplateMasksThePhone(t *testing.T) {
	var buf bytes.Buffer
	s := LogSender{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := s.SendTemplate(context.Background(), testPhone, alert); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["msg"] != "message (development: not sent)" || line["text"] != alert.Text || line["phone"] != "+91********78" || line["template"] != "contact_alert" {
		t.Fatalf("line %s", buf.Bytes())
	}
	if strings.Contains(buf.String(), testMobile) {
		t.Fatal("the whole number was logged")
	}
	if err := s.SendTemplate(context.Background(), "12345", alert); !errors.Is(err, ErrPermanent) {
		t.Fatalf("bad phone: %v", err)
	}
}
