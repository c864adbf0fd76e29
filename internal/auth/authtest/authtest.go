// Package authtest builds an identity service for tests: a real database,
// real limiter and revocation stores (memory or Redis), fast password
// hashing and a clock the test moves by hand.
package authtest

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"

	"mitra/internal/auth"
	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/ratelimit"
	"mitra/internal/platform/testenv"
	"mitra/internal/platform/vault"
)

// Clock is a settable time source.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Env is a service on a real database with real limiter and revocation
// stores, fast password hashing and a hand-moved clock.
type Env struct {
	DB      *database.DB
	Svc     *auth.Service
	Clock   *Clock
	Vault   *vault.Keyring
	Queue   *jobs.Queue
	Limiter ratelimit.Store
	Store   Store
}

// Store selects the limiter/revocation implementation.
type Store string

// The implementations.
const (
	Memory Store = "memory"
	Redis  Store = "redis"
)

// New returns an Env on db. The Redis variant skips (fails in CI) without
// MITRA_TEST_REDIS_URL and uses a key prefix of its own.
func New(t testing.TB, db *database.DB, st Store) *Env {
	t.Helper()
	v, err := vault.Parse(vault.NewKeySpec("t1"))
	if err != nil {
		t.Fatal(err)
	}
	c := &Clock{t: time.Now().UTC()}
	var limiter ratelimit.Store
	var revs auth.Revocations
	switch st {
	case Redis:
		opts, err := redis.ParseURL(testenv.RedisURL(t))
		if err != nil {
			t.Fatal(err)
		}
		rdb := redis.NewClient(opts)
		t.Cleanup(func() { rdb.Close() })
		prefix := "mitra-test:" + ids.New() + ":"
		limiter = ratelimit.NewRedis(rdb, prefix)
		rr := auth.NewRedisRevocations(rdb, prefix, c.Now, discard())
		t.Cleanup(rr.Close)
		<-rr.Ready()
		revs = rr
		t.Cleanup(func() {
			keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
			if len(keys) > 0 {
				rdb.Del(context.Background(), keys...)
			}
		})
	default:
		limiter = ratelimit.NewMemoryWithClock(time.Now)
		revs = auth.NewMemoryRevocations(c.Now)
	}
	keys, err := auth.NewKeySet(context.Background(), db, v, c.Now, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(auth.Deps{DB: db, Vault: v, Keys: keys, Revocations: revs, Limiter: limiter, Now: c.Now, Logger: discard()},
		auth.Options{Password: auth.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}})
	workers := river.NewWorkers()
	svc.RegisterJobs(workers, nil)
	q, err := jobs.New(db, jobs.Options{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	svc.Jobs = q
	return &Env{DB: db, Svc: svc, Clock: c, Vault: v, Queue: q, Limiter: limiter, Store: st}
}

// Each runs fn on SQLite and PostgreSQL, each with the memory stores and
// with the Redis stores (those variants skip, or fail in CI, without their
// services). Every variant has a fresh database.
func Each(t *testing.T, fn func(t *testing.T, e *Env)) {
	t.Helper()
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, st := range []Store{Memory, Redis} {
			t.Run(dialect+"/"+string(st), func(t *testing.T) {
				var db *database.DB
				if dialect == "sqlite" {
					db = dbtest.SQLite(t)
				} else {
					db = dbtest.Postgres(t)
				}
				fn(t, New(t, db, st))
			})
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// LastOTP reads the newest one-time code queued for delivery to phone, as
// the SMS worker would.
func (e *Env) LastOTP(t testing.TB, phone string) string {
	t.Helper()
	var raw []byte
	q := `SELECT args FROM river_job WHERE kind = 'otp_delivery' ORDER BY id DESC LIMIT 1`
	if e.DB.Dialect() == database.SQLite {
		q = `SELECT json(args) FROM river_job WHERE kind = 'otp_delivery' ORDER BY id DESC LIMIT 1` // riversqlite stores JSONB
	}
	err := e.DB.QueryRow(context.Background(), q).Scan(&raw)
	if err != nil {
		t.Fatalf("no code queued: %v", err)
	}
	var a auth.OTPDeliveryArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	if a.Phone != phone {
		t.Fatalf("code queued for %s, want %s", a.Phone, phone)
	}
	code, err := e.Vault.OpenString(a.SealedCode, "otp:"+a.OTPID)
	if err != nil {
		t.Fatal(err)
	}
	return code
}
