package sms

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzParseResponse feeds arbitrary bodies to the answer parser and to the
// classification of a 200 answer: neither may panic, a parsed answer has a
// known type, and no error text repeats the body.
func FuzzParseResponse(f *testing.F) {
	for _, seed := range []string{
		`{"type":"success","request_id":"3763646c3058373530393938"}`,
		`{"message":"3763646c3058373530393938","type":"success"}`,
		`{"type":"error","message":"Invalid authkey"}`,
		`{"type":"ERROR","message":null}`,
		`{"type":"success","request_id":12345}`,
		`{"type":1}`,
		`{"type":null}`,
		`{"type":"pending"}`,
		`{}`,
		`[]`,
		`null`,
		`"success"`,
		``,
		`{"type":"succ`,
		`<html><body>502 Bad Gateway</body></html>`,
		`{"type":"success","type":"error"}`,
		`{"type":"\u0065rror"}`,
		"{\"type\":\"success\"}\n{\"type\":\"error\"}",
		`{"type":"success","nested":{"a":[1,2,{"b":"c"}]}}`,
		"\xff\xfe\x00",
	} {
		f.Add([]byte(seed))
	}
	m, err := NewMSG91(MSG91Config{AuthKey: "k", TemplateID: "t"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseResponse(body)
		if err == nil && r.Type != responseSuccess && r.Type != responseError {
			t.Fatalf("parsed %q to unknown type %q", body, r.Type)
		}
		resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		cerr := m.classify(context.Background(), resp)
		switch {
		case err != nil && (cerr == nil || errors.Is(cerr, ErrPermanent)):
			t.Fatalf("unparseable %q classified as %v, want retryable", body, cerr)
		case err == nil && r.Type == responseSuccess && cerr != nil:
			t.Fatalf("success %q classified as %v", body, cerr)
		case err == nil && r.Type == responseError && !errors.Is(cerr, ErrPermanent):
			t.Fatalf("error answer %q classified as %v, want permanent", body, cerr)
		}
		if cerr != nil && len(body) >= 8 && strings.Contains(cerr.Error(), string(body)) {
			t.Fatalf("error %q repeats the body", cerr)
		}
	})
}
