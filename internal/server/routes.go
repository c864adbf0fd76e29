package server

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists the whole API surface. Each line names the method, path and
// handler; later groups add the permission each route requires.
func (s *Server) routes() {
	// Health (PRODUCT.md P2). Public: they reveal no personal data.
	huma.Register(s.api, op(http.MethodGet, "/health", "liveness-root", "Liveness", tagHealth), s.liveness)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health", "liveness", "Liveness", tagHealth), s.liveness)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health/ready", "readiness", "Readiness: database and Redis reachable", tagHealth, http.StatusServiceUnavailable), s.readiness)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health/database", "health-database", "Database ping time and pool statistics", tagHealth, http.StatusServiceUnavailable), s.healthDatabase)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health/system", "health-system", "CPU, memory, disk, goroutines and uptime", tagHealth), s.healthSystem)
	huma.Register(s.api, op(http.MethodGet, "/api/v1/health/comprehensive", "health-comprehensive", "Every component: database, Redis, job queue, AI upstream, system", tagHealth), s.healthComprehensive)

	// Service description.
	huma.Register(s.api, op(http.MethodGet, "/api/v1/meta", "meta", "Service name, version and enabled products", tagMeta), s.meta)

	// Prometheus metrics (text exposition format).
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{ErrorLog: nil}))
}

const (
	tagHealth = "Health"
	tagMeta   = "Meta"
)

// op describes an operation: method, path, id, summary, tag and the error
// statuses it may answer besides 500, which every operation documents.
func op(method, path, id, summary, tag string, errs ...int) huma.Operation {
	return huma.Operation{
		Method:      method,
		Path:        path,
		OperationID: id,
		Summary:     summary,
		Tags:        []string{tag},
		Errors:      append(errs, http.StatusInternalServerError),
	}
}
