// Command aibench measures the AI gateway's overhead the way the best
// gateways are measured: a fake OpenRouter (internal/ai/fakeupstream) is
// driven directly for calibration, then the same load goes through the
// real mitra binary (authentication, rate limit, quota check and usage
// recording on) to it; the overhead is the difference per percentile.
// Non-streaming at fixed rates, streaming (time to first byte and total),
// and many concurrent open streams with the server's memory per stream.
//
//	go run ./bench/cmd/aibench [-duration 10s] [-rates 500,1000] [-streams 5000]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"mitra/bench/load"
	"mitra/bench/proc"
	"mitra/internal/ai/fakeupstream"
	"mitra/internal/platform/vault"
)

const upstreamKey = "sk-or-bench-key"

type options struct {
	duration, warmup time.Duration
	rates            []float64
	streamRate       float64
	streams          int
	hold             time.Duration
}

func main() {
	var o options
	var rates string
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per fixed-rate run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up per run")
	flag.StringVar(&rates, "rates", "500,1000", "non-streaming rates")
	flag.Float64Var(&o.streamRate, "stream-rate", 200, "streams started per second in the streaming run")
	flag.IntVar(&o.streams, "streams", 5000, "concurrent open streams to hold (0 skips)")
	flag.DurationVar(&o.hold, "hold", 20*time.Second, "how long each held stream lasts")
	flag.Parse()
	var err error
	if o.rates, err = proc.ParseRates(rates); err != nil {
		fmt.Fprintln(os.Stderr, "-rates:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "aibench:", err)
		os.Exit(1)
	}
}

// mitra is a Mitra process with 50 accounts' access tokens.
type mitra struct {
	*proc.Server
	token []string
}

// startMitra starts the binary on SQLite in dir, pointed at the upstream,
// with the AI rate limit and quotas on but out of reach.
func startMitra(bin, dir, upstream string) (*mitra, error) {
	s, err := proc.Start(bin, "MITRA_DATA_DIR="+dir, "MITRA_LOG_LEVEL=warn", "MITRA_LOG_FORMAT=json",
		"MITRA_DATABASE_URL=", "MITRA_REDIS_URL=", "MITRA_ENCRYPTION_KEYS="+vault.NewKeySpec("b1"),
		"MITRA_AI_BASE_URL="+upstream, "MITRA_AI_API_KEY="+upstreamKey, "MITRA_AI_DEFAULT_MODEL=openai/gpt-4o-mini",
		"MITRA_AI_LIMITS=member:1000000:1000000000000:1000000000000", "MITRA_TRUSTED_PROXIES=127.0.0.1/32")
	if err != nil {
		return nil, err
	}
	accounts, err := proc.Register(s.Base, "ai", 50, 1)
	if err != nil {
		s.Stop()
		return nil, err
	}
	m := &mitra{Server: s}
	for _, a := range accounts {
		m.token = append(m.token, a.Access)
	}
	return m, nil
}

var body = []byte(`{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"Halo! Bagaimana harimu?"}]}`)
var streamBody = []byte(`{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Halo! Bagaimana harimu?"}]}`)

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "aibench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin, err := proc.Build(dir)
	if err != nil {
		return err
	}
	fake := fakeupstream.New(fakeupstream.Options{APIKey: upstreamKey, RecordLimit: -1})
	upstream, closeFake := fake.Start()
	defer closeFake()
	m, err := startMitra(bin, filepath.Join(dir, "a"), upstream)
	if err != nil {
		return err
	}
	defer m.Stop()

	fmt.Printf("date %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| run | load | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors |")
	fmt.Println("|---|---|--:|--:|--:|--:|--:|--:|")
	var n atomic.Uint64
	direct := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, upstream+"/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+upstreamKey)
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	via := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, m.Base+"/api/v1/ai/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.token[n.Add(1)%uint64(len(m.token))])
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	type pair struct{ direct, via load.Result }
	var pairs []pair
	for _, rate := range o.rates {
		d, err := load.Fixed{Rate: rate, Duration: o.duration, Warmup: o.warmup, NewRequest: direct, MaxInFlight: 256}.Run(ctx)
		if err != nil {
			return err
		}
		v, err := load.Fixed{Rate: rate, Duration: o.duration, Warmup: o.warmup, NewRequest: via, MaxInFlight: 256}.Run(ctx)
		if err != nil {
			return err
		}
		printRow("upstream direct (calibration)", fmt.Sprintf("%.0f/s", rate), d)
		printRow("through Mitra", fmt.Sprintf("%.0f/s", rate), v)
		pairs = append(pairs, pair{d, v})
	}
	// The Persona surface: crisis check, server-written system prompt and
	// the conversation store (two sealed rows per call) on top of the same.
	personaBody := []byte(`{"messages":[{"role":"user","content":"Halo! Bagaimana harimu?"}]}`)
	persona := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, m.Base+"/api/ai/chat", bytes.NewReader(personaBody))
		req.Header.Set("Authorization", "Bearer "+m.token[n.Add(1)%uint64(len(m.token))])
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	var personaRuns []load.Result
	for _, rate := range o.rates {
		r, err := load.Fixed{Rate: rate, Duration: o.duration, Warmup: o.warmup, NewRequest: persona, MaxInFlight: 256}.Run(ctx)
		if err != nil {
			return err
		}
		printRow("Persona /api/ai/chat (detection, prompt, conversation)", fmt.Sprintf("%.0f/s", rate), r)
		personaRuns = append(personaRuns, r)
	}
	fmt.Println()
	fmt.Println("Overhead (through Mitra minus direct, same run):")
	fmt.Println()
	fmt.Println("| rate | p50 | p90 | p99 | p99.9 |")
	fmt.Println("|--:|--:|--:|--:|--:|")
	for i, p := range pairs {
		fmt.Printf("| %.0f/s | %s | %s | %s | %s |\n", o.rates[i], diff(p.via.P50, p.direct.P50), diff(p.via.P90, p.direct.P90), diff(p.via.P99, p.direct.P99), diff(p.via.P999, p.direct.P999))
	}
	fmt.Println()
	fmt.Println("Persona chat overhead (minus direct, same run):")
	fmt.Println()
	fmt.Println("| rate | p50 | p90 | p99 | p99.9 |")
	fmt.Println("|--:|--:|--:|--:|--:|")
	for i, p := range pairs {
		v := personaRuns[i]
		fmt.Printf("| %.0f/s | %s | %s | %s | %s |\n", o.rates[i], diff(v.P50, p.direct.P50), diff(v.P90, p.direct.P90), diff(v.P99, p.direct.P99), diff(v.P999, p.direct.P999))
	}

	fmt.Println()
	fmt.Println("Streaming (open loop, time to first content chunk and to [DONE]):")
	fmt.Println()
	fmt.Println("| run | streams/s | TTFB p50 | TTFB p99 | total p50 | total p99 | errors |")
	fmt.Println("|---|--:|--:|--:|--:|--:|--:|")
	sd := streamRun(ctx, o.streamRate, o.duration, func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, upstream+"/chat/completions", bytes.NewReader(streamBody))
		req.Header.Set("Authorization", "Bearer "+upstreamKey)
		return req
	})
	sv := streamRun(ctx, o.streamRate, o.duration, func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, m.Base+"/api/v1/ai/chat/completions", bytes.NewReader(streamBody))
		req.Header.Set("Authorization", "Bearer "+m.token[n.Add(1)%uint64(len(m.token))])
		return req
	})
	printStream("upstream direct", o.streamRate, sd)
	printStream("through Mitra", o.streamRate, sv)
	fmt.Printf("\nStreaming overhead: TTFB p50 %s, p99 %s; total p50 %s, p99 %s\n",
		diff(q(sv.ttfb, 50), q(sd.ttfb, 50)), diff(q(sv.ttfb, 99), q(sd.ttfb, 99)), diff(q(sv.total, 50), q(sd.total, 50)), diff(q(sv.total, 99), q(sd.total, 99)))

	if o.streams > 0 {
		if err := holdStreams(ctx, o, bin, dir); err != nil {
			return err
		}
	}
	return nil
}

