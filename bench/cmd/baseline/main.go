// Command baseline measures Mitra's HTTP stack: it starts the real server
// in-process (SQLite in a temporary directory, the job queue running, the
// whole middleware stack) on a loopback port and drives GET /api/v1/health
// and GET /api/v1/meta at fixed rates (open loop, latency corrected for
// coordinated omission) and at saturation (closed loop). A bare net/http
// handler serving the same JSON runs side by side as calibration, and
// /api/v1/meta runs once more with info-level JSON access logging (to
// io.Discard) to show the cost of the access-log line. It prints a
// markdown table. Fixed-rate runs use at most -max-in-flight connections;
// the saturation run keeps -concurrency connections busy.
//
//	go run ./bench/cmd/baseline                 # 1000 and 5000 req/s, 10 s each, then 64 connections
//	go run ./bench/cmd/baseline -quick          # 1 s runs, a smoke test
//	go run ./bench/cmd/baseline -rates 2000 -duration 5s -concurrency 0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/riverqueue/river"

	"mitra/bench/load"
	"mitra/internal/platform/config"
	"mitra/internal/platform/database"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/logging"
	"mitra/internal/platform/migrations"
	"mitra/internal/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	duration    time.Duration
	warmup      time.Duration
	rates       []float64
	concurrency int
	maxInFlight int
	repeat      int
	cpuProfile  string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var rates string
	var quick bool
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration of each run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each run, at the same load, not measured")
	fs.StringVar(&rates, "rates", "1000,5000", "comma-separated fixed rates in requests/s (open loop); empty for none")
	fs.IntVar(&o.concurrency, "concurrency", 64, "connections of the saturation run (closed loop); 0 for none")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 64, "requests in flight (so connections) at most in fixed-rate runs; later requests wait, and the wait counts")
	fs.IntVar(&o.repeat, "repeat", 3, "runs of each scenario, interleaved; the table shows the median of each figure")
	fs.BoolVar(&quick, "quick", false, "smoke test: one 1 s run of each after 250 ms warm-up (explicit -duration/-warmup/-repeat win)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole benchmark to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			o.duration = time.Second
		}
		if !set["warmup"] {
			o.warmup = 250 * time.Millisecond
		}
		if !set["repeat"] {
			o.repeat = 1
		}
	}
	for _, s := range strings.Split(rates, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || !(r > 0) || r > load.MaxRate {
			return o, fmt.Errorf("-rates: %q is not a rate in (0, %d]", s, load.MaxRate)
		}
		o.rates = append(o.rates, r)
	}
	switch {
	case o.duration <= 0 || o.duration > load.MaxDuration:
		return o, fmt.Errorf("-duration must be in (0, %v]", load.MaxDuration)
	case o.warmup < 0 || o.warmup > load.MaxDuration:
		return o, fmt.Errorf("-warmup must be in [0, %v]", load.MaxDuration)
	case o.concurrency < 0 || o.concurrency > load.MaxConcurrency:
		return o, fmt.Errorf("-concurrency must be in [0, %d]", load.MaxConcurrency)
	case o.maxInFlight < 1 || o.maxInFlight > load.MaxConcurrency:
		return o, fmt.Errorf("-max-in-flight must be in [1, %d]", load.MaxConcurrency)
	case o.repeat < 1 || o.repeat > 20:
		return o, errors.New("-repeat must be in [1, 20]")
	case len(o.rates) == 0 && o.concurrency == 0:
		return o, errors.New("nothing to run: give -rates or -concurrency")
	}
	return o, nil
}

// target is one thing to load: a server and a path on it.
type target struct {
	name string
	url  string
}

// run1 is one measured run.
type run1 struct {
	res load.Result
	cpu time.Duration // process CPU time (user+system) over the run
}

// cpuPerRequest is the process's CPU time per request sent, warm-up
// included: servers and load generator together.
func (r run1) cpuPerRequest() time.Duration {
	if r.res.Total == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.res.Total)
}

// cell is the runs of one target at one load level.
type cell struct {
	target target
	load   string // "1000/s" or "closed 64"
	runs   []run1
}

