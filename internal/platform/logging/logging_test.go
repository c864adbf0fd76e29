package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJSONRedactsSecrets(t *testing.T) {
	var buf bytes.Buffer
	log, _ := New(Options{Format: "json", Out: &buf})
	log.Info("login", "password", "hunter22", "Authorization", "Bearer abc", "user_id", "u1", slog.Group("req", "refresh_token", "rt"))
	out := buf.String()
	for _, secret := range []string{"hunter22", "Bearer abc", `"rt"`} {
		if strings.Contains(out, secret) {
			t.Fatalf("log line leaks %q: %s", secret, out)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if m["user_id"] != "u1" || m["password"] != Redacted {
		t.Fatalf("unexpected fields: %v", m)
	}
}

func TestTextIsPlainWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	log, _ := New(Options{Format: "text", Out: &buf})
	log.Info("hello", "n", 1)
	if strings.Contains(buf.String(), "\x1b[") {
		t.Fatalf("colour codes written to a non-terminal: %q", buf.String())
	}
	if !strings.Contains(buf.String(), "hello") || !strings.Contains(buf.String(), "n=1") {
		t.Fatalf("unexpected text: %q", buf.String())
	}
}

func TestFileGetsJSONToo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mitra.log")
	var buf bytes.Buffer
	log, closeFile := New(Options{Format: "text", Out: &buf, File: path})
	log.Warn("disk", "token", "t0ps3cret")
	if err := closeFile(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("file line is not JSON: %v: %s", err, b)
	}
	if m["msg"] != "disk" || m["token"] != Redacted {
		t.Fatalf("unexpected file line: %s", b)
	}
}

func TestRequestLoggerCarriesRequestID(t *testing.T) {
	var buf bytes.Buffer
	base, _ := New(Options{Format: "json", Out: &buf})
	ctx := WithRequest(t.Context(), base, "req-12345678")
	FromContext(ctx).Info("hello")
	FromContext(ctx).Info("again")
	if strings.Count(buf.String(), `"request_id":"req-12345678"`) != 2 {
		t.Fatalf("request id missing: %s", buf.String())
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{"+6281234567890": "+62*********90", "+919812345678": "+91********78", "+1234": "*****", "": ""} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}
