package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

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
)

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

// require answers 401 or 403 before the handler when the caller lacks perm.
func (s *Server) require(perm access.Permission) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if perm == access.Public {
			next(ctx)
			return
		}
		p, ok := access.From(ctx.Context())
		if !ok {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="mitra"`)
			_ = huma.WriteErr(s.api, ctx, http.StatusUnauthorized, "", auth.AuthError(ctx.Context()))
			return
		}
		if !p.Can(perm) {
			_ = huma.WriteErr(s.api, ctx, http.StatusForbidden, "", apperr.New(apperr.Forbidden, "you do not have permission to do this"))
			return
		}
		next(ctx)
	}
}

// limit applies the route's rate class and sets the RateLimit headers.
func (s *Server) limit(c RateClass) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if s.deps.Limiter == nil {
			next(ctx)
			return
		}
		key, limit := "rl:"+c.Name+":ip:"+httpx.ClientIP(ctx.Context()).String(), c.PerIP
		if p, ok := access.From(ctx.Context()); ok && !c.PerUser.IsZero() {
			key, limit = "rl:"+c.Name+":user:"+p.UserID, c.PerUser
		}
		res, err := s.deps.Limiter.Allow(ctx.Context(), key, limit)
		if err != nil {
			// The limiter's store is down: serve rather than fail every request.
			s.deps.Logger.Warn("rate limiter unavailable", "err", err)
			next(ctx)
			return
		}
		ctx.SetHeader("RateLimit-Limit", strconv.Itoa(limit.Burst))
		ctx.SetHeader("RateLimit-Remaining", strconv.Itoa(res.Remaining))
		ctx.SetHeader("RateLimit-Reset", strconv.Itoa(int((res.ResetAfter+time.Second-1)/time.Second)))
		if !res.Allowed {
			_ = huma.WriteErr(s.api, ctx, http.StatusTooManyRequests, "", &apperr.Error{Code: apperr.RateLimited,
				Message: "too many requests; slow down", RetryAfter: res.RetryAfter})
			return
		}
		next(ctx)
	}
}