// median is the median over the runs of one figure.
func (c *cell) median(f func(run1) float64) float64 {
	v := make([]float64, len(c.runs))
	for i, r := range c.runs {
		v[i] = f(r)
	}
	return medianOf(v)
}

// paired is the median over repetitions of g(c's run, bare's run of the
// same repetition). Runs of one repetition follow each other within a
// minute, so pairing them cancels the slower drift of a shared machine.
func (c *cell) paired(bare *cell, g func(x, b run1) float64) float64 {
	n := min(len(c.runs), len(bare.runs))
	v := make([]float64, n)
	for i := range n {
		v[i] = g(c.runs[i], bare.runs[i])
	}
	return medianOf(v)
}

func medianOf(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// spread is the smallest and largest value of one figure over the runs.
func (c *cell) spread(f func(run1) float64) (lo, hi float64) {
	for i, r := range c.runs {
		v := f(r)
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	return lo, hi
}

// errors is the total of errors over the runs.
func (c *cell) errors() int64 {
	var n int64
	for _, r := range c.runs {
		n += r.res.Errors()
	}
	return n
}

// Figures of a run, in the units the report prints.
func achieved(r run1) float64   { return r.res.Achieved }
func completed(r run1) float64  { return float64(r.res.Completed) }
func p50(r run1) float64        { return msOf(r.res.P50) }
func p90(r run1) float64        { return msOf(r.res.P90) }
func p99(r run1) float64        { return msOf(r.res.P99) }
func p999(r run1) float64       { return msOf(r.res.P999) }
func maxLatency(r run1) float64 { return msOf(r.res.Max) }
func cpuPerReq(r run1) float64  { return float64(r.cpuPerRequest()) / float64(time.Microsecond) }

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// run is the whole command.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "mitra-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	st, err := startStack(ctx, dir, stderr)
	if err != nil {
		return err
	}
	defer st.stop(stderr)

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	// Side by side: at each load level the targets take turns, run after
	// run, so drift of the machine affects them alike.
	type level struct {
		name string
		run  func(newRequest func() *http.Request) (load.Result, error)
	}
	var levels []level
	for _, rate := range o.rates {
		levels = append(levels, level{fmt.Sprintf("%.0f/s", rate), func(nr func() *http.Request) (load.Result, error) {
			return load.Fixed{Rate: rate, Duration: o.duration, Warmup: o.warmup, NewRequest: nr, MaxInFlight: o.maxInFlight}.Run(ctx)
		}})
	}
	if o.concurrency > 0 {
		levels = append(levels, level{fmt.Sprintf("closed %d", o.concurrency), func(nr func() *http.Request) (load.Result, error) {
			return load.Closed{Concurrency: o.concurrency, Duration: o.duration, Warmup: o.warmup, NewRequest: nr}.Run(ctx)
		}})
	}
	var cells []*cell
	before := rusage()
	for _, l := range levels {
		row := make([]*cell, len(st.targets))
		for i, t := range st.targets {
			row[i] = &cell{target: t, load: l.name}
		}
		for rep := range o.repeat {
			for i, t := range st.targets {
				runtime.GC()
				ru0 := rusage()
				res, err := l.run(getter(t.url))
				ru1 := rusage()
				if err != nil {
					return fmt.Errorf("%s at %s: %w", t.name, l.name, err)
				}
				r := run1{res: res, cpu: ru1.cpu - ru0.cpu}
				fmt.Fprintf(stderr, "%-44s %-10s #%d %s cpu/req=%v\n", t.name, l.name, rep+1, res, r.cpuPerRequest())
				row[i].runs = append(row[i].runs, r)
			}
		}
		cells = append(cells, row...)
	}
	after := rusage()
	writeReport(stdout, o, cells, before, after)
	return nil
}

func getter(url string) func() *http.Request {
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, url, nil) // the URL was checked at start
		return req
	}
}

// stack is the running servers and what they need.
type stack struct {
	db      *database.DB
	queue   *jobs.Queue
	servers []*http.Server
	targets []target
}

