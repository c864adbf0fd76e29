// Package sms delivers one-time codes and template messages by text
// message.
//
// An OTPSender is given a phone number in E.164 form, the code and why it
// is sent. Two senders exist: LogSender for development, which writes the
// code to the log and sends nothing, and MSG91, which calls MSG91's OTP API.
// Both are also TemplateSenders, for other business messages (invitations
// and alerts to emergency contacts): MSG91 through its flow API with
// registered templates, LogSender by logging the text with the number
// masked.
//
// Senders are called from durable jobs, so every error says whether a retry
// can help: an error that wraps ErrPermanent (rejected number, bad
// credentials, missing template) must not be retried; any other error
// (network, timeout, rate limit, upstream outage) may be. Error messages are
// safe to log: they never hold the code, the credentials or the upstream's
// free text.
package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// OTPSender delivers one-time codes. phone is E.164 ("+919812345678");
// purpose is one of the Purpose constants.
type OTPSender interface {
	// SendOTP delivers code to phone. An error wrapping ErrPermanent must
	// not be retried; any other error may be.
	SendOTP(ctx context.Context, phone, code, purpose string) error
	// Name identifies the sender in logs and metrics: "log" or "msg91".
	Name() string
}

// Why a code is sent.
const (
	PurposeLogin         = "login"
	PurposeVerifyPhone   = "verify_phone"
	PurposeResetPassword = "reset_password"
)

// ErrPermanent marks a failure that retrying will not fix (rejected number,
// bad credentials, template missing): a job must not retry it.
var ErrPermanent = errors.New("sms: permanent failure")

// Error is a failed delivery. Its message is built only from the provider's
// name, a fixed description and the HTTP status, so it is safe to log.
// errors.Is(err, ErrPermanent) reports whether retrying is pointless;
// errors.Is also reaches the cause (for example context.DeadlineExceeded).
type Error struct {
	// Provider is the sender's name ("msg91"), empty for input errors found
	// before any call.
	Provider string
	// Status is the HTTP status of the upstream's answer, 0 if none came.
	Status int
	// Permanent is true when retrying cannot help.
	Permanent bool
	// RetryAfter is the upstream's Retry-After on a retryable answer, 0 if
	// it sent none.
	RetryAfter time.Duration

	reason string
	cause  error
}

// Error returns a short description such as
// "sms: msg91 rejected the request (status 401)".
func (e *Error) Error() string {
	s := "sms: "
	if e.Provider != "" {
		s += e.Provider + " "
	}
	s += e.reason
	if e.Status != 0 {
		s += " (status " + strconv.Itoa(e.Status) + ")"
	}
	return s
}

// Unwrap returns ErrPermanent when the failure is permanent, and the cause
// when there is one.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Permanent {
		errs = append(errs, ErrPermanent)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// validate checks the arguments every sender receives. Bad input is a
// programming error upstream of the sender: retrying cannot fix it.
func validate(phone, code string) error {
	if !validPhone(phone) {
		return &Error{Permanent: true, reason: "invalid phone number (want E.164, such as +919812345678)"}
	}
	if !validCode(code) {
		return &Error{Permanent: true, reason: "invalid code (want 4 to 9 digits)"}
	}
	return nil
}

// validPhone reports whether phone is E.164: "+", a country code that does
// not start with 0, and at most 15 digits in all. Eight digits is the
// shortest number accepted.
func validPhone(phone string) bool {
	if len(phone) < 1+8 || len(phone) > 1+15 || phone[0] != '+' || phone[1] == '0' {
		return false
	}
	return allDigits(phone[1:])
}

// validCode reports whether code is 4 to 9 ASCII digits, the range MSG91
// accepts for an OTP.
func validCode(code string) bool {
	return len(code) >= 4 && len(code) <= 9 && allDigits(code)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LogSender is the development sender: it writes the phone and the code to
// the log (attribute keys "phone" and "code", message
// "otp (development: not sent)"), sends nothing.
type LogSender struct{ Logger *slog.Logger }

var _ OTPSender = LogSender{}

// Name returns "log".
func (LogSender) Name() string { return "log" }

// SendOTP logs phone, code and purpose at info level on the sender's logger
// (the default logger when nil). It checks its arguments as MSG91 does, so
// a malformed phone or code fails in development too.
func (s LogSender) SendOTP(ctx context.Context, phone, code, purpose string) error {
	if err := validate(phone, code); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sms: log: %w", err)
	}
	l := s.Logger
	if l == nil {
		l = slog.Default()
	}
	l.LogAttrs(ctx, slog.LevelInfo, "otp (development: not sent)",
		slog.String("phone", phone), slog.String("code", code), slog.String("purpose", purpose))
	return nil
}
