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
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testToken   = "EAAG-test-token-Zq9vX2Lp"
	testPhoneID = "106540352242922"
	testTo      = "+6281234567890"
	testDigits  = "6281234567890"
	freeText    = "FREE-TEXT-FROM-META"
)

var alert = Template{Name: "contact_alert", Language: "id", Params: []string{"Rina", "112", "https://mitra.example/stop?t=x"}, Text: "Rina mungkin..."}

// sent is what the fake received, decoded.
type sent struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
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

// fake is a Cloud API stand-in: it checks the path, token and body shape,
// keeps the decoded body and answers with h.
func fake(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Value, *atomic.Int32) {
	t.Helper()
	var last atomic.Value
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/v23.0/"+testPhoneID+"/messages" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if r.Header.Get("Authorization") != "Bearer "+testToken || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("headers %v", r.Header)
		}
		b, _ := io.ReadAll(r.Body)
		var s sent
		if err := json.Unmarshal(b, &s); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		last.Store(s)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &last, &calls
}

func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func metaError(code int) string {
	return fmt.Sprintf(`{"error":{"message":"(#%d) %s %s","type":"OAuthException","code":%d,"error_data":{"messaging_product":"whatsapp","details":"%s"},"fbtrace_id":"AbCdEf123_-x"}}`, code, freeText, testDigits, code, freeText)
}

const okBody = `{"messaging_product":"whatsapp","contacts":[{"input":"6281234567890","wa_id":"6281234567890"}],"messages":[{"id":"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjdGRkQ5QjRDNTIwQzRGMTg1MQA=","message_status":"accepted"}]}`

