// Package load is a small HTTP load generator for benchmarks on one
// machine. It has two modes:
//
//   - Fixed is open loop: requests leave at a constant rate from a pacing
//     loop (request i is due at start + i/rate), whatever the server does.
//     Each latency is measured from the request's intended send time, not
//     from when it actually left, so a stalled server or a late pacer shows
//     up in the percentiles instead of being hidden (the correction for
//     coordinated omission).
//   - Closed is closed loop: N workers send back to back for a duration.
//     It measures throughput at saturation; its latencies are those of a
//     saturated server and are not corrected.
//
// Latencies go into HDR histograms. Runs are bounded in request count and
// time, stop by themselves, and reach only loopback addresses: the client's
// dialer refuses anything else.
//
// On Linux the pacer sleeps on a Go timer backed by a timerfd (see
// newSleeper), so requests leave within tens of microseconds of their
// intended time even when the process is otherwise idle; the lateness
// that remains is reported as SendLagP99 and SendLagMax.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Limits of a run.
const (
	// MaxDuration bounds Duration and Warmup of a run.
	MaxDuration = 10 * time.Minute
	// MaxRate bounds Fixed.Rate.
	MaxRate = 200_000
	// MaxConcurrency bounds Closed.Concurrency and Fixed.MaxInFlight.
	MaxConcurrency = 10_000
	// DefaultTimeout is the per-request timeout when none is given.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxInFlight is Fixed's cap on requests in flight when none is
	// given.
	DefaultMaxInFlight = 1000
)

// Histogram range: 1 µs to 60 s in nanoseconds, 3 significant digits.
const (
	histLowest  = int64(time.Microsecond)
	histHighest = int64(time.Minute)
	histDigits  = 3
)

// NewHistogram returns an empty latency histogram in nanoseconds
// (1 µs to 60 s, 3 significant digits). Longer values are clamped to 60 s.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

func record(h *hdrhistogram.Histogram, d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if v > histHighest {
		v = histHighest
	}
	_ = h.RecordValue(v) // cannot fail: v is within the range
}

// Result is what one run measured. Only requests due after the warm-up
// count.
type Result struct {
	// Mode is "fixed" (open loop) or "closed".
	Mode string
	// TargetRate is the requested rate (requests/s); 0 in closed loop.
	TargetRate float64
	// Concurrency is the number of workers in closed loop; 0 in open loop.
	Concurrency int
	// Duration is the measured window: the scheduled duration, or longer
	// when responses came in after it ended.
	Duration time.Duration
	// Sent is the number of measured requests handed to the client.
	Sent int64
	// Total is every request the run sent, warm-up and (in closed loop)
	// requests that ended after the window included: the divisor for the
	// cost per request of the whole run.
	Total int64
	// Completed is the number of 2xx responses read to the end.
	Completed int64
	// TransportErrors are requests that got no response (refused, reset,
	// timed out).
	TransportErrors int64
	// StatusErrors are responses with a status outside 2xx.
	StatusErrors int64
	// Unsent are requests the schedule called for that were never sent
	// because the run reached its time limit (open loop only).
	Unsent int64
	// Achieved is Completed per second of Duration.
	Achieved float64
	// Latency percentiles and maximum of completed requests.
	P50, P90, P99, P999, Max time.Duration
	// SendLagP99 and SendLagMax are how late requests left relative to
	// their intended time (open loop only): pacer lateness, waiting for
	// MaxInFlight, or a busy machine. A large lag means the generator, not
	// only the server, was behind; it is included in the latencies.
	SendLagP99, SendLagMax time.Duration
	// Latency is the histogram of completed requests' latencies (ns).
	Latency *hdrhistogram.Histogram
}

// Errors is the total of transport errors, non-2xx responses and unsent
// requests.
func (r Result) Errors() int64 { return r.TransportErrors + r.StatusErrors + r.Unsent }

// String is a one-line summary.
func (r Result) String() string {
	return fmt.Sprintf("%s rate=%.0f conc=%d sent=%d ok=%d err=%d/%d/%d achieved=%.1f/s p50=%v p90=%v p99=%v p99.9=%v max=%v lag99=%v",
		r.Mode, r.TargetRate, r.Concurrency, r.Sent, r.Completed, r.TransportErrors, r.StatusErrors, r.Unsent,
		r.Achieved, r.P50, r.P90, r.P99, r.P999, r.Max, r.SendLagP99)
}

// summarize fills the percentiles from the latency histogram.
func (r *Result) summarize() {
	h := r.Latency
	r.P50 = time.Duration(h.ValueAtQuantile(50))
	r.P90 = time.Duration(h.ValueAtQuantile(90))
	r.P99 = time.Duration(h.ValueAtQuantile(99))
	r.P999 = time.Duration(h.ValueAtQuantile(99.9))
	if h.TotalCount() > 0 {
		r.Max = time.Duration(h.Max())
	}
	if r.Duration > 0 {
		r.Achieved = float64(r.Completed) / r.Duration.Seconds()
	}
}

