package server

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"mitra/internal/auth"
	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/httpx"
	"mitra/internal/platform/ratelimit"
)

// RateClass is a family of routes sharing one rate limit (PRODUCT.md P7).
// Each caller gets its own budget: per user when signed in, per IP when not.
type RateClass struct {
	Name string
	// PerUser applies to signed-in callers, PerIP to anonymous ones.
	PerUser, PerIP ratelimit.Limit
}

// The rate classes. Auth and OTP are strict and keyed by IP even for
// signed-in callers, since they are what credential stuffing hits.
var (
	RateAuth    = RateClass{Name: "auth", PerIP: ratelimit.PerMinute(20, 10)}
	RateOTP     = RateClass{Name: "otp", PerIP: ratelimit.PerMinute(10, 5)}
	RateAI      = RateClass{Name: "ai", PerUser: ratelimit.PerMinute(30, 10), PerIP: ratelimit.PerMinute(10, 5)}
	RateDefault = RateClass{Name: "default", PerUser: ratelimit.PerMinute(600, 120), PerIP: ratelimit.PerMinute(300, 60)}
	RateNone    = RateClass{Name: "none"}
	// RateUpload is for file uploads (up to 50 MiB each): a presentation's
	// worth at once (20), then one every 6 seconds. Storage is bounded by
	// the per-agent media quota; this bounds the bytes received.
	RateUpload = RateClass{Name: "upload", PerUser: ratelimit.PerMinute(10, 20), PerIP: ratelimit.PerMinute(10, 5)}
)

// largeBody lets operation o (a literal path) take bodies of up to n bytes
// instead of MaxBodyBytes, and d to read the body and answer instead of
// the request timeout and huma's 5 s body read: for uploads from phones.
func (s *Server) largeBody(o huma.Operation, n int64, d time.Duration) huma.Operation {
	if strings.Contains(o.Path, "{") {
		panic("largeBody: " + o.Path + " has a wildcard; body limits match exact paths")
	}
	s.bodyLimits[o.Method+" "+o.Path] = n
	o.MaxBodyBytes = n
	o.BodyReadTimeout = d
	o.Middlewares = append(o.Middlewares, func(ctx huma.Context, next func(huma.Context)) {
		_, w := humago.Unwrap(ctx)
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		next(ctx)
	})
	return o
}

func (c RateClass) describe() string {
	switch {
	case c.Name == "none":
		return "none"
	case c.PerUser.IsZero():
		return fmt.Sprintf("%s: %s per IP", c.Name, c.PerIP)
	}
	return fmt.Sprintf("%s: %s per user, %s per IP when anonymous", c.Name, c.PerUser, c.PerIP)
}

// route registers one operation with the permission it needs and its rate
// class. The permission and limit are also written into the operation's
// documentation, so /docs shows them.
func route[I, O any](s *Server, o huma.Operation, perm access.Permission, rate RateClass, h func(context.Context, *I) (*O, error)) {
	o.Description = fmt.Sprintf("%s\n\n**Permission:** `%s`. **Rate limit:** %s.", o.Description, perm, rate.describe())
	if perm != access.Public {
		o.Security = []map[string][]string{{"bearer": {}}}
		o.Errors = append(o.Errors, http.StatusUnauthorized)
		if perm != access.Authenticated {
			o.Errors = append(o.Errors, http.StatusForbidden)
		}
	}
	if rate.Name != "none" {
		o.Errors = append(o.Errors, http.StatusTooManyRequests)
		o.Middlewares = append(o.Middlewares, s.limit(rate))
	}
	o.Middlewares = append(o.Middlewares, s.require(perm))
	huma.Register(s.api, o, h)
}

// authorize returns why the caller may not use an operation needing perm,
// or nil.
func authorize(ctx context.Context, perm access.Permission) *apperr.Error {
	if perm == access.Public {
		return nil
	}
	p, ok := access.From(ctx)
	if !ok {
		return auth.AuthError(ctx)
	}
	if !p.Can(perm) {
		return apperr.New(apperr.Forbidden, "you do not have permission to do this")
	}
	return nil
}

