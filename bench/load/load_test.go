package load

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func getter(t *testing.T, url string) func() *http.Request {
	t.Helper()
	return func() *http.Request {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Error(err)
		}
		return req
	}
}

func within(got, want, tolerance time.Duration) bool {
	return got >= want-tolerance && got <= want+tolerance
}

// The reported percentiles are those of the recorded latencies.
func TestSummarizeReportsPercentiles(t *testing.T) {
	r := Result{Latency: NewHistogram(), Completed: 1000, Duration: 2 * time.Second}
	for i := 1; i <= 1000; i++ {
		record(r.Latency, time.Duration(i)*time.Microsecond)
	}
	record(r.Latency, 2*time.Hour) // clamped to the histogram's top
	r.summarize()
	const tol = 2 * time.Microsecond // 3 significant digits
	for _, c := range []struct {
		name      string
		got, want time.Duration
		tolerance time.Duration
	}{
		{"p50", r.P50, 501 * time.Microsecond, tol},
		{"p90", r.P90, 901 * time.Microsecond, tol},
		{"p99", r.P99, 991 * time.Microsecond, tol},
		{"p99.9", r.P999, 1000 * time.Microsecond, tol},
		{"max", r.Max, time.Minute, 100 * time.Millisecond},
	} {
		if !within(c.got, c.want, c.tolerance) {
			t.Errorf("%s = %v, want %v ± %v", c.name, c.got, c.want, c.tolerance)
		}
	}
	if r.Achieved != 500 {
		t.Errorf("achieved = %v, want 500/s", r.Achieved)
	}
	if n := r.Latency.TotalCount(); n != 1001 {
		t.Errorf("histogram holds %d values, want 1001", n)
	}
	if r.Errors() != 0 {
		t.Errorf("errors = %d", r.Errors())
	}
}

// Requests leave at the target rate, evenly spread, and only those due
// after the warm-up are counted.
func TestFixedPacesAtTheTargetRate(t *testing.T) {
	var (
		mu       sync.Mutex
		arrivals []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()

	const rate = 200
	res, err := Fixed{Rate: rate, Duration: 600 * time.Millisecond, Warmup: 100 * time.Millisecond, NewRequest: getter(t, srv.URL)}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != 140 {
		t.Fatalf("server saw %d requests, want 20 warm-up + 120 measured", len(arrivals))
	}
	if res.Total != 140 {
		t.Errorf("total %d, want 140 with the warm-up", res.Total)
	}
	if res.Sent != 120 || res.Completed != 120 || res.Errors() != 0 {
		t.Fatalf("sent %d, completed %d, errors %d; want 120, 120, 0", res.Sent, res.Completed, res.Errors())
	}
	if res.Achieved < 0.9*rate || res.Achieved > 1.01*rate {
		t.Errorf("achieved %.1f/s, want about %d/s", res.Achieved, rate)
	}
	if res.Latency.TotalCount() != 120 || res.P50 <= 0 || res.P50 > res.P99 || res.P99 > res.Max {
		t.Errorf("latencies not recorded: n=%d p50=%v p99=%v max=%v", res.Latency.TotalCount(), res.P50, res.P99, res.Max)
	}
	// 140 requests 5 ms apart span 695 ms; a pacer that bursts would not.
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	if span := arrivals[len(arrivals)-1].Sub(arrivals[0]); !within(span, 695*time.Millisecond, 60*time.Millisecond) {
		t.Errorf("arrivals span %v, want about 695ms", span)
	}
	// Every full 50 ms window holds about 10 arrivals; a busy machine may
	// upset one or two.
	first := arrivals[0]
	counts := make([]int, 13)
	for _, a := range arrivals {
		if i := int(a.Sub(first) / (50 * time.Millisecond)); i < len(counts) {
			counts[i]++
		}
	}
	off := 0
	for _, n := range counts {
		if n < 5 || n > 15 {
			off++
		}
	}
	if off > 2 {
		t.Errorf("%d of %d windows of 50ms far from 10 arrivals: %v", off, len(counts), counts)
	}
}

// The pacer's sleep is precise below a millisecond, where Go's timers
// alone round up to about a millisecond in an idle process.
func TestSleeperIsPreciseBelowAMillisecond(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the precise sleep is Linux only")
	}
	sleep, release := newSleeper()
	defer release()
	const d = 200 * time.Microsecond
	var medians []time.Duration
	for range 3 { // a busy machine may spoil one attempt
		lates := make([]time.Duration, 101)
		for i := range lates {
			t0 := time.Now()
			sleep(d)
			lates[i] = time.Since(t0) - d
		}
		slices.Sort(lates)
		if lates[0] < 0 {
			t.Fatalf("slept less than asked: %v", lates[0])
		}
		medians = append(medians, lates[50])
		if lates[50] < 600*time.Microsecond {
			return
		}
	}
	t.Errorf("median lateness of a 200µs sleep %v in every attempt, want well under a millisecond", medians)
}

