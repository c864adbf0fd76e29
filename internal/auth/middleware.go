package auth

import (
	"context"
	"net/http"
	"strings"
	"time"

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/httpx"
)

type authErrKey struct{}

// Authenticate reads a bearer token when one is sent. A valid token puts
// the principal in the request context; an invalid one is remembered, so a
// route that needs a caller can answer token_expired or unauthorized, and a
// public route simply ignores it.
func (s *Service) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, ok := strings.Cut(h, " ")
		ctx := r.Context()
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			ctx = context.WithValue(ctx, authErrKey{}, ErrTokenInvalid)
		} else if p, err := s.Verify(ctx, strings.TrimSpace(token)); err != nil {
			ctx = context.WithValue(ctx, authErrKey{}, err)
		} else {
			ctx = access.WithPrincipal(ctx, p)
			httpx.SetUser(ctx, p.UserID)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// AuthError returns why the request's token was refused, or the error for
// a request without one.
func AuthError(ctx context.Context) *apperr.Error {
	if err, ok := ctx.Value(authErrKey{}).(*apperr.Error); ok {
		return err
	}
	return ErrTokenInvalid
}

// StartKeyRefresh reloads signing keys every interval until ctx ends, so
// a rotation on one node reaches the others.
func (s *Service) StartKeyRefresh(ctx context.Context, interval time.Duration) {
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.Keys.Refresh(ctx, interval/2); err != nil {
					s.Logger.Warn("signing keys reload failed", "err", err)
				}
			}
		}
	}()
}
