// Package server assembles Mitra's HTTP API: it registers every route (see
// routes.go) on one huma API over a standard library ServeMux and wraps it
// in the middleware stack. It holds no wiring of its own: cmd/mitra builds
// the dependencies and passes them in.
package server

import (
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"mitra/internal/ai"
	"mitra/internal/auth"
	"mitra/internal/insurance"
	"mitra/internal/insurance/presentation"
	"mitra/internal/persona"
	"mitra/internal/platform/config"
	"mitra/internal/platform/database"
	"mitra/internal/platform/httpx"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/logging"
	"mitra/internal/platform/ratelimit"
	"mitra/internal/platform/sysinfo"
)

// Deps are what the server needs. Only Config is required to build the API
// (for printing the OpenAPI document); serving needs the rest.
type Deps struct {
	Config   config.Config
	Version  string
	Logger   *slog.Logger
	DB       *database.DB
	Redis    *redis.Client // nil when not configured
	Jobs     *jobs.Queue   // nil when the node runs no workers
	Registry *prometheus.Registry
	Sampler  *sysinfo.Sampler
	Auth     *auth.Service   // identity; nil only when printing the spec
	Limiter  ratelimit.Store // rate limits; nil disables them
	AI       *ai.Gateway     // AI gateway (answers ai_unavailable without a key)
	Persona  *persona.Service
	// Insurance is the Agent product (providers, agents, customers, policies).
	Insurance *insurance.Service
	// Presentations is the Agent app's presentation carousel and its media.
	Presentations *presentation.Service
}

// Server is the HTTP API.
type Server struct {
	deps    Deps
	mux     *http.ServeMux
	api     huma.API
	handler http.Handler
	// bodyLimits are routes taking bodies larger than MaxBodyBytes.
	bodyLimits map[string]int64
}

// New builds the server and registers its routes.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = logging.Discard()
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Sampler == nil {
		d.Sampler = sysinfo.NewSampler(d.Config.DataDir)
	}
	httpx.InstallHumaErrors()
	s := &Server{deps: d, mux: http.NewServeMux(), bodyLimits: map[string]int64{}}
	s.api = humago.New(s.mux, apiConfig(d.Version))
	s.registerCollectors()
	s.routes()
	s.handler = httpx.Stack(httpx.Router(s.mux), httpx.Options{
		Logger:         d.Logger,
		Metrics:        httpx.NewMetrics(d.Registry),
		CORSOrigins:    d.Config.CORSOrigins,
		TrustedProxies: d.Config.TrustedProxies,
		MaxBodyBytes:   d.Config.MaxBodyBytes,
		BodyLimits:     s.bodyLimits,
		RequestTimeout: d.Config.RequestTimeout,
		QuietPrefixes:  []string{"/health", "/api/v1/health", "/metrics"},
		Authenticate:   authenticate(d.Auth),
	})
	return s
}

func authenticate(a *auth.Service) func(http.Handler) http.Handler {
	if a == nil {
		return nil
	}
	return a.Authenticate
}

// ServeHTTP serves the API through the middleware stack.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the API description.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

func apiConfig(version string) huma.Config {
	if version == "" {
		version = "dev"
	}
	cfg := huma.DefaultConfig("Mitra API", version)
	// No $schema links in bodies: the apps do not use them and they cost
	// bytes on every response. The schemas stay in the OpenAPI document.
	cfg.CreateHooks = nil
	cfg.Info.Description = "The backend of the Persona companion app and the Agent insurance app. " +
		"Errors are RFC 9457 problem documents (application/problem+json) with a stable `code` and the `request_id`."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: "An access token from /api/v1/auth/login or /api/v1/auth/refresh."},
	}
	return cfg
}
