// Package logging builds the server's slog logger: coloured text for people
// in development, JSON in production, an optional rotated JSON file, and
// redaction of secrets whatever the call site passes.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/lmittmann/tint"
	"github.com/mattn/go-isatty"
	"gopkg.in/natefinch/lumberjack.v2"
)

// Options configure New.
type Options struct {
	Format string // "text" or "json"
	Level  slog.Leveler
	File   string    // optional: JSON logs also go here, rotated
	Out    io.Writer // console destination, usually os.Stderr
}

// New returns the logger and a function that closes the log file, if any.
func New(o Options) (*slog.Logger, func() error) {
	if o.Level == nil {
		o.Level = slog.LevelInfo
	}
	if o.Out == nil {
		o.Out = os.Stderr
	}
	var console slog.Handler
	if o.Format == "json" {
		console = slog.NewJSONHandler(o.Out, &slog.HandlerOptions{Level: o.Level, ReplaceAttr: redact})
	} else {
		console = tint.NewHandler(o.Out, &tint.Options{
			Level:       o.Level,
			TimeFormat:  time.TimeOnly,
			NoColor:     !isTerminal(o.Out),
			ReplaceAttr: redact,
		})
	}
	if o.File == "" {
		return slog.New(console), func() error { return nil }
	}
	file := &lumberjack.Logger{Filename: o.File, MaxSize: 10, MaxBackups: 5}
	fileHandler := slog.NewJSONHandler(file, &slog.HandlerOptions{Level: o.Level, ReplaceAttr: redact})
	return slog.New(slog.NewMultiHandler(console, fileHandler)), file.Close
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Redacted is what a secret value is replaced with.
const Redacted = "[redacted]"

// secretKeys are attribute keys whose values never reach a log, whoever
// logs them. Matching is on the lower-cased key.
var secretKeys = map[string]bool{
	"password": true, "new_password": true, "current_password": true, "password_hash": true,
	"token": true, "access_token": true, "refresh_token": true, "reset_token": true, "id_token": true,
	"authorization": true, "cookie": true, "set-cookie": true, "secret": true, "api_key": true,
	"apikey": true, "private_key": true, "database_url": true, "redis_url": true,
	"otp_hash": true, "signature": true, "pan": true, "aadhaar": true,
}

func redact(_ []string, a slog.Attr) slog.Attr {
	if secretKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, Redacted)
	}
	return a
}

// MaskPhone keeps the "+", the first two digits and the last two digits of
// an E.164 number ("+6281234567890" becomes "+62*********90"), so a log
// line can tell messages apart without holding the number.
func MaskPhone(phone string) string {
	if len(phone) < 6 {
		return strings.Repeat("*", len(phone))
	}
	return phone[:3] + strings.Repeat("*", len(phone)-5) + phone[len(phone)-2:]
}

type ctxKey struct{}

// WithLogger returns a context carrying the logger.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// requestLogger derives a request's logger only when something is logged:
// most requests log nothing but their access line, and slog.With formats
// its attributes at once.
type requestLogger struct {
	base *slog.Logger
	id   string
	once sync.Once
	l    *slog.Logger
}

// WithRequest returns a context whose logger is base with the request id,
// built on first use.
func WithRequest(ctx context.Context, base *slog.Logger, requestID string) context.Context {
	return context.WithValue(ctx, ctxKey{}, &requestLogger{base: base, id: requestID})
}

// FromContext returns the context's logger (with the request id when set
// by the HTTP middleware), or the default logger.
func FromContext(ctx context.Context) *slog.Logger {
	switch v := ctx.Value(ctxKey{}).(type) {
	case *slog.Logger:
		return v
	case *requestLogger:
		v.once.Do(func() { v.l = v.base.With("request_id", v.id) })
		return v.l
	}
	return slog.Default()
}

// Discard is a logger that writes nothing, for tests and tools.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