// startStack builds Mitra as cmd/mitra does (configuration, SQLite,
// migrations, the job queue, server.New) and serves it on loopback ports:
// once with a warn-level JSON logger (no access-log lines), once with an
// info-level JSON logger writing to io.Discard; plus a bare net/http
// handler serving the bytes of /api/v1/meta without any middleware.
func startStack(ctx context.Context, dir string, stderr io.Writer) (st *stack, err error) {
	st = &stack{}
	defer func() {
		if err != nil {
			st.stop(stderr)
			st = nil
		}
	}()
	noEnv := func(string) string { return "" }
	cfg, _, err := config.Load("baseline", noEnv, []string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn"}, io.Discard, nil)
	if err != nil {
		return st, err
	}
	// Both loggers are JSON, as in production, so the two Mitra servers
	// differ only in whether the access-log line is written: the format
	// matters even at warn, because the middleware derives a logger with
	// the request id for every request and the handler formats it then.
	quiet, _ := logging.New(logging.Options{Format: "json", Level: slog.LevelWarn, Out: stderr})
	accessLog, _ := logging.New(logging.Options{Format: "json", Level: slog.LevelInfo, Out: io.Discard})

	st.db, err = database.Open(ctx, database.Options{URL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath(), Logger: quiet})
	if err != nil {
		return st, err
	}
	if _, err = migrations.Up(ctx, st.db); err != nil {
		return st, err
	}
	workers := river.NewWorkers()
	periodic := jobs.Platform(workers, st.db)
	queue, err := jobs.New(st.db, jobs.Options{Workers: workers, Periodic: periodic, Logger: quiet.With("component", "jobs")})
	if err != nil {
		return st, err
	}
	if err = queue.Start(ctx); err != nil {
		return st, fmt.Errorf("jobs: start: %w", err)
	}
	st.queue = queue

	const version = "bench"
	mitra := server.New(server.Deps{Config: cfg, Version: version, Logger: quiet, DB: st.db, Jobs: queue})
	mitraLogged := server.New(server.Deps{Config: cfg, Version: version, Logger: accessLog, DB: st.db, Jobs: queue})
	base, err := st.serve(mitra, quiet)
	if err != nil {
		return st, err
	}
	logged, err := st.serve(mitraLogged, quiet)
	if err != nil {
		return st, err
	}

	// The bare handler answers with the same bytes and content type as
	// /api/v1/meta.
	body, contentType, err := fetch(base + "/api/v1/meta")
	if err != nil {
		return st, err
	}
	bare, err := st.serve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(body)
	}), quiet)
	if err != nil {
		return st, err
	}

	st.targets = []target{
		{"bare net/http, same JSON as meta", bare + "/api/v1/meta"},
		{"mitra GET /api/v1/health", base + "/api/v1/health"},
		{"mitra GET /api/v1/meta", base + "/api/v1/meta"},
		{"mitra GET /api/v1/meta, info JSON access log", logged + "/api/v1/meta"},
	}
	for _, t := range st.targets {
		if _, _, err := fetch(t.url); err != nil {
			return st, err
		}
	}
	return st, nil
}

// serve runs h behind an http.Server configured as cmd/mitra's on a new
// loopback listener and returns its base URL.
func (st *stack) serve(h http.Handler, log *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	st.servers = append(st.servers, srv)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

func (st *stack) stop(stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, s := range st.servers {
		if err := s.Shutdown(ctx); err != nil {
			s.Close()
		}
	}
	if st.queue != nil {
		if err := st.queue.Stop(ctx); err != nil {
			fmt.Fprintln(stderr, "baseline: job queue stop:", err)
		}
	}
	if st.db != nil {
		st.db.Close()
	}
}

// fetch GETs url once and checks for a 200 with a JSON body.
func fetch(url string) ([]byte, string, error) {
	c := load.NewClient(5*time.Second, 1)
	defer c.CloseIdleConnections()
	resp, err := c.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	ct := resp.Header.Get("Content-Type")
	if resp.StatusCode != http.StatusOK || !strings.Contains(ct, "json") {
		return nil, "", fmt.Errorf("GET %s: %d %s: %.200s", url, resp.StatusCode, ct, body)
	}
	return body, ct, nil
}

// usage is the process's resource use so far, and the machine's steal
// time.
type usage struct {
	cpu    time.Duration // user + system
	maxRSS int64         // bytes
	steal  time.Duration // all CPUs; -1 when unknown
}

func rusage() usage {
	u := usage{steal: steal()}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return u
	}
	u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	u.maxRSS = int64(ru.Maxrss) * 1024 // KiB on Linux
	return u
}

