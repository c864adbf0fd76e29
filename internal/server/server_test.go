package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"

	"mitra/internal/ai"
	"mitra/internal/auth"
	"mitra/internal/auth/authtest"
	"mitra/internal/insurance"
	"mitra/internal/persona"
	"mitra/internal/platform/config"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/testenv"
	"mitra/internal/server"
)

func newServer(t *testing.T, db *database.DB, rdb *redis.Client) *server.Server {
	t.Helper()
	s, _ := newServerEnv(t, db, rdb, authtest.Memory)
	return s
}

// newServerEnv builds the whole API on db with an identity service whose
// clock the test controls.
func newServerEnv(t *testing.T, db *database.DB, rdb *redis.Client, st authtest.Store) (*server.Server, *authtest.Env) {
	return newServerWithAI(t, db, rdb, st, ai.Config{})
}

// newServerWithAI is newServerEnv with an AI gateway configured by cfg.
func newServerWithAI(t *testing.T, db *database.DB, rdb *redis.Client, st authtest.Store, cfg ai.Config) (*server.Server, *authtest.Env) {
	t.Helper()
	conf, _, err := config.Load("test", func(string) string { return "" }, nil, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	conf.DataDir = t.TempDir()
	e := authtest.New(t, db, st)
	workers := river.NewWorkers()
	q, err := jobs.New(db, jobs.Options{Workers: workers, Periodic: jobs.Platform(workers, db)})
	if err != nil {
		t.Fatal(err)
	}
	gw := ai.New(cfg, ai.Deps{DB: db, Limiter: e.Limiter})
	t.Cleanup(gw.Close)
	e.Svc.RegisterDataSource(gw)
	ins := insurance.NewService(db, e.Vault, auth.AgentAccounts{S: e.Svc}, e.Clock.Now)
	e.Svc.RegisterDataSource(ins)
	return server.New(server.Deps{Config: conf, Version: "v-test", DB: db, Redis: rdb, Jobs: q, Registry: prometheus.NewRegistry(),
		Auth: e.Svc, Limiter: e.Limiter, AI: gw, Persona: personaService(db, e, gw),
		Insurance: ins, Presentations: presentationService(t, db, e)}), e
}

func get(t *testing.T, h http.Handler, path string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	if strings.Contains(w.Header().Get("Content-Type"), "json") {
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: invalid JSON: %v", path, err)
		}
	}
	return w, body
}

func TestHealthEndpoints(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		for _, p := range []string{"/health", "/api/v1/health"} {
			w, b := get(t, s, p)
			if w.Code != 200 || b["status"] != "ok" || b["version"] != "v-test" {
				t.Fatalf("%s: %d %v", p, w.Code, b)
			}
		}
		w, b := get(t, s, "/api/v1/health/database")
		if w.Code != 200 || b["status"] != "ok" || b["dialect"] != string(db.Dialect()) {
			t.Fatalf("database: %d %v", w.Code, b)
		}
		if pools, _ := b["pools"].([]any); len(pools) == 0 {
			t.Fatalf("no pool statistics: %v", b)
		}
		if _, ok := b["ping_ms"].(float64); !ok {
			t.Fatalf("no ping time: %v", b)
		}
		w, b = get(t, s, "/api/v1/health/system")
		if w.Code != 200 {
			t.Fatalf("system: %d", w.Code)
		}
		for _, k := range []string{"cpu", "memory", "disk", "goroutines", "uptime_seconds"} {
			if _, ok := b[k]; !ok {
				t.Fatalf("system lacks %s: %v", k, b)
			}
		}
		if mem := b["memory"].(map[string]any); mem["process_rss_bytes"].(float64) <= 0 || mem["system_total_bytes"].(float64) <= 0 {
			t.Fatalf("memory figures not real: %v", mem)
		}
		w, b = get(t, s, "/api/v1/health/ready")
		if w.Code != 200 || b["status"] != "ready" {
			t.Fatalf("ready: %d %v", w.Code, b)
		}
		w, b = get(t, s, "/api/v1/health/comprehensive")
		if w.Code != 200 || b["status"] != "ok" {
			t.Fatalf("comprehensive: %d %v", w.Code, b)
		}
		if j := b["jobs"].(map[string]any); j["status"] != "ok" || j["counts"] == nil {
			t.Fatalf("jobs: %v", j)
		}
		if r := b["redis"].(map[string]any); r["status"] != "not_configured" {
			t.Fatalf("redis: %v", r)
		}
	})
}