func printRow(name, loadDesc string, r load.Result) {
	fmt.Printf("| %s | %s | %.0f | %.3f | %.3f | %.3f | %.3f | %d |\n", name, loadDesc, r.Achieved, proc.Ms(r.P50), proc.Ms(r.P90), proc.Ms(r.P99), proc.Ms(r.P999), r.Errors())
}

func diff(a, b time.Duration) string { return fmt.Sprintf("%+.3f ms", proc.Ms(a-b)) }

type streamResult struct {
	ttfb, total *hdrhistogram.Histogram
	ok, failed  int64
}

func printStream(name string, rate float64, r streamResult) {
	fmt.Printf("| %s | %.0f | %.3f | %.3f | %.3f | %.3f | %d |\n", name, rate, proc.Ms(q(r.ttfb, 50)), proc.Ms(q(r.ttfb, 99)), proc.Ms(q(r.total, 50)), proc.Ms(q(r.total, 99)), r.failed)
}

// streamRun starts streams at a fixed rate and measures, from each
// stream's intended start, the first content chunk and the end.
func streamRun(ctx context.Context, rate float64, d time.Duration, newReq func() *http.Request) streamResult {
	c := load.NewClient(30*time.Second, 1024)
	defer c.CloseIdleConnections()
	res := streamResult{ttfb: load.NewHistogram(), total: load.NewHistogram()}
	var mu sync.Mutex
	var wg sync.WaitGroup
	count := int(rate * d.Seconds())
	start := time.Now()
	for i := range count {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := newReq()
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req.WithContext(ctx))
			if err != nil {
				atomic.AddInt64(&res.failed, 1)
				return
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			var first time.Duration
			done := false
			for sc.Scan() {
				line := sc.Text()
				if first == 0 && strings.Contains(line, `"content":"`) && !strings.Contains(line, `"content":""`) {
					first = time.Since(due)
				}
				if line == "data: [DONE]" {
					done = true
				}
			}
			if !done || first == 0 || resp.StatusCode != 200 {
				atomic.AddInt64(&res.failed, 1)
				return
			}
			total := time.Since(due)
			mu.Lock()
			_ = res.ttfb.RecordValue(int64(first))
			_ = res.total.RecordValue(int64(total))
			mu.Unlock()
			atomic.AddInt64(&res.ok, 1)
		}()
	}
	wg.Wait()
	return res
}

