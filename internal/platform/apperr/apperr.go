// Package apperr defines the error type that domain code returns and the
// stable machine codes that clients see.
//
// Domain code never chooses an HTTP status: it returns an *Error with a Code,
// and the HTTP edge (package httpx) maps the code to a status and writes an
// RFC 9457 problem. Err, the cause, is logged by the edge and never sent.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Code is a stable, machine-readable error code. Clients switch on it, so a
// released code is never renamed.
type Code string

// The base codes. Domains may define more specific codes (for example
// "agent_not_approved"); a specific code declares its status with Register.
const (
	Invalid          Code = "invalid"
	BadRequest       Code = "bad_request"
	NotFound         Code = "not_found"
	MethodNotAllowed Code = "method_not_allowed"
	Conflict         Code = "conflict"
	Unauthorized     Code = "unauthorized"
	Forbidden        Code = "forbidden"
	RateLimited      Code = "rate_limited"
	TooLarge         Code = "payload_too_large"
	UnsupportedMedia Code = "unsupported_media_type"
	NotAcceptable    Code = "not_acceptable"
	Unavailable      Code = "unavailable"
	Timeout          Code = "timeout"
	Internal         Code = "internal"
)

var statusByCode = map[Code]int{
	Invalid:          http.StatusUnprocessableEntity,
	BadRequest:       http.StatusBadRequest,
	NotFound:         http.StatusNotFound,
	MethodNotAllowed: http.StatusMethodNotAllowed,
	Conflict:         http.StatusConflict,
	Unauthorized:     http.StatusUnauthorized,
	Forbidden:        http.StatusForbidden,
	RateLimited:      http.StatusTooManyRequests,
	TooLarge:         http.StatusRequestEntityTooLarge,
	UnsupportedMedia: http.StatusUnsupportedMediaType,
	NotAcceptable:    http.StatusNotAcceptable,
	Unavailable:      http.StatusServiceUnavailable,
	Timeout:          http.StatusGatewayTimeout,
	Internal:         http.StatusInternalServerError,
}

// Status returns the HTTP status of a code; unknown codes are 500.
func (c Code) Status() int {
	if s, ok := statusByCode[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// CodeForStatus returns the base code used for a bare HTTP status (for
// errors raised by the router or the framework rather than by domain code).
func CodeForStatus(status int) Code {
	switch status {
	case http.StatusBadRequest:
		return BadRequest
	case http.StatusUnprocessableEntity:
		return Invalid
	case http.StatusNotFound:
		return NotFound
	case http.StatusMethodNotAllowed:
		return MethodNotAllowed
	case http.StatusConflict:
		return Conflict
	case http.StatusUnauthorized:
		return Unauthorized
	case http.StatusForbidden:
		return Forbidden
	case http.StatusTooManyRequests:
		return RateLimited
	case http.StatusRequestEntityTooLarge:
		return TooLarge
	case http.StatusUnsupportedMediaType:
		return UnsupportedMedia
	case http.StatusNotAcceptable:
		return NotAcceptable
	case http.StatusServiceUnavailable:
		return Unavailable
	case http.StatusGatewayTimeout:
		return Timeout
	}
	if status >= 400 && status < 500 {
		return BadRequest
	}
	return Internal
}

// FieldError names one invalid input field. Location is a JSON-pointer-like
// path such as "body.email" or "query.limit".
type FieldError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
	Value    any    `json:"value,omitempty"`
}

// Error is a domain error with a stable code and a client-safe message.
// Err is the internal cause: logged, never shown to the client.
type Error struct {
	Code    Code
	Status  int // optional override of Code.Status(), for domain-specific codes
	Message string
	Fields  []FieldError
	Err     error
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter time.Duration
}

// Error returns the message and, for logs, the cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus returns the status the edge answers with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	return e.Code.Status()
}

// New returns an error with a code and a client-safe message.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// Newf is New with formatting.
func Newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with a code and message whose internal cause is err.
func Wrap(err error, code Code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Field returns an Invalid error about one field.
func Field(location, message string) *Error {
	return &Error{Code: Invalid, Message: "validation failed", Fields: []FieldError{{Location: location, Message: message}}}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// CodeOf returns the code of err: its *Error's code, or Internal.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}
