package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/cors"

	"mitra/internal/platform/logging"
)

// Options configure the middleware stack.
type Options struct {
	Logger         *slog.Logger
	Metrics        *Metrics // optional
	CORSOrigins    []string
	TrustedProxies []netip.Prefix
	MaxBodyBytes   int64
	// BodyLimits raises (or lowers) MaxBodyBytes for single routes, keyed
	// by method and exact path ("POST /api/v1/presentations/media/upload").
	BodyLimits map[string]int64
	// RequestTimeout is the write deadline of ordinary requests; streaming
	// handlers lift it with http.ResponseController.
	RequestTimeout time.Duration
	// QuietPrefixes are paths logged at debug level (health probes,
	// metrics scrapes) so they do not drown the access log.
	QuietPrefixes []string
	// Authenticate, when set, identifies the caller (inside recovery and
	// CORS, before the body limit and the router).
	Authenticate func(http.Handler) http.Handler
}

// Stack wraps h in Mitra's middleware, outermost first: request id and
// client IP, access log and metrics, panic recovery, security headers,
// CORS, authentication, body limit and write deadline.
func Stack(h http.Handler, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = logging.Discard()
	}
	h = limits(h, o.MaxBodyBytes, o.BodyLimits, o.RequestTimeout)
	if o.Authenticate != nil {
		h = o.Authenticate(h)
	}
	h = corsHandler(o.CORSOrigins).Handler(h)
	h = securityHeaders(h, o.TrustedProxies)
	h = recoverer(h)
	h = observe(h, o.Logger, o.Metrics, o.QuietPrefixes)
	return identify(h, o.Logger, o.TrustedProxies)
}

var sane = regexp.MustCompile(`^[A-Za-z0-9._:\-]{8,128}$`)

// identify gives the request its id (a sane incoming X-Request-Id, else a
// new UUIDv7), its client IP and a logger carrying both.
func identify(next http.Handler, log *slog.Logger, trusted []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !sane.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		info := &Info{ID: id, ClientIP: clientIP(r, trusted), Start: time.Now()}
		ctx := WithInfo(r.Context(), info)
		ctx = logging.WithRequest(ctx, log, id)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func newRequestID() string {
	if u, err := uuid.NewV7(); err == nil {
		return u.String()
	}
	return uuid.NewString()
}

// clientIP is the peer address, unless the peer is a trusted proxy: then
// X-Forwarded-For is read from the right, skipping trusted proxies, and the
// first untrusted address is the client. Headers from untrusted peers are
// ignored, so a client cannot choose its own IP.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := peer.Addr().Unmap()
	if !isTrusted(ip, trusted) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		ip = a
		if !isTrusted(a, trusted) {
			break
		}
	}
	return ip
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// recorder captures the status and size of a response. It passes Flush
// through and unwraps for http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe writes one access-log line per request and records metrics.
func observe(next http.Handler, log *slog.Logger, m *Metrics, quiet []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		if m != nil {
			m.inFlight.Inc()
			defer m.inFlight.Dec()
		}
		next.ServeHTTP(rec, r)
		info := InfoFrom(r.Context())
		if rec.status == 0 {
			rec.status = http.StatusOK // nothing written: net/http sends 200
		}
		d := time.Since(info.Start)
		route := info.Route
		if route == "" {
			route = "unmatched"
		}
		if m != nil {
			m.observe(r.Method, route, rec.status, d)
		}
		level := slog.LevelInfo
		switch {
		case rec.status >= 500:
			level = slog.LevelError
		case hasPrefix(r.URL.Path, quiet):
			level = slog.LevelDebug
		}
		ctx := context.WithoutCancel(r.Context())
		if !log.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("request_id", info.ID),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
			slog.String("ip", info.ClientIP.String()),
		}
		if info.UserID != "" {
			attrs = append(attrs, slog.String("user_id", info.UserID))
		}
		if info.ErrorCode != "" {
			attrs = append(attrs, slog.String("code", string(info.ErrorCode)))
		}
		log.LogAttrs(ctx, level, "request", attrs...)
	})
}

func hasPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// recoverer turns a panic into a logged error and a 500 problem. The
// stack goes to the server log only.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(p)
			}
			logging.FromContext(r.Context()).Error("panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if rec, ok := w.(*recorder); ok && rec.status != 0 {
				return // headers already sent: nothing more can be said
			}
			WriteProblem(w, NewProblem(r.Context(), errors.New("panic")))
		}()
		next.ServeHTTP(w, r)
	})
}

// APICSP is the content security policy of API responses: they are data,
// never documents, so nothing may load or frame them.
const APICSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

func securityHeaders(next http.Handler, trusted []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", APICSP)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-site")
		if IsHTTPS(r, trusted) {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// IsHTTPS reports whether the client reached us over TLS: directly, or
// through a trusted proxy that says so in X-Forwarded-Proto.
func IsHTTPS(r *http.Request, trusted []netip.Prefix) bool {
	if r.TLS != nil {
		return true
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && isTrusted(peer.Addr().Unmap(), trusted) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func corsHandler(origins []string) *cors.Cors {
	o := cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-Request-Id", "If-None-Match", "If-Match", "Idempotency-Key"},
		ExposedHeaders: []string{"X-Request-Id", "ETag", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Location"},
		MaxAge:         600,
	}
	if len(origins) == 0 {
		// rs/cors reads an empty list as "every origin"; ours means none.
		o.AllowOriginFunc = func(string) bool { return false }
	}
	return cors.New(o)
}

// limits caps the request body (maxBody, or the route's own limit in
// byRoute) and sets the write deadline.
func limits(next http.Handler, defaultMax int64, byRoute map[string]int64, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		maxBody := defaultMax
		if n, ok := byRoute[r.Method+" "+r.URL.Path]; ok {
			maxBody = n
		}
		if maxBody > 0 {
			if r.ContentLength > maxBody {
				WriteProblem(w, StatusProblem(r.Context(), http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", maxBody)))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		if timeout > 0 {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(timeout))
		}
		next.ServeHTTP(w, r)
	})
}