func TestDatabaseDownIsReported(t *testing.T) {
	db := dbtest.SQLite(t)
	s := newServer(t, db, nil)
	db.Close()
	w, b := get(t, s, "/api/v1/health/database")
	if w.Code != 503 || b["status"] != "down" {
		t.Fatalf("database down: %d %v", w.Code, b)
	}
	w, b = get(t, s, "/api/v1/health/ready")
	if w.Code != 503 || b["code"] != "unavailable" {
		t.Fatalf("ready with database down: %d %v", w.Code, b)
	}
	w, b = get(t, s, "/api/v1/health/comprehensive")
	if w.Code != 503 || b["status"] != "down" {
		t.Fatalf("comprehensive with database down: %d %v", w.Code, b)
	}
	// Liveness does not depend on the database.
	if w, _ := get(t, s, "/api/v1/health"); w.Code != 200 {
		t.Fatalf("liveness: %d", w.Code)
	}
}

func TestRedisHealth(t *testing.T) {
	db := dbtest.SQLite(t)
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	w, b := get(t, newServer(t, db, down), "/api/v1/health/ready")
	if w.Code != 503 || !strings.Contains(b["detail"].(string), "Redis") {
		t.Fatalf("ready with Redis down: %d %v", w.Code, b)
	}
	w, b = get(t, newServer(t, dbtest.SQLite(t), down), "/api/v1/health/comprehensive")
	if w.Code != 200 || b["status"] != "degraded" {
		t.Fatalf("comprehensive with Redis down: %d %v", w.Code, b)
	}

	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	up := redis.NewClient(opts)
	defer up.Close()
	_, b = get(t, newServer(t, dbtest.SQLite(t), up), "/api/v1/health/comprehensive")
	if r := b["redis"].(map[string]any); r["status"] != "ok" {
		t.Fatalf("redis up: %v", r)
	}
}

func TestOpenAPIAndDocs(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	w, spec := get(t, s, "/openapi.json")
	if w.Code != 200 || spec["openapi"] != "3.1.0" {
		t.Fatalf("openapi.json: %d %v", w.Code, spec["openapi"])
	}
	paths := spec["paths"].(map[string]any)
	for _, p := range []string{"/health", "/api/v1/health", "/api/v1/health/database", "/api/v1/health/system", "/api/v1/health/comprehensive", "/api/v1/health/ready", "/api/v1/meta"} {
		get, ok := paths[p].(map[string]any)["get"].(map[string]any)
		if !ok {
			t.Fatalf("%s missing from the spec", p)
		}
		if get["summary"] == "" || get["operationId"] == "" {
			t.Fatalf("%s lacks summary or id", p)
		}
		documented := false
		for status, r := range get["responses"].(map[string]any) {
			if status == "default" || status >= "400" {
				content := r.(map[string]any)["content"].(map[string]any)
				_, documented = content["application/problem+json"]
			}
		}
		if !documented {
			t.Fatalf("%s documents no problem response", p)
		}
	}
	w, _ = get(t, s, "/openapi.yaml")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "openapi: 3.1.0") {
		t.Fatalf("openapi.yaml: %d", w.Code)
	}
	w, _ = get(t, s, "/docs")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "/openapi.yaml") {
		t.Fatalf("docs: %d", w.Code)
	}
}

func TestMetrics(t *testing.T) {
	db := dbtest.SQLite(t)
	s := newServer(t, db, nil)
	get(t, s, "/api/v1/health")
	get(t, s, "/api/v1/nothing-here")
	w, _ := get(t, s, "/metrics")
	if w.Code != 200 {
		t.Fatalf("metrics: %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`mitra_http_requests_total{method="GET",route="/api/v1/health",status="200"} 1`,
		`mitra_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`mitra_http_request_duration_seconds_bucket{class="2xx",method="GET",route="/api/v1/health"`,
		`mitra_db_pool_max_connections{pool="write"} 1`,
		`mitra_jobs{state="available"}`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
}

func TestMeta(t *testing.T) {
	_, b := get(t, newServer(t, dbtest.SQLite(t), nil), "/api/v1/meta")
	if b["name"] != "mitra" || b["api_version"] != "v1" || len(b["products"].([]any)) != 2 {
		t.Fatalf("meta: %v", b)
	}
}

func personaService(db *database.DB, e *authtest.Env, gw *ai.Gateway) *persona.Service {
	ps := persona.NewService(db, e.Vault, e.Clock.Now)
	if gw.Enabled() {
		ps.Model = gw
	}
	if gw.SafetyEnabled() {
		ps.Reviewer = gw
	}
	return ps
}
