package ratelimit_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"mitra/internal/platform/ratelimit"
)

// clock is a time source moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestMemoryGCRAExact checks, on a stopped clock, every number of the
// redis_rate script's arithmetic.
func TestMemoryGCRAExact(t *testing.T) {
	clk := newClock()
	s := ratelimit.NewMemoryWithClock(clk.Now)
	lim := ratelimit.PerSecond(10, 3) // emission interval 100ms, burst offset 300ms
	const ms = time.Millisecond
	step := func(advance time.Duration, want ratelimit.Result) {
		t.Helper()
		clk.Advance(advance)
		want.Limit = lim
		if got := allow(t, s, "k", lim); got != want {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
	}
	step(0, ratelimit.Result{Allowed: true, Remaining: 2, ResetAfter: 100 * ms})
	step(0, ratelimit.Result{Allowed: true, Remaining: 1, ResetAfter: 200 * ms})
	step(0, ratelimit.Result{Allowed: true, Remaining: 0, ResetAfter: 300 * ms})
	step(0, ratelimit.Result{RetryAfter: 100 * ms, ResetAfter: 300 * ms})
	step(30*ms, ratelimit.Result{RetryAfter: 70 * ms, ResetAfter: 270 * ms})
	step(70*ms, ratelimit.Result{Allowed: true, Remaining: 0, ResetAfter: 300 * ms})
	step(250*ms, ratelimit.Result{Allowed: true, Remaining: 1, ResetAfter: 150 * ms})
	step(time.Hour, ratelimit.Result{Allowed: true, Remaining: 2, ResetAfter: 100 * ms})

	// An interval that does not divide evenly: 1s/3 = 333333333ns.
	lim = ratelimit.PerSecond(3, 2)
	const ei = time.Second / 3
	clk.Advance(time.Hour)
	step(0, ratelimit.Result{Allowed: true, Remaining: 1, ResetAfter: ei})
	step(0, ratelimit.Result{Allowed: true, Remaining: 0, ResetAfter: 2 * ei})
	step(0, ratelimit.Result{RetryAfter: ei, ResetAfter: 2 * ei})
	step(ei-1, ratelimit.Result{RetryAfter: 1, ResetAfter: ei + 1})
	step(1, ratelimit.Result{Allowed: true, Remaining: 0, ResetAfter: 2 * ei})
}

func TestMemoryCounterExpiry(t *testing.T) {
	clk := newClock()
	s := ratelimit.NewMemoryWithClock(clk.Now)
	incr(t, s, "k", 300*time.Millisecond, 1)
	clk.Advance(299 * time.Millisecond)
	incr(t, s, "k", 300*time.Millisecond, 2)
	clk.Advance(time.Millisecond)
	get(t, s, "k", 0)
	incr(t, s, "k", 300*time.Millisecond, 1)
	// ttl is rounded up to a whole millisecond, as Redis's PEXPIRE.
	incr(t, s, "sub-ms", time.Microsecond, 1)
	clk.Advance(time.Millisecond - time.Nanosecond)
	get(t, s, "sub-ms", 1)
	clk.Advance(time.Nanosecond)
	get(t, s, "sub-ms", 0)
}

// TestMemorySweeps checks that expired entries do not pile up and live ones
// survive the sweeps.
func TestMemorySweeps(t *testing.T) {
	for _, shards := range []int{1, ratelimit.DefaultShards} {
		t.Run(strconv.Itoa(shards), func(t *testing.T) {
			clk := newClock()
			s := ratelimit.NewMemoryShards(shards, clk.Now)
			ctx := context.Background()
			const live = 1000
			for i := range live {
				incr(t, s, "live"+strconv.Itoa(i), time.Hour, 1)
			}
			for i := range 20_000 {
				allow(t, s, "old-limiter"+strconv.Itoa(i), ratelimit.PerSecond(1, 1))
				incr(t, s, "old-counter"+strconv.Itoa(i), time.Second, 1)
			}
			clk.Advance(time.Minute)
			// A stream of keys that each expire a millisecond later.
			lim := ratelimit.PerSecond(1000, 1)
			for i := range 200_000 {
				clk.Advance(time.Millisecond)
				if _, err := s.Allow(ctx, "new"+strconv.Itoa(i), lim); err != nil {
					t.Fatal(err)
				}
			}
			// A shard that kept L entries at its last sweep sweeps again
			// after max(L, SweepMin) writes.
			if n, most := s.Len(), 2*live+s.Shards()*ratelimit.SweepMin; n > most {
				t.Fatalf("%d entries, want at most %d", n, most)
			}
			for i := range live {
				get(t, s, "live"+strconv.Itoa(i), 1)
			}
		})
	}
}