func client(t *testing.T, base string, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(Config{Token: testToken, PhoneNumberID: testPhoneID, BaseURL: base, Timeout: timeout,
		Templates: map[string]string{"contact_alert": "mitra_contact_alert"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendTemplateSpeaksTheCloudAPI(t *testing.T) {
	srv, last, _ := fake(t, reply(200, okBody))
	c := client(t, srv.URL, 0)
	id, err := c.SendTemplate(context.Background(), testTo, Template{Name: "contact_alert", Language: "id",
		Params: []string{"Rina\nPutri", "112", "https://mitra.example/stop?t=x"}})
	if err != nil || !strings.HasPrefix(id, "wamid.") {
		t.Fatalf("id %q, err %v", id, err)
	}
	s := last.Load().(sent)
	if s.MessagingProduct != "whatsapp" || s.RecipientType != "individual" || s.To != testDigits || s.Type != "template" ||
		s.Template.Name != "mitra_contact_alert" || s.Template.Language.Code != "id" || len(s.Template.Components) != 1 {
		t.Fatalf("sent %+v", s)
	}
	comp := s.Template.Components[0]
	var texts []string
	for _, p := range comp.Parameters {
		if p.Type != "text" {
			t.Fatalf("parameter type %q", p.Type)
		}
		texts = append(texts, p.Text)
	}
	// New lines are not allowed in parameters: they become spaces.
	if comp.Type != "body" || strings.Join(texts, "|") != "Rina Putri|112|https://mitra.example/stop?t=x" {
		t.Fatalf("component %+v", comp)
	}
	// A name not in the map is sent as it is.
	if _, err := c.SendTemplate(context.Background(), testTo, Template{Name: "other", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	if s := last.Load().(sent); s.Template.Name != "other" || len(s.Template.Components) != 0 {
		t.Fatalf("sent %+v", s)
	}
}

func TestClassification(t *testing.T) {
	cases := []struct {
		name       string
		h          http.HandlerFunc
		permanent  bool
		code       int
		retryAfter time.Duration
	}{
		{"token expired", reply(401, metaError(190)), true, 190, 0},
		{"template does not exist", reply(404, metaError(132001)), true, 132001, 0},
		{"parameter mismatch", reply(400, metaError(132000)), true, 132000, 0},
		{"not a WhatsApp user", reply(400, metaError(131026)), true, 131026, 0},
		{"invalid parameter", reply(400, metaError(100)), true, 100, 0},
		{"pair rate limit", reply(400, metaError(131056)), false, 131056, 0},
		{"throughput", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3")
			reply(429, metaError(130429))(w, r)
		}, false, 130429, 3 * time.Second},
		{"service unavailable", reply(503, metaError(131016)), false, 131016, 0},
		{"temporarily unavailable on 400", reply(400, metaError(2)), false, 2, 0},
		{"bare 500", reply(500, `oops`), false, 0, 0},
		{"bare 502 html", reply(502, `<html>Bad Gateway</html>`), false, 0, 0},
		{"408", reply(408, ``), false, 0, 0},
		{"403 without body", reply(403, ``), true, 0, 0},
		{"200 without messages", reply(200, `{"messaging_product":"whatsapp","contacts":[]}`), false, 0, 0},
		{"200 with an error object", reply(200, metaError(131000)), false, 0, 0},
		{"200 malformed", reply(200, `{"messages":[{"id":42}]}`), false, 0, 0},
		{"200 not an object", reply(200, `[]`), false, 0, 0},
		{"oversized 200", reply(200, `{"x":"`+strings.Repeat("a", maxResponseBytes)+`"}`), false, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, _, _ := fake(t, c.h)
			_, err := client(t, srv.URL, 0).SendTemplate(context.Background(), testTo, alert)
			var we *Error
			if !errors.As(err, &we) {
				t.Fatalf("err %v", err)
			}
			if errors.Is(err, ErrPermanent) != c.permanent || we.Code != c.code || we.RetryAfter != c.retryAfter {
				t.Fatalf("%v: permanent=%v code=%d retry-after=%v", err, errors.Is(err, ErrPermanent), we.Code, we.RetryAfter)
			}
			for _, secret := range []string{testToken, testDigits, freeText, "Rina"} {
				if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", err), secret) {
					t.Fatalf("error %q holds %q", err, secret)
				}
			}
			if c.code != 0 && !strings.Contains(err.Error(), "trace AbCdEf123_-x") {
				t.Fatalf("error %q lacks the trace id", err)
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var followed atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	_, err := client(t, srv.URL, 0).SendTemplate(context.Background(), testTo, alert)
	if !errors.Is(err, ErrPermanent) || followed.Load() != 0 {
		t.Fatalf("err %v, followed %d", err, followed.Load())
	}
}

func TestSlowAnswerTimesOutAndIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	_, err := client(t, srv.URL, 150*time.Millisecond).SendTemplate(context.Background(), testTo, alert)
	if err == nil || errors.Is(err, ErrPermanent) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = client(t, "http://"+addr, time.Second).SendTemplate(context.Background(), testTo, alert)
	if err == nil || errors.Is(err, ErrPermanent) || strings.Contains(err.Error(), addr) {
		t.Fatalf("err %v", err)
	}
}

func TestBadInputIsRefusedWithoutACall(t *testing.T) {
	srv, _, calls := fake(t, reply(200, okBody))
	c := client(t, srv.URL, 0)
	for _, bad := range []struct {
		to string
		t  Template
	}{
		{"081234567890", alert},
		{"+62 812", alert},
		{testTo, Template{Language: "id"}},
		{testTo, Template{Name: "x"}},
		{testTo, Template{Name: "x", Language: "id", Params: []string{" \n\t "}}},
		{testTo, Template{Name: "x", Language: "id", Params: []string{strings.Repeat("a", maxParamRunes+1)}}},
		{testTo, Template{Name: "x", Language: "id", Params: []string{"\xff"}}},
	} {
		if _, err := c.SendTemplate(context.Background(), bad.to, bad.t); !errors.Is(err, ErrPermanent) {
			t.Errorf("%q %+v: %v", bad.to, bad.t, err)
		}
	}
	if calls.Load() != 0 {
		t.Fatalf("%d calls", calls.Load())
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{PhoneNumberID: testPhoneID},
		{Token: "a b", PhoneNumberID: testPhoneID},
		{Token: testToken, PhoneNumberID: "+6281234567890"},
		{Token: testToken, PhoneNumberID: testPhoneID, APIVersion: "23"},
		{Token: testToken, PhoneNumberID: testPhoneID, BaseURL: "ftp://graph.facebook.com"},
		{Token: testToken, PhoneNumberID: testPhoneID, BaseURL: "https://u:p@graph.facebook.com"},
		{Token: testToken, PhoneNumberID: testPhoneID, Timeout: -time.Second},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		} else if strings.Contains(err.Error(), testToken) {
			t.Errorf("error repeats the token: %v", err)
		}
	}
}

func TestLogSenderMasksThePhone(t *testing.T) {
	var buf bytes.Buffer
	s := LogSender{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	id, err := s.SendTemplate(context.Background(), testTo, alert)
	if err != nil || id == "" {
		t.Fatal(id, err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["phone"] != "+62*********90" || line["text"] != alert.Text || line["channel"] != "whatsapp" || strings.Contains(buf.String(), testDigits) {
		t.Fatalf("line %s", buf.Bytes())
	}
	if _, err := s.SendTemplate(context.Background(), "0812", alert); !errors.Is(err, ErrPermanent) {
		t.Fatalf("bad number: %v", err)
	}
}

// FuzzParseAnswer: no body makes the parser or the classifier panic, and a
// 2xx is a success only with a message id.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{okBody, metaError(131056), `{}`, `[]`, `null`, ``, `{"messages":[]}`, `{"messages":[{"id":""}]}`,
		`{"messages":[{"id":"wamid.x"}],"error":{"code":1}}`, `{"error":{"code":"x"}}`, "\xff", `{"messages":null}`} {
		f.Add([]byte(s), 200)
		f.Add([]byte(s), 400)
	}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		if status < 100 || status > 599 {
			return
		}
		_, _ = parseAnswer(body)
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		id, err := classify(context.Background(), resp)
		if (err == nil) != (id != "") {
			t.Fatalf("id %q with err %v", id, err)
		}
		if err == nil && status/100 != 2 {
			t.Fatalf("status %d accepted", status)
		}
	})
}