// steal reads the machine's total steal time from /proc/stat (Linux), or
// returns -1.
func steal() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	ticks, err := strconv.ParseInt(f[8], 10, 64)
	if err != nil {
		return -1
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

// writeReport prints the results table (medians over the runs), the
// overhead of each Mitra target over the bare handler at the same load,
// and the process's resource use.
func writeReport(w io.Writer, o options, cells []*cell, before, after usage) {
	fmt.Fprintf(w, "Runs: %d × %v measured after %v warm-up per scenario, interleaved; fixed rates with at most %d requests in flight; %s, GOMAXPROCS=%d, %d CPUs.\n",
		o.repeat, o.duration, o.warmup, o.maxInFlight, runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintln(w, "Each figure is the median over the runs. Latencies in ms (open loop: from the intended send time); completed is per run; errors = transport + non-2xx + unsent, all runs;")
	fmt.Fprintln(w, "CPU µs/req = process CPU (servers and load generator) per request sent, warm-up included.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | load | achieved req/s | completed | p50 | p90 | p99 | p99.9 | max | errors | CPU µs/req | p50 min–max | req/s min–max |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, c := range cells {
		p50lo, p50hi := c.spread(p50)
		rlo, rhi := c.spread(achieved)
		fmt.Fprintf(w, "| %s | %s | %.0f | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f | %d | %.1f | %.3f–%.3f | %.0f–%.0f |\n",
			c.target.name, c.load, c.median(achieved), c.median(completed), c.median(p50), c.median(p90), c.median(p99), c.median(p999), c.median(maxLatency),
			c.errors(), c.median(cpuPerReq), p50lo, p50hi, rlo, rhi)
	}

	// Overhead over the bare handler (the first target) at the same load.
	bare := map[string]*cell{}
	for _, c := range cells {
		if c.target.name == cells[0].target.name {
			bare[c.load] = c
		}
	}
	fmt.Fprintln(w, "\nOverhead over the bare handler at the same load: for each repetition, this scenario's run minus (or over) the bare run next to it; the median over repetitions. Latency and CPU differences in µs, throughput as a ratio.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | load | Δp50 | Δp90 | Δp99 | Δp99.9 | ΔCPU/req | req/s vs bare |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|")
	for _, c := range cells {
		b, ok := bare[c.load]
		if !ok || c == b {
			continue
		}
		diff := func(f func(run1) float64, scale float64) float64 {
			return c.paired(b, func(x, y run1) float64 { return scale * (f(x) - f(y)) })
		}
		thr := "-"
		if strings.HasPrefix(c.load, "closed") {
			thr = fmt.Sprintf("%.2f×", c.paired(b, func(x, y run1) float64 {
				if y.res.Achieved == 0 {
					return 0
				}
				return x.res.Achieved / y.res.Achieved
			}))
		}
		fmt.Fprintf(w, "| %s | %s | %+.0f | %+.0f | %+.0f | %+.0f | %+.1f | %s |\n", c.target.name, c.load,
			diff(p50, 1000), diff(p90, 1000), diff(p99, 1000), diff(p999, 1000), diff(cpuPerReq, 1), thr)
	}
	fmt.Fprintf(w, "\nProcess (servers and load generator together): CPU time %.1f s (user+system) over the runs, max RSS %.1f MiB.",
		(after.cpu - before.cpu).Seconds(), float64(after.maxRSS)/(1<<20))
	if after.steal >= 0 && before.steal >= 0 {
		fmt.Fprintf(w, " CPU time stolen by the hypervisor from the machine meanwhile: %.2f s.", (after.steal - before.steal).Seconds())
	}
	fmt.Fprintln(w)
}
