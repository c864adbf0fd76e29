package httpx

import (
	"context"
	"net/netip"
	"time"

	"mitra/internal/platform/apperr"
)

// Info describes the request in flight. The middleware puts one in the
// context; inner layers fill in what they learn (the route, the user) so
// the access log and metrics can report it.
type Info struct {
	ID        string
	ClientIP  netip.Addr
	Start     time.Time
	Route     string // the matched route pattern, e.g. "GET /api/v1/users/{user_id}"
	UserID    string
	ErrorCode apperr.Code
}

type infoKey struct{}

// InfoFrom returns the request's Info, or nil outside a request.
func InfoFrom(ctx context.Context) *Info {
	info, _ := ctx.Value(infoKey{}).(*Info)
	return info
}

// WithInfo returns a context carrying info.
func WithInfo(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	if info := InfoFrom(ctx); info != nil {
		return info.ID
	}
	return ""
}

// ClientIP returns the client address determined by the middleware.
func ClientIP(ctx context.Context) netip.Addr {
	if info := InfoFrom(ctx); info != nil {
		return info.ClientIP
	}
	return netip.Addr{}
}

// SetUser records the authenticated user for the access log.
func SetUser(ctx context.Context, userID string) {
	if info := InfoFrom(ctx); info != nil {
		info.UserID = userID
	}
}

// LimitKey is the part of a client address that rate limits count by: an
// IPv4 address whole, an IPv6 address by its /64 (one subscriber's
// network: anyone holding a /64 could otherwise rotate through it).
func LimitKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// ParseTime reads an optional RFC 3339 time from a request field ("" gives
// the zero time) and answers an Invalid error naming field otherwise.
func ParseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, apperr.Field(field, "must be an RFC 3339 time such as 2026-11-21T10:00:00Z")
	}
	return t, nil
}
