// Package textfake runs stand-ins of the text-message providers for tests:
// MSG91's flow API and the WhatsApp Cloud API, speaking their wire formats
// (requests checked as the providers would, answers and errors in their
// shapes). Each records the messages it accepted.
package textfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one accepted message.
type Message struct {
	To       string   // E.164, with "+"
	Template string   // MSG91 flow id or WhatsApp template name
	Language string   // WhatsApp only
	Params   []string // in order (MSG91 var1, var2…)
}

// Server is a fake provider.
type Server struct {
	URL string

	mu       sync.Mutex
	messages []Message
	fail     []failure
	requests int
}

type failure struct {
	status int
	body   string
}

// Messages returns the accepted messages so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Requests counts every request, accepted or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// FailNext makes the next request fail with status and body.
func (s *Server) FailNext(status int, body string) {
	s.mu.Lock()
	s.fail = append(s.fail, failure{status, body})
	s.mu.Unlock()
}

// Wait returns the messages once there are at least n, failing t after
// 15 seconds.
func (s *Server) Wait(t testing.TB, n int) []Message {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if m := s.Messages(); len(m) >= n {
			return m
		}
	}
	t.Fatalf("%d messages, want %d: %+v", len(s.Messages()), n, s.Messages())
	return nil
}

// To returns the accepted messages to one number.
func (s *Server) To(phone string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		if m.To == phone {
			out = append(out, m)
		}
	}
	return out
}

func (s *Server) start(t testing.TB, h func(w http.ResponseWriter, r *http.Request) (Message, bool)) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		var f *failure
		if len(s.fail) > 0 {
			f = &s.fail[0]
			s.fail = s.fail[1:]
		}
		s.mu.Unlock()
		if f != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.status)
			_, _ = io.WriteString(w, f.body)
			return
		}
		if m, ok := h(w, r); ok {
			s.mu.Lock()
			s.messages = append(s.messages, m)
			s.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// NewMSG91 starts a fake of MSG91's flow API (POST /api/v5/flow with the
// "authkey" header): it answers {"type":"success",...}, 401 for a wrong
// key and {"type":"error"} for a malformed body.
func NewMSG91(t testing.TB, authKey string) *Server {
	s := &Server{}
	s.start(t, func(w http.ResponseWriter, r *http.Request) (Message, bool) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v5/flow" {
			reply(w, 404, `{"type":"error","message":"not found"}`)
			return Message{}, false
		}
		if r.Header.Get("authkey") != authKey {
			reply(w, 401, `{"type":"error","message":"AuthenticationFailure"}`)
			return Message{}, false
		}
		var body struct {
			TemplateID string              `json:"template_id"`
			Recipients []map[string]string `json:"recipients"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil || body.TemplateID == "" || len(body.Recipients) != 1 || body.Recipients[0]["mobiles"] == "" {
			reply(w, 200, `{"type":"error","message":"invalid request"}`)
			return Message{}, false
		}
		rc := body.Recipients[0]
		m := Message{To: "+" + rc["mobiles"], Template: body.TemplateID}
		var keys []int
		for k := range rc {
			if n, err := strconv.Atoi(strings.TrimPrefix(k, "var")); err == nil && strings.HasPrefix(k, "var") {
				keys = append(keys, n)
			}
		}
		sort.Ints(keys)
		for i, k := range keys {
			if k != i+1 {
				reply(w, 200, `{"type":"error","message":"variables must be var1..varN"}`)
				return Message{}, false
			}
			m.Params = append(m.Params, rc["var"+strconv.Itoa(k)])
		}
		reply(w, 200, `{"type":"success","message":"3763646c3058373530393938"}`)
		return m, true
	})
	return s
}

// NewWhatsApp starts a fake of the Cloud API's send-message endpoint
// (POST /{version}/{phoneNumberID}/messages with a bearer token). It
// answers {"messages":[{"id":"wamid..."}]}, and Graph API error objects for
// a wrong token (401, code 190) or a body that is not a template message
// (400, code 100).
func NewWhatsApp(t testing.TB, token, phoneNumberID string) *Server {
	s := &Server{}
	s.start(t, func(w http.ResponseWriter, r *http.Request) (Message, bool) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if r.Method != http.MethodPost || len(parts) != 3 || parts[1] != phoneNumberID || parts[2] != "messages" {
			reply(w, 400, graphError(100, "Unsupported post request"))
			return Message{}, false
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			reply(w, 401, graphError(190, "Error validating access token"))
			return Message{}, false
		}
		var body struct {
			MessagingProduct string `json:"messaging_product"`
			To               string `json:"to"`
			Type             string `json:"type"`
			Template         struct {
				Name     string `json:"name"`
				Language struct {
					Code string `json:"code"`
				} `json:"language"`
				Components []struct {
					Type       string `json:"type"`
					Parameters []struct {
						Type string `json:"type"`
						Text string `json:"text"`
					} `json:"parameters"`
				} `json:"components"`
			} `json:"template"`
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil || body.MessagingProduct != "whatsapp" || body.Type != "template" || body.To == "" ||
			strings.HasPrefix(body.To, "+") || body.Template.Name == "" || body.Template.Language.Code == "" {
			reply(w, 400, graphError(100, "Invalid parameter"))
			return Message{}, false
		}
		m := Message{To: "+" + body.To, Template: body.Template.Name, Language: body.Template.Language.Code}
		for _, c := range body.Template.Components {
			if c.Type != "body" {
				continue
			}
			for _, p := range c.Parameters {
				if p.Type != "text" || strings.ContainsAny(p.Text, "\n\t") {
					reply(w, 400, graphError(132018, "There was an issue with the parameters in your template"))
					return Message{}, false
				}
				m.Params = append(m.Params, p.Text)
			}
		}
		reply(w, 200, fmt.Sprintf(`{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.fake%d"}]}`, body.To, body.To, time.Now().UnixNano()))
		return m, true
	})
	return s
}

func graphError(code int, msg string) string {
	return fmt.Sprintf(`{"error":{"message":"(#%d) %s","type":"OAuthException","code":%d,"fbtrace_id":"AfakeTrace1"}}`, code, msg, code)
}

// GraphError is a Cloud API error body with code, for FailNext.
func GraphError(code int) string { return graphError(code, "failure") }