// NewClient returns a client for loopback benchmarks: keep-alive with up
// to maxIdle idle connections to the target, no proxy, no compression, a
// per-request timeout, and a dialer that refuses any address that is not
// a loopback IP.
func NewClient(timeout time.Duration, maxIdle int) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if maxIdle <= 0 {
		maxIdle = DefaultMaxInFlight
	}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if err := checkLoopback(addr); err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:          maxIdle,
		MaxIdleConnsPerHost:   maxIdle,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// NotLoopbackError is returned for a target that is not a loopback IP
// address with a port.
type NotLoopbackError struct{ Addr string }

func (e *NotLoopbackError) Error() string {
	return fmt.Sprintf("load: target %q is not a loopback IP address with a port", e.Addr)
}

// checkLoopback accepts only literal loopback IPs (127.0.0.0/8, ::1) with a
// port: no names, so nothing is resolved and nothing leaves the machine.
func checkLoopback(hostport string) error {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return &NotLoopbackError{Addr: hostport}
	}
	return nil
}

// checkRequest makes a sample request and checks its target.
func checkRequest(newRequest func() *http.Request) error {
	if newRequest == nil {
		return errors.New("load: no request factory")
	}
	req := newRequest()
	if req == nil || req.URL == nil {
		return errors.New("load: the request factory returned no request")
	}
	return checkLoopback(req.URL.Host)
}

func checkDurations(duration, warmup time.Duration) error {
	if duration <= 0 || duration > MaxDuration {
		return fmt.Errorf("load: duration %v outside (0, %v]", duration, MaxDuration)
	}
	if warmup < 0 || warmup > MaxDuration {
		return fmt.Errorf("load: warm-up %v outside [0, %v]", warmup, MaxDuration)
	}
	return nil
}

// outcome is what one request ended with.
type outcome int

const (
	ok outcome = iota
	transportError
	statusError
)

// do sends one request and reads the response body to the end, so the
// connection goes back to the pool.
func do(ctx context.Context, c *http.Client, req *http.Request) outcome {
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		return transportError
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return transportError
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return statusError
	}
	return ok
}

// Fixed is an open-loop run at a constant rate.
type Fixed struct {
	// Rate is the target in requests per second.
	Rate float64
	// Duration is the measured part of the run.
	Duration time.Duration
	// Warmup is sent at the same rate before Duration and not counted.
	Warmup time.Duration
	// NewRequest returns a fresh request for each send. Its URL must be a
	// loopback IP with a port.
	NewRequest func() *http.Request
	// MaxInFlight caps the requests in flight, and so the connections
	// (default 1000). When the cap is reached the pacer waits for a slot
	// and the wait counts in the latencies, as with a fixed pool of
	// connections. A cap near the server's useful concurrency keeps a
	// short stall from turning into a storm of new connections.
	MaxInFlight int
	// Timeout is the per-request timeout (default 10 s). The run stops at
	// the latest Timeout after its schedule ends.
	Timeout time.Duration
	// Client, when set, replaces NewClient(Timeout, MaxInFlight).
	Client *http.Client
}

func (f Fixed) validate() error {
	if !(f.Rate > 0) || f.Rate > MaxRate {
		return fmt.Errorf("load: rate %v outside (0, %d]", f.Rate, MaxRate)
	}
	if err := checkDurations(f.Duration, f.Warmup); err != nil {
		return err
	}
	if f.MaxInFlight < 0 || f.MaxInFlight > MaxConcurrency {
		return fmt.Errorf("load: max in flight %d outside [0, %d]", f.MaxInFlight, MaxConcurrency)
	}
	if f.Rate*(f.Duration+f.Warmup).Seconds() < 1 {
		return errors.New("load: rate × duration schedules no request")
	}
	return checkRequest(f.NewRequest)
}

