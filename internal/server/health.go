package server

import (
	"context"
	"net/http"
	"time"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/sysinfo"
)

// Component states.
const (
	statusOK            = "ok"
	statusDown          = "down"
	statusDegraded      = "degraded"
	statusNotConfigured = "not_configured"
)

const checkTimeout = 2 * time.Second

type livenessOutput struct {
	Body struct {
		Status        string  `json:"status" example:"ok" doc:"Always ok while the process serves"`
		Version       string  `json:"version" example:"v0.1.0"`
		UptimeSeconds float64 `json:"uptime_seconds" example:"3600.5"`
	}
}

func (s *Server) liveness(ctx context.Context, _ *struct{}) (*livenessOutput, error) {
	out := &livenessOutput{}
	out.Body.Status = statusOK
	out.Body.Version = s.version()
	out.Body.UptimeSeconds = s.deps.Sampler.Uptime().Seconds()
	return out, nil
}

func (s *Server) version() string {
	if s.deps.Version == "" {
		return "dev"
	}
	return s.deps.Version
}

// DatabaseHealth is the database component's state.
type DatabaseHealth struct {
	Status  string               `json:"status" enum:"ok,down" example:"ok"`
	Dialect string               `json:"dialect" enum:"sqlite,postgres" example:"sqlite"`
	Schema  string               `json:"schema,omitempty" example:"lic_schema"`
	PingMS  float64              `json:"ping_ms" example:"0.21"`
	Pools   []database.PoolStats `json:"pools"`
}

func (s *Server) checkDatabase(ctx context.Context) DatabaseHealth {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	h := DatabaseHealth{Status: statusOK, Dialect: string(s.deps.DB.Dialect()), Schema: s.deps.DB.Schema()}
	d, err := s.deps.DB.Ping(ctx)
	h.PingMS = ms(d)
	if err != nil {
		h.Status = statusDown
	}
	h.Pools = s.deps.DB.PoolStats()
	return h
}

type databaseOutput struct {
	Status int
	Body   DatabaseHealth
}

func (s *Server) healthDatabase(ctx context.Context, _ *struct{}) (*databaseOutput, error) {
	h := s.checkDatabase(ctx)
	out := &databaseOutput{Status: http.StatusOK, Body: h}
	if h.Status != statusOK {
		out.Status = http.StatusServiceUnavailable
	}
	return out, nil
}

type systemOutput struct {
	Body sysinfo.Snapshot
}

func (s *Server) healthSystem(ctx context.Context, _ *struct{}) (*systemOutput, error) {
	return &systemOutput{Body: s.deps.Sampler.Snapshot(ctx)}, nil
}

// RedisHealth is the Redis component's state.
type RedisHealth struct {
	Status string  `json:"status" enum:"ok,down,not_configured" example:"ok"`
	PingMS float64 `json:"ping_ms,omitempty" example:"0.15"`
}

func (s *Server) checkRedis(ctx context.Context) RedisHealth {
	if s.deps.Redis == nil {
		return RedisHealth{Status: statusNotConfigured}
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	start := time.Now()
	err := s.deps.Redis.Ping(ctx).Err()
	h := RedisHealth{Status: statusOK, PingMS: ms(time.Since(start))}
	if err != nil {
		h.Status = statusDown
	}
	return h
}

// JobsHealth is the job queue's state.
type JobsHealth struct {
	Status string      `json:"status" enum:"ok,down,not_configured" example:"ok"`
	Counts jobs.Counts `json:"counts"`
}

func (s *Server) checkJobs(ctx context.Context) JobsHealth {
	if s.deps.Jobs == nil {
		return JobsHealth{Status: statusNotConfigured}
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	c, err := jobs.Backlog(ctx, s.deps.DB)
	if err != nil {
		return JobsHealth{Status: statusDown}
	}
	return JobsHealth{Status: statusOK, Counts: c}
}

// UpstreamHealth is the state of an outside service.
type UpstreamHealth struct {
	Status string `json:"status" enum:"ok,down,not_configured" example:"not_configured"`
}

func (s *Server) checkAI(ctx context.Context) UpstreamHealth {
	if s.deps.AI == nil || !s.deps.AI.Enabled() {
		return UpstreamHealth{Status: statusNotConfigured}
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	// The model list is cached, so this probe costs the upstream at most one
	// call per cache period.
	if err := s.deps.AI.Check(ctx); err != nil {
		return UpstreamHealth{Status: statusDown}
	}
	return UpstreamHealth{Status: statusOK}
}

type readinessOutput struct {
	Body struct {
		Status   string         `json:"status" example:"ready"`
		Database DatabaseHealth `json:"database"`
		Redis    RedisHealth    `json:"redis"`
	}
}

func (s *Server) readiness(ctx context.Context, _ *struct{}) (*readinessOutput, error) {
	out := &readinessOutput{}
	out.Body.Database = s.checkDatabase(ctx)
	out.Body.Redis = s.checkRedis(ctx)
	if out.Body.Database.Status == statusDown {
		return nil, apperr.New(apperr.Unavailable, "not ready: database unreachable")
	}
	if out.Body.Redis.Status == statusDown {
		return nil, apperr.New(apperr.Unavailable, "not ready: Redis unreachable")
	}
	out.Body.Status = "ready"
	return out, nil
}

type comprehensiveOutput struct {
	Status int
	Body   struct {
		Status        string           `json:"status" enum:"ok,degraded,down" example:"ok" doc:"down when the database is unreachable, degraded when another component is"`
		Version       string           `json:"version"`
		UptimeSeconds float64          `json:"uptime_seconds"`
		Database      DatabaseHealth   `json:"database"`
		Redis         RedisHealth      `json:"redis"`
		Jobs          JobsHealth       `json:"jobs"`
		AI            UpstreamHealth   `json:"ai"`
		System        sysinfo.Snapshot `json:"system"`
	}
}

func (s *Server) healthComprehensive(ctx context.Context, _ *struct{}) (*comprehensiveOutput, error) {
	out := &comprehensiveOutput{Status: http.StatusOK}
	b := &out.Body
	b.Version = s.version()
	b.UptimeSeconds = s.deps.Sampler.Uptime().Seconds()
	b.Database = s.checkDatabase(ctx)
	b.Redis = s.checkRedis(ctx)
	b.Jobs = s.checkJobs(ctx)
	b.AI = s.checkAI(ctx)
	b.System = s.deps.Sampler.Snapshot(ctx)
	switch {
	case b.Database.Status == statusDown:
		b.Status, out.Status = statusDown, http.StatusServiceUnavailable
	case b.Redis.Status == statusDown || b.Jobs.Status == statusDown || b.AI.Status == statusDown:
		b.Status = statusDegraded
	default:
		b.Status = statusOK
	}
	return out, nil
}

type metaOutput struct {
	Body struct {
		Name       string   `json:"name" example:"mitra"`
		Version    string   `json:"version" example:"v0.1.0"`
		APIVersion string   `json:"api_version" example:"v1"`
		Products   []string `json:"products" example:"[\"persona\",\"agent\"]"`
	}
}

func (s *Server) meta(ctx context.Context, _ *struct{}) (*metaOutput, error) {
	out := &metaOutput{}
	out.Body.Name = "mitra"
	out.Body.Version = s.version()
	out.Body.APIVersion = "v1"
	out.Body.Products = s.deps.Config.Products
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
