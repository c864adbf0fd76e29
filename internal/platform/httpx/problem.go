// Package httpx is Mitra's HTTP machinery: RFC 9457 problem responses, the
// middleware stack (request id, client IP, access log, metrics, recovery,
// security headers, CORS, body limit) and the router wrapper that turns
// unrouted requests into problems.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/logging"
)

// ProblemContentType is the media type of every error body.
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem document with Mitra's extensions: a stable
// machine code, the request id and per-field errors.
type Problem struct {
	Type      string              `json:"type" example:"about:blank" doc:"Problem type; about:blank, as the code says it all"`
	Title     string              `json:"title" example:"Unprocessable Entity" doc:"The HTTP status phrase"`
	Status    int                 `json:"status" example:"422" doc:"HTTP status code"`
	Detail    string              `json:"detail,omitempty" example:"validation failed" doc:"What went wrong, for people"`
	Code      apperr.Code         `json:"code" example:"invalid" doc:"Stable machine-readable error code"`
	RequestID string              `json:"request_id,omitempty" example:"0193a0c4-6f1e-7c5e-9d2a-3b8f1f0e9a11" doc:"The request id, also in the X-Request-Id header"`
	Errors    []apperr.FieldError `json:"errors,omitempty" doc:"Invalid fields"`

	retryAfter time.Duration
}

// Error implements error.
func (p *Problem) Error() string { return string(p.Code) + ": " + p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma send problems as application/problem+json.
func (p *Problem) ContentType(string) string { return ProblemContentType }

// NewProblem builds the problem for err in the request's context. An
// *apperr.Error gives its code, status, message and fields; anything else
// is an internal error whose text is logged, never returned.
func NewProblem(ctx context.Context, err error) *Problem {
	p := &Problem{Type: "about:blank"}
	if e, ok := apperr.As(err); ok {
		p.Status, p.Code, p.Detail, p.Errors, p.retryAfter = e.HTTPStatus(), e.Code, e.Message, e.Fields, e.RetryAfter
		if p.Status >= 500 && e.Err != nil {
			logging.FromContext(ctx).Error("request failed", "code", e.Code, "err", e.Err)
		}
	} else {
		p.Status, p.Code, p.Detail = http.StatusInternalServerError, apperr.Internal, "internal error"
		logging.FromContext(ctx).Error("request failed", "err", err)
	}
	p.finish(ctx)
	return p
}

// StatusProblem builds a problem for a bare status with a client-safe
// detail, using the status's base code.
func StatusProblem(ctx context.Context, status int, detail string) *Problem {
	p := &Problem{Type: "about:blank", Status: status, Code: apperr.CodeForStatus(status), Detail: detail}
	p.finish(ctx)
	return p
}

func (p *Problem) finish(ctx context.Context) {
	p.Title = http.StatusText(p.Status)
	if info := InfoFrom(ctx); info != nil {
		p.RequestID = info.ID
		info.ErrorCode = p.Code
	}
}

// RetryAfterSeconds is the Retry-After value of the problem ("" if none).
func (p *Problem) RetryAfterSeconds() string {
	if p.retryAfter <= 0 {
		return ""
	}
	return strconv.Itoa(int(max(1, (p.retryAfter+time.Second-1)/time.Second)))
}

// WriteProblem writes p as the response.
func WriteProblem(w http.ResponseWriter, p *Problem) {
	body, _ := json.Marshal(p)
	h := w.Header()
	if ra := p.RetryAfterSeconds(); ra != "" {
		h.Set("Retry-After", ra)
	}
	h.Set("Content-Type", ProblemContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

// WriteError writes the problem for err.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteProblem(w, NewProblem(r.Context(), err))
}

var installHuma sync.Once

// InstallHumaErrors makes huma report its errors (validation, malformed
// bodies, domain errors returned by handlers) as Mitra problems. Huma keeps
// its error constructor in a package variable, so this is done once per
// process; every Mitra API behaves the same, so that is harmless.
func InstallHumaErrors() {
	installHuma.Do(func() {
		huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			ctx := context.Background()
			if hctx != nil {
				ctx = hctx.Context()
			}
			p := humaProblem(ctx, status, msg, errs)
			if hctx != nil {
				hctx.SetHeader("Cache-Control", "no-store")
				if ra := p.RetryAfterSeconds(); ra != "" {
					hctx.SetHeader("Retry-After", ra)
				}
			}
			return p
		}
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			return humaProblem(context.Background(), status, msg, errs)
		}
	})
}

func humaProblem(ctx context.Context, status int, msg string, errs []error) *Problem {
	for _, err := range errs {
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return NewProblem(ctx, ae)
		}
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return StatusProblem(ctx, http.StatusRequestEntityTooLarge, "request body larger than "+strconv.FormatInt(tooLarge.Limit, 10)+" bytes")
		}
	}
	if status >= 500 {
		// A handler returned a plain error: log it, hide it.
		var cause error = errors.New(msg)
		if len(errs) > 0 {
			cause = errors.Join(errs...)
		}
		return NewProblem(ctx, cause)
	}
	p := StatusProblem(ctx, status, msg)
	for _, err := range errs {
		var d *huma.ErrorDetail
		if errors.As(err, &d) {
			p.Errors = append(p.Errors, apperr.FieldError{Location: d.Location, Message: safeMessage(d.Message)})
		}
	}
	if len(p.Errors) > 0 && p.Status == http.StatusUnprocessableEntity {
		p.Detail = "validation failed"
	}
	return p
}

// Problems never repeat what the client sent: a field's value may be
// personal data (an Aadhaar number sent as a JSON number, a phone number,
// a whole short body), and it would then reach logs, proxies and error
// trackers on the way back. So the framework's field errors carry the
// location and the rule broken, never the value (FieldError.Value stays
// empty), and safeMessage cuts the parser's text that some messages quote
// the value in.

// quotingMessages start the framework's messages that end with a parser
// error quoting the input (huma's "expected string to be RFC 5322 email:
// %v", "... uri: %v", "... uuid: %v", "... regex: %v", "expected
// duration: %v", and "invalid value: %v" of text parameters).
var quotingMessages = []string{"expected string to be ", "expected duration", "invalid value"}

// safeMessage returns a framework field message without the part that may
// quote the input.
func safeMessage(msg string) string {
	for _, prefix := range quotingMessages {
		if strings.HasPrefix(msg, prefix) {
			if i := strings.Index(msg, ": "); i >= 0 {
				return msg[:i]
			}
		}
	}
	return msg
}