// A stall makes every request queued behind it late, and latency measured
// from the intended send time shows that: without the correction only
// the one stalled request would be slow and p90 would stay near zero.
func TestFixedCorrectsCoordinatedOmission(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 10 {
			time.Sleep(150 * time.Millisecond)
		}
	}))
	defer srv.Close()

	// One request at a time, 10 ms apart: the stall holds up the next 14.
	res, err := Fixed{Rate: 100, Duration: 500 * time.Millisecond, MaxInFlight: 1, NewRequest: getter(t, srv.URL)}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Completed != 50 || res.Errors() != 0 {
		t.Fatalf("completed %d, errors %d; want 50, 0", res.Completed, res.Errors())
	}
	if res.Max < 150*time.Millisecond {
		t.Errorf("max %v, want at least the 150ms stall", res.Max)
	}
	if res.P90 < 60*time.Millisecond {
		t.Errorf("p90 %v: the requests queued behind the stall were not charged their wait", res.P90)
	}
	if res.P50 > 20*time.Millisecond {
		t.Errorf("p50 %v, want the unaffected half fast", res.P50)
	}
	if res.SendLagMax < 100*time.Millisecond {
		t.Errorf("send lag max %v, want the stall visible as lag", res.SendLagMax)
	}
	// The backlog is caught up: the run ends about on schedule.
	if res.Duration > 600*time.Millisecond || res.Achieved < 80 {
		t.Errorf("run took %v at %.1f/s", res.Duration, res.Achieved)
	}
}

// Non-2xx responses and transport errors are counted apart, and neither
// counts as completed.
func TestFixedCountsErrorsApart(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	res, err := Fixed{Rate: 100, Duration: 200 * time.Millisecond, MaxInFlight: 1, NewRequest: getter(t, srv.URL)}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 20 || res.Completed != 10 || res.StatusErrors != 10 || res.TransportErrors != 0 {
		t.Errorf("sent %d, completed %d, status errors %d, transport errors %d; want 20, 10, 10, 0",
			res.Sent, res.Completed, res.StatusErrors, res.TransportErrors)
	}
	if res.Latency.TotalCount() != 10 {
		t.Errorf("histogram holds %d values, want only the 10 completed", res.Latency.TotalCount())
	}

	// A closed port refuses every connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res, err = Fixed{Rate: 100, Duration: 100 * time.Millisecond, NewRequest: getter(t, "http://"+addr+"/")}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 10 || res.TransportErrors != 10 || res.Completed != 0 || res.P50 != 0 {
		t.Errorf("refused: sent %d, transport errors %d, completed %d, p50 %v; want 10, 10, 0, 0", res.Sent, res.TransportErrors, res.Completed, res.P50)
	}
}

// Only literal loopback addresses are targets, both before the run and in
// the dialer.
func TestRefusesNonLoopbackTargets(t *testing.T) {
	for _, url := range []string{"http://192.0.2.1:80/", "http://localhost:8080/", "http://example.com/", "http://127.0.0.1/"} {
		_, err := Fixed{Rate: 10, Duration: time.Second, NewRequest: getter(t, url)}.Run(context.Background())
		var nl *NotLoopbackError
		if !errors.As(err, &nl) {
			t.Errorf("%s: err = %v, want NotLoopbackError", url, err)
		}
		_, err = Closed{Concurrency: 1, Duration: time.Second, NewRequest: getter(t, url)}.Run(context.Background())
		if !errors.As(err, &nl) {
			t.Errorf("closed %s: err = %v, want NotLoopbackError", url, err)
		}
	}
	_, err := NewClient(time.Second, 1).Get("http://192.0.2.1:80/")
	var nl *NotLoopbackError
	if !errors.As(err, &nl) {
		t.Errorf("client dialled a non-loopback address: %v", err)
	}
	if _, err := (Fixed{Rate: 0, Duration: time.Second, NewRequest: getter(t, "http://127.0.0.1:1/")}).Run(context.Background()); err == nil {
		t.Error("rate 0 accepted")
	}
	if _, err := (Closed{Concurrency: 1, Duration: time.Hour, NewRequest: getter(t, "http://127.0.0.1:1/")}).Run(context.Background()); err == nil {
		t.Error("an hour-long run accepted")
	}
}

// Closed loop keeps exactly Concurrency requests in flight and measures
// the throughput that allows.
func TestClosedKeepsConcurrencyRequestsInFlight(t *testing.T) {
	const service = 5 * time.Millisecond
	var inFlight, peak, served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		served.Add(1)
		time.Sleep(service)
	}))
	defer srv.Close()

	res, err := Closed{Concurrency: 4, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond, NewRequest: getter(t, srv.URL)}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if p := peak.Load(); p != 4 {
		t.Errorf("peak in flight %d, want 4", p)
	}
	if res.Completed == 0 || res.Errors() != 0 || res.Completed >= served.Load() {
		t.Errorf("completed %d of %d served (warm-up excluded), errors %d", res.Completed, served.Load(), res.Errors())
	}
	if res.Total != served.Load() {
		t.Errorf("total %d, server served %d", res.Total, served.Load())
	}
	ceiling := 4 / service.Seconds()
	if res.Achieved > 1.05*ceiling || res.Achieved < 0.4*ceiling {
		t.Errorf("achieved %.0f/s, want at most %.0f/s and not far below", res.Achieved, ceiling)
	}
	if res.P50 < service || res.Latency.TotalCount() != res.Completed {
		t.Errorf("p50 %v below the %v service time, or %d latencies for %d completed", res.P50, service, res.Latency.TotalCount(), res.Completed)
	}
}
