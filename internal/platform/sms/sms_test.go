package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"mitra/internal/platform/logging"
)

func TestLogSenderLogsPhoneAndCode(t *testing.T) {
	var buf bytes.Buffer
	s := LogSender{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	if s.Name() != "log" {
		t.Fatalf("Name() = %q", s.Name())
	}
	if err := s.SendOTP(context.Background(), testPhone, testCode, PurposeVerifyPhone); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %v: %s", err, buf.Bytes())
	}
	want := map[string]string{
		"msg": "otp (development: not sent)", "phone": testPhone, "code": testCode,
		"purpose": PurposeVerifyPhone, "level": "INFO",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %q (line %s)", k, line[k], v, buf.Bytes())
		}
	}
}

// The server's logger redacts secrets; the development sender is useless
// if the code is among them.
func TestLogSenderCodeSurvivesRedaction(t *testing.T) {
	var buf bytes.Buffer
	l, _ := logging.New(logging.Options{Format: "json", Out: &buf})
	if err := (LogSender{Logger: l}).SendOTP(context.Background(), testPhone, testCode, PurposeLogin); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["code"] != testCode || line["phone"] != testPhone {
		t.Fatalf("line = %s", buf.Bytes())
	}
}

func TestLogSenderChecksInput(t *testing.T) {
	var buf bytes.Buffer
	s := LogSender{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := s.SendOTP(context.Background(), "9812345678", testCode, PurposeLogin); !errors.Is(err, ErrPermanent) {
		t.Fatalf("err = %v, want permanent", err)
	}
	if err := s.SendOTP(context.Background(), testPhone, "12", PurposeLogin); !errors.Is(err, ErrPermanent) {
		t.Fatalf("err = %v, want permanent", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("logged invalid input: %s", buf.Bytes())
	}
}

func TestLogSenderNilLoggerUsesDefault(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	defer slog.SetDefault(prev)
	if err := (LogSender{}).SendOTP(context.Background(), testPhone, testCode, PurposeResetPassword); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), testCode) {
		t.Fatalf("default logger got %q", buf.String())
	}
}

func TestErrorText(t *testing.T) {
	cases := []struct {
		err  *Error
		want string
	}{
		{&Error{Provider: "msg91", Status: http.StatusUnauthorized, Permanent: true, reason: "rejected the request"}, "sms: msg91 rejected the request (status 401)"},
		{&Error{Provider: "msg91", reason: "request timed out", cause: context.DeadlineExceeded}, "sms: msg91 request timed out"},
		{&Error{Permanent: true, reason: "invalid code"}, "sms: invalid code"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
		if errors.Is(c.err, ErrPermanent) != c.err.Permanent {
			t.Errorf("%q: errors.Is(ErrPermanent) disagrees with Permanent", c.want)
		}
	}
	if !errors.Is(cases[1].err, context.DeadlineExceeded) {
		t.Error("cause not reachable with errors.Is")
	}
}