// holdStreams opens many slow streams through a second Mitra (whose fake
// upstream sends a chunk a second) and reports the server's memory.
func holdStreams(ctx context.Context, o options, bin, dir string) error {
	chunks := int(o.hold / time.Second)
	slow := fakeupstream.New(fakeupstream.Options{APIKey: upstreamKey, RecordLimit: -1, ChunkDelay: time.Second, Chunks: max(2, chunks)})
	upstream, closeSlow := slow.Start()
	defer closeSlow()
	m, err := startMitra(bin, filepath.Join(dir, "b"), upstream)
	if err != nil {
		return err
	}
	defer m.Stop()
	// Warm the server once, then measure its resting memory.
	time.Sleep(time.Second)
	rssBefore := m.RSS()
	c := load.NewClient(2*o.hold+time.Minute, o.streams)
	defer c.CloseIdleConnections()
	var opened, finished, failed atomic.Int64
	var wg sync.WaitGroup
	for i := range o.streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.Base+"/api/v1/ai/chat/completions", bytes.NewReader(streamBody))
			req.Header.Set("Authorization", "Bearer "+m.token[i%len(m.token)])
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil || resp.StatusCode != 200 {
				failed.Add(1)
				if resp != nil {
					resp.Body.Close()
				}
				return
			}
			opened.Add(1)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			finished.Add(1)
		}()
		if i%500 == 499 {
			time.Sleep(100 * time.Millisecond) // open them over a few seconds, as phones would
		}
	}
	// Sample while all are open.
	peakOpen, peakRSS := 0, int64(0)
	for t := 0; t < int(o.hold/time.Second)+30; t++ {
		time.Sleep(time.Second)
		if n := slow.OpenStreams(); n > peakOpen {
			peakOpen = n
		}
		if r := m.RSS(); r > peakRSS {
			peakRSS = r
		}
		if finished.Load()+failed.Load() == int64(o.streams) {
			break
		}
	}
	wg.Wait()
	perStream := float64(peakRSS-rssBefore) / float64(max(1, peakOpen))
	fmt.Printf("\nConcurrent streams: %d requested, %d opened, %d completed, %d failed; peak %d open at the upstream at once.\n",
		o.streams, opened.Load(), finished.Load(), failed.Load(), peakOpen)
	fmt.Printf("Server RSS: %.1f MiB at rest, %.1f MiB peak: %.1f KiB per open stream.\n",
		float64(rssBefore)/(1<<20), float64(peakRSS)/(1<<20), perStream/1024)
	return nil
}

func q(h *hdrhistogram.Histogram, p float64) time.Duration {
	return time.Duration(h.ValueAtQuantile(p))
}