// Run sends the schedule and returns what it measured. It returns early,
// with what it has, when ctx ends.
func (f Fixed) Run(ctx context.Context) (Result, error) {
	if err := f.validate(); err != nil {
		return Result{}, err
	}
	if f.Timeout <= 0 {
		f.Timeout = DefaultTimeout
	}
	if f.MaxInFlight == 0 {
		f.MaxInFlight = DefaultMaxInFlight
	}
	client := f.Client
	if client == nil {
		client = NewClient(f.Timeout, f.MaxInFlight)
		defer client.CloseIdleConnections()
	}

	warmN := int64(f.Rate * f.Warmup.Seconds())
	measureN := int64(f.Rate * f.Duration.Seconds())
	total := warmN + measureN
	interval := float64(time.Second) / f.Rate

	start := time.Now()
	measureStart := start.Add(time.Duration(float64(warmN) * interval))
	scheduleEnd := start.Add(f.Warmup + f.Duration)
	// Hard stop: the schedule plus one request timeout.
	ctx, cancel := context.WithDeadline(ctx, scheduleEnd.Add(f.Timeout))
	defer cancel()

	res := Result{Mode: "fixed", TargetRate: f.Rate, Latency: NewHistogram()}
	lag := NewHistogram()
	var (
		mu       sync.Mutex // guards res counters, histograms and lastDone
		lastDone time.Time
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, f.MaxInFlight)

	// The pacer runs on a goroutine of its own. It returns the index of
	// the first request it did not send.
	sleep, release := newSleeper()
	defer release()
	paced := make(chan int64, 1)
	go func() {
		var i int64
		defer func() { paced <- i }()
		for ; i < total; i++ {
			due := start.Add(time.Duration(float64(i) * interval))
			for {
				if ctx.Err() != nil {
					return
				}
				wait := time.Until(due)
				if wait <= 0 {
					break
				}
				sleep(min(wait, 20*time.Millisecond)) // short enough to notice ctx
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			measured := i >= warmN
			req := f.NewRequest()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				sentAt := time.Now()
				out := do(ctx, client, req)
				done := time.Now()
				mu.Lock()
				defer mu.Unlock()
				res.Total++
				if !measured {
					return
				}
				res.Sent++
				record(lag, sentAt.Sub(due))
				switch out {
				case ok:
					res.Completed++
					record(res.Latency, done.Sub(due))
				case transportError:
					res.TransportErrors++
				case statusError:
					res.StatusErrors++
				}
				if done.After(lastDone) {
					lastDone = done
				}
			}()
		}
	}()
	i := <-paced
	wg.Wait()
	if i < total {
		res.Unsent = total - max(i, warmN)
	}
	end := scheduleEnd
	if lastDone.After(end) {
		end = lastDone
	}
	res.Duration = end.Sub(measureStart)
	res.summarize()
	res.SendLagP99 = time.Duration(lag.ValueAtQuantile(99))
	if lag.TotalCount() > 0 {
		res.SendLagMax = time.Duration(lag.Max())
	}
	return res, ctx.Err()
}

// Closed is a closed-loop run: Concurrency workers each send a request as
// soon as the previous one is answered.
type Closed struct {
	// Concurrency is the number of workers (connections).
	Concurrency int
	// Duration is the measured part of the run.
	Duration time.Duration
	// Warmup runs the same workers before Duration, not counted.
	Warmup time.Duration
	// NewRequest returns a fresh request for each send. Its URL must be a
	// loopback IP with a port.
	NewRequest func() *http.Request
	// Timeout is the per-request timeout (default 10 s).
	Timeout time.Duration
	// Client, when set, replaces NewClient(Timeout, Concurrency).
	Client *http.Client
}

func (c Closed) validate() error {
	if c.Concurrency <= 0 || c.Concurrency > MaxConcurrency {
		return fmt.Errorf("load: concurrency %d outside [1, %d]", c.Concurrency, MaxConcurrency)
	}
	if err := checkDurations(c.Duration, c.Warmup); err != nil {
		return err
	}
	return checkRequest(c.NewRequest)
}

// Run runs the workers and returns what they measured. Requests still in
// flight when Duration ends are completed but not counted. It returns
// early, with what it has, when ctx ends.
func (c Closed) Run(ctx context.Context) (Result, error) {
	if err := c.validate(); err != nil {
		return Result{}, err
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	client := c.Client
	if client == nil {
		client = NewClient(c.Timeout, c.Concurrency)
		defer client.CloseIdleConnections()
	}
	start := time.Now()
	measureStart := start.Add(c.Warmup)
	end := measureStart.Add(c.Duration)
	ctx, cancel := context.WithDeadline(ctx, end.Add(c.Timeout))
	defer cancel()

	type tally struct {
		h                           *hdrhistogram.Histogram
		total, sent, ok, terr, serr int64
	}
	tallies := make([]tally, c.Concurrency)
	var wg sync.WaitGroup
	for w := range tallies {
		t := &tallies[w]
		t.h = NewHistogram()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req := c.NewRequest()
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				out := do(ctx, client, req)
				done := time.Now()
				t.total++
				if t0.Before(measureStart) || done.After(end) {
					continue // warm-up, or finished after the window
				}
				t.sent++
				switch out {
				case ok:
					t.ok++
					record(t.h, done.Sub(t0))
				case transportError:
					t.terr++
				case statusError:
					t.serr++
				}
			}
		}()
	}
	wg.Wait()

	res := Result{Mode: "closed", Concurrency: c.Concurrency, Duration: c.Duration, Latency: NewHistogram()}
	for _, t := range tallies {
		res.Latency.Merge(t.h)
		res.Total += t.total
		res.Sent += t.sent
		res.Completed += t.ok
		res.TransportErrors += t.terr
		res.StatusErrors += t.serr
	}
	res.summarize()
	return res, ctx.Err()
}
