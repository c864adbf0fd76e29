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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/jackc/pgx/v5"

	"mitra/bench/load"
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
	bin := filepath.Join(dir, "mitra")
	build := exec.Command("go", "build", "-o", bin, "./cmd/mitra")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	fmt.Printf("machine: %d CPUs, %s; date %s\n\n", numCPU(), goVersion(), time.Now().UTC().Format(time.RFC3339))
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
			defer dropSchema(o.postgres, schema)
		}
		if err := benchDB(ctx, o, bin, db, env); err != nil {
			return fmt.Errorf("%s: %w", db, err)
		}
	}
	return nil
}

type server struct {
	cmd  *exec.Cmd
	base string
}

func start(bin string, env []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), append(env, fmt.Sprintf("MITRA_ADDR=127.0.0.1:%d", port))...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(s.base + "/api/v1/health"); err == nil {
			resp.Body.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, errors.New("server did not start")
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

// cpu returns the server process's user+system CPU time so far.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // clock ticks of 10 ms
}

var ipCounter atomic.Uint32

// clientIP makes each request look like a different phone behind the
// trusted proxy, as real traffic does, so per-IP limits do not cap the run.
func clientIP() string {
	n := ipCounter.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", (n>>16)&255, (n>>8)&255, n&255)
}

type account struct {
	email, access, refresh string
}

func benchDB(ctx context.Context, o options, bin, db string, env []string) error {
	s, err := start(bin, env)
	if err != nil {
		return err
	}
	defer s.stop()
	accounts, err := register(s.base, o.users)
	if err != nil {
		return err
	}
	row := func(scenario, loadDesc string, r load.Result, cpu time.Duration) {
		per := "-"
		if r.Total > 0 {
			per = fmt.Sprintf("%.0f", float64(cpu.Microseconds())/float64(r.Total))
		}
		fmt.Printf("| %s | %s | %s | %.0f | %.3f | %.3f | %.3f | %d | %s |\n", db, scenario, loadDesc, r.Achieved,
			ms(r.P50), ms(r.P90), ms(r.P99), r.Errors(), per)
	}
	var next atomic.Uint64
	me := func() *http.Request {
		a := accounts[next.Add(1)%uint64(len(accounts))]
		req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/auth/me", nil)
		req.Header.Set("Authorization", "Bearer "+a.access)
		return req
	}
	meta := func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/api/v1/meta", nil)
		return req
	}
	for _, rate := range o.rates {
		for _, sc := range []struct {
			name string
			req  func() *http.Request
		}{{"static GET /api/v1/meta", meta}, {"authenticated GET /api/v1/auth/me", me}} {
			c0 := s.cpu()
			r, err := load.Fixed{Rate: rate, Duration: o.duration, Warmup: o.warmup, NewRequest: sc.req, MaxInFlight: 64}.Run(ctx)
			if err != nil {
				return err
			}
			row(sc.name, fmt.Sprintf("%.0f/s", rate), r, s.cpu()-c0)
		}
	}
	// Refresh: each worker rotates its own session's token as fast as it can.
	c0 := s.cpu()
	r := closedLoop(o.workers, o.duration, func(w int) func() error {
		a := accounts[w%len(accounts)]
		tok := a.refresh
		return func() error {
			var out struct {
				RefreshToken string `json:"refresh_token"`
			}
			if err := postJSON(s.base+"/api/v1/auth/refresh", map[string]string{"refresh_token": tok}, &out); err != nil {
				return err
			}
			tok = out.RefreshToken
			return nil
		}
	})
	row("token refresh (rotating)", fmt.Sprintf("closed %d", o.workers), r, s.cpu()-c0)
	// Sign-in: bounded by argon2id (19 MiB, 2 passes, 1 lane).
	c0 = s.cpu()
	r = closedLoop(o.workers, o.duration, func(w int) func() error {
		i := w
		return func() error {
			a := accounts[i%len(accounts)]
			i += o.workers
			return postJSON(s.base+"/api/v1/auth/login", map[string]string{"identifier": a.email, "password": "correct horse battery staple"}, nil)
		}
	})
	row("password sign-in (argon2id 19 MiB, t=2)", fmt.Sprintf("closed %d", o.workers), r, s.cpu()-c0)
	return nil
}

func register(base string, n int) ([]account, error) {
	out := make([]account, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			email := fmt.Sprintf("bench%05d@example.com", i)
			var t struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
			}
			if err := postJSON(base+"/api/v1/auth/register", map[string]string{"email": email, "password": "correct horse battery staple", "name": "Bench"}, &t); err != nil {
				errs <- err
				return
			}
			out[i] = account{email: email, access: t.AccessToken, refresh: t.RefreshToken}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return out, nil
}

var httpClient = load.NewClient(30*time.Second, 256)

func postJSON(url string, body any, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", clientIP())
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
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

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func dropSchema(url, schema string) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	_, _ = c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func goVersion() string {
	out, _ := exec.Command("go", "version").Output()
	return strings.TrimSpace(string(out))
}
