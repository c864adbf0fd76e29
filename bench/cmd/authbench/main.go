// Command authbench measures identity on the real mitra binary: the
// authenticated read GET /api/v1/auth/me against the static GET
// /api/v1/meta in the same run, token refresh per second, and password
// sign-in per second (bounded by the argon2id cost), on SQLite and, with
// -postgres, on PostgreSQL. It builds cmd/mitra, starts it on a loopback
// port, and drives it with bench/load.
//
//	go run ./bench/cmd/authbench [-postgres URL] [-duration 10s] [-rates 1000,2500]
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"mitra/bench/load"
	"mitra/bench/proc"
	"mitra/internal/platform/vault"
)

type options struct {
	postgres string
	duration time.Duration
	warmup   time.Duration
	rates    []float64
	users    int
	workers  int
}

func main() {
	o := options{}
	var rates string
	flag.StringVar(&o.postgres, "postgres", os.Getenv("MITRA_TEST_DATABASE_URL"), "PostgreSQL URL (empty: SQLite only)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up per run")
	flag.StringVar(&rates, "rates", "1000,2500", "fixed rates for the read comparison")
	flag.IntVar(&o.users, "users", 300, "accounts to create (each user's default budget is 10 req/s)")
	flag.IntVar(&o.workers, "workers", 16, "closed-loop workers for refresh and sign-in")
	flag.Parse()
	for _, r := range strings.Split(rates, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad -rates:", err)
			os.Exit(2)
		}
		o.rates = append(o.rates, v)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "authbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "authbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := proc.Build(dir)
	if err != nil {
		return err
	}
	fmt.Printf("machine: %d CPUs, %s; date %s\n\n", proc.NumCPU(), proc.GoVersion(), time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| database | scenario | load | req/s | p50 ms | p90 ms | p99 ms | errors | server CPU µs/req |")
	fmt.Println("|---|---|---|--:|--:|--:|--:|--:|--:|")
	dbs := []string{"sqlite"}
	if o.postgres != "" {
		dbs = append(dbs, "postgres")
	}
	for _, db := range dbs {
		env := []string{"MITRA_DATA_DIR=" + filepath.Join(dir, db), "MITRA_LOG_LEVEL=warn", "MITRA_LOG_FORMAT=json",
			"MITRA_ENCRYPTION_KEYS=" + vault.NewKeySpec("b1"), "MITRA_TRUSTED_PROXIES=127.0.0.1/32", "MITRA_REDIS_URL=", "MITRA_DATABASE_URL="}
		if db == "postgres" {
			schema := fmt.Sprintf("authbench_%d", time.Now().UnixNano())
			env = append(env, "MITRA_DATABASE_URL="+o.postgres, "MITRA_DATABASE_SCHEMA="+schema)
			defer proc.DropSchema(o.postgres, schema)
		}
		if err := benchDB(ctx, o, bin, db, env); err != nil {
			return fmt.Errorf("%s: %w", db, err)
		}
	}
	return nil
}

func benchDB(ctx context.Context, o options, bin, db string, env []string) error {
	s, err := proc.Start(bin, env...)
	if err != nil {
		return err
	}
	defer s.Stop()
	accounts, err := proc.Register(s.Base, "bench", o.users, 8)
	if err != nil {
		return err
	}
	row := func(scenario, loadDesc string, r load.Result, cpu time.Duration) {
		per := "-"
		if r.Total > 0 {
			per = fmt.Sprintf("%.0f", float64(cpu.Microseconds())/float64(r.Total))
		}
		fmt.Printf("| %s | %s | %s | %.0f | %.3f | %.3f | %.3f | %d | %s |\n", db, scenario, loadDesc, r.Achieved,
			proc.Ms(r.P50), proc.Ms(r.P90), proc.Ms(r.P99), r.Errors(), per)
	}
	var next atomic.Uint64
	me := func() *http.Request {
		a := accounts[next.Add(1)%uint64(len(accounts))]
		req, _ := http.NewRequest(http.MethodGet, s.Base+"/api/v1/auth/me", nil)
		req.Header.Set("Authorization", "Bearer "+a.Access)
		return req
	}
	meta := func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, s.Base+"/api/v1/meta", nil)
		return req
	}
	for _, rate := range o.rates {
		for _, sc := range []struct {
			name string
			req  func() *http.Request
		}{{"static GET /api/v1/meta", meta}, {"authenticated GET /api/v1/auth/me", me}} {
			c0 := s.CPU()
			r, err := load.Fixed{Rate: rate, Duration: o.duration, Warmup: o.warmup, NewRequest: sc.req, MaxInFlight: 64}.Run(ctx)
			if err != nil {
				return err
			}
			row(sc.name, fmt.Sprintf("%.0f/s", rate), r, s.CPU()-c0)
		}
	}
	// Refresh: each worker rotates its own session's token as fast as it can.
	c0 := s.CPU()
	r := closedLoop(o.workers, o.duration, func(w int) func() error {
		a := accounts[w%len(accounts)]
		tok := a.Refresh
		return func() error {
			var out struct {
				RefreshToken string `json:"refresh_token"`
			}
			if err := proc.PostJSON(s.Base+"/api/v1/auth/refresh", map[string]string{"refresh_token": tok}, &out); err != nil {
				return err
			}
			tok = out.RefreshToken
			return nil
		}
	})
	row("token refresh (rotating)", fmt.Sprintf("closed %d", o.workers), r, s.CPU()-c0)
	// Sign-in: bounded by argon2id (19 MiB, 2 passes, 1 lane).
	c0 = s.CPU()
	r = closedLoop(o.workers, o.duration, func(w int) func() error {
		i := w
		return func() error {
			a := accounts[i%len(accounts)]
			i += o.workers
			return proc.PostJSON(s.Base+"/api/v1/auth/login", map[string]string{"identifier": a.Email, "password": proc.Password}, nil)
		}
	})
	row("password sign-in (argon2id 19 MiB, t=2)", fmt.Sprintf("closed %d", o.workers), r, s.CPU()-c0)
	return nil
}

// closedLoop runs workers that call their op back to back for d and
// measures each call.
func closedLoop(workers int, d time.Duration, newOp func(w int) func() error) load.Result {
	h := load.NewHistogram()
	var mu sync.Mutex
	var ok, failed atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := newOp(w)
			local := hdrhistogram.New(1, int64(60*time.Second), 3)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(); err != nil {
					failed.Add(1)
					continue
				}
				ok.Add(1)
				_ = local.RecordValue(int64(time.Since(t0)))
			}
			mu.Lock()
			h.Merge(local)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	r := load.Result{Mode: "closed", Concurrency: workers, Duration: el, Completed: ok.Load(), StatusErrors: failed.Load(),
		Total: ok.Load() + failed.Load(), Achieved: float64(ok.Load()) / el.Seconds(), Latency: h}
	r.P50, r.P90, r.P99 = q(h, 50), q(h, 90), q(h, 99)
	return r
}

func q(h *hdrhistogram.Histogram, p float64) time.Duration {
	return time.Duration(h.ValueAtQuantile(p))
}