// rateCheck takes one event of the caller's budget in class c, setting the
// RateLimit headers, and returns the refusal when the budget is spent.
func (s *Server) rateCheck(ctx context.Context, c RateClass, setHeader func(k, v string)) *apperr.Error {
	if s.deps.Limiter == nil || c.Name == "none" {
		return nil
	}
	key, limit := "rl:"+c.Name+":ip:"+httpx.LimitKey(httpx.ClientIP(ctx).String()), c.PerIP
	if p, ok := access.From(ctx); ok && !c.PerUser.IsZero() {
		key, limit = "rl:"+c.Name+":user:"+p.UserID, c.PerUser
	}
	res, err := s.deps.Limiter.Allow(ctx, key, limit)
	if err != nil {
		// The limiter's store is down: serve rather than fail every request.
		s.deps.Logger.Warn("rate limiter unavailable", "err", err)
		return nil
	}
	setHeader("RateLimit-Limit", strconv.Itoa(limit.Burst))
	setHeader("RateLimit-Remaining", strconv.Itoa(res.Remaining))
	setHeader("RateLimit-Reset", strconv.Itoa(int((res.ResetAfter+time.Second-1)/time.Second)))
	if !res.Allowed {
		return &apperr.Error{Code: apperr.RateLimited, Message: "too many requests; slow down", RetryAfter: res.RetryAfter}
	}
	return nil
}

// require answers 401 or 403 before a huma handler when the caller lacks
// perm.
func (s *Server) require(perm access.Permission) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if e := authorize(ctx.Context(), perm); e != nil {
			if e.HTTPStatus() == http.StatusUnauthorized {
				ctx.SetHeader("WWW-Authenticate", `Bearer realm="mitra"`)
			}
			_ = huma.WriteErr(s.api, ctx, e.HTTPStatus(), "", e)
			return
		}
		next(ctx)
	}
}

// limit applies the route's rate class to a huma operation.
func (s *Server) limit(c RateClass) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if e := s.rateCheck(ctx.Context(), c, ctx.SetHeader); e != nil {
			_ = huma.WriteErr(s.api, ctx, e.HTTPStatus(), "", e)
			return
		}
		next(ctx)
	}
}

// rawRoute registers a plain http.Handler (for streams and webhooks) with
// the same permission and rate checks as route, and documents it in the
// OpenAPI document with the given request and response body types.
func (s *Server) rawRoute(o huma.Operation, perm access.Permission, rate RateClass, h http.Handler, reqBody, respBody any) {
	o.Description = fmt.Sprintf("%s\n\n**Permission:** `%s`. **Rate limit:** %s.", o.Description, perm, rate.describe())
	if perm != access.Public {
		o.Security = []map[string][]string{{"bearer": {}}}
	}
	reg := s.api.OpenAPI().Components.Schemas
	if reqBody != nil {
		o.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/json": {Schema: reg.Schema(reflect.TypeOf(reqBody), true, "")}}}
	}
	problem := &huma.MediaType{Schema: reg.Schema(reflect.TypeOf(httpx.Problem{}), true, "")}
	o.Responses = map[string]*huma.Response{
		"200": {Description: "OK", Content: map[string]*huma.MediaType{
			"application/json":  {Schema: reg.Schema(reflect.TypeOf(respBody), true, "")},
			"text/event-stream": {Schema: &huma.Schema{Type: "string", Description: "chat.completion.chunk events, then data: [DONE]"}},
		}},
		"default": {Description: "Error", Content: map[string]*huma.MediaType{httpx.ProblemContentType: problem}},
	}
	s.api.OpenAPI().AddOperation(&o)
	s.mux.Handle(o.Method+" "+o.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if e := authorize(ctx, perm); e != nil {
			if e.HTTPStatus() == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mitra"`)
			}
			httpx.WriteError(w, r, e)
			return
		}
		if e := s.rateCheck(ctx, rate, w.Header().Set); e != nil {
			httpx.WriteError(w, r, e)
			return
		}
		h.ServeHTTP(w, r)
	}))
}
