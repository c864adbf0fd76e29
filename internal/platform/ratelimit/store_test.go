package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"mitra/internal/platform/ratelimit"
	"mitra/internal/platform/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// slack bounds how long a test may take between the first event it sends
// and the result it checks: durations are asserted within (want-slack, want].
const slack = 2 * time.Second

// testStore is the one suite that every Store must pass. It runs on real
// time (Redis times events by its own clock), with periods short enough or
// long enough that the numbers it asserts are exact.
func testStore(t *testing.T, newStore func(t *testing.T) ratelimit.Store) {
	ctx := context.Background()

	t.Run("BurstThenRefused", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		lim := ratelimit.PerMinute(6, 5) // one event per 10s, bursts of 5
		for i := range 5 {
			r := allow(t, s, "k", lim)
			if !r.Allowed || r.Remaining != 4-i || r.RetryAfter != 0 || r.Limit != lim {
				t.Fatalf("event %d: %+v, want allowed with %d remaining", i+1, r, 4-i)
			}
			within(t, "ResetAfter", r.ResetAfter, time.Duration(i+1)*10*time.Second)
		}
		r := allow(t, s, "k", lim)
		if r.Allowed || r.Remaining != 0 || r.Limit != lim {
			t.Fatalf("event 6: %+v, want refused with 0 remaining", r)
		}
		within(t, "RetryAfter", r.RetryAfter, 10*time.Second)
		within(t, "ResetAfter", r.ResetAfter, 50*time.Second)

		// A refused event is not counted: refusing again changes nothing
		// but the time that has passed.
		again := allow(t, s, "k", lim)
		if again.Allowed || again.Remaining != 0 || again.RetryAfter > r.RetryAfter || again.ResetAfter > r.ResetAfter {
			t.Fatalf("event 7: %+v after %+v", again, r)
		}
		within(t, "RetryAfter", again.RetryAfter, 10*time.Second)
	})

	t.Run("AllowedAgainAfterRetryAfter", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		lim := ratelimit.PerSecond(10, 2) // one event per 100ms, bursts of 2
		for i := range 2 {
			if r := allow(t, s, "k", lim); !r.Allowed {
				t.Fatalf("event %d refused: %+v", i+1, r)
			}
		}
		r := allow(t, s, "k", lim)
		if r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > 100*time.Millisecond {
			t.Fatalf("event 3: %+v, want refused with 0 < RetryAfter <= 100ms", r)
		}
		// Redis measures by the server's clock and rounds to microseconds:
		// wait a millisecond more than it says.
		time.Sleep(r.RetryAfter + time.Millisecond)
		r = allow(t, s, "k", lim)
		if !r.Allowed || r.Remaining != 0 || r.RetryAfter != 0 {
			t.Fatalf("after RetryAfter: %+v, want allowed with 0 remaining", r)
		}
		r = allow(t, s, "k", lim)
		if r.Allowed || r.RetryAfter <= 50*time.Millisecond || r.RetryAfter > 100*time.Millisecond {
			t.Fatalf("next: %+v, want refused for about 100ms", r)
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		lim := ratelimit.PerMinute(1, 2)
		for range 2 {
			allow(t, s, "a", lim)
		}
		if r := allow(t, s, "a", lim); r.Allowed {
			t.Fatalf("a after its burst: %+v", r)
		}
		if r := allow(t, s, "b", lim); !r.Allowed || r.Remaining != 1 {
			t.Fatalf("b: %+v, want allowed with 1 remaining", r)
		}
		if r := allow(t, s, "a", lim); r.Allowed {
			t.Fatalf("a after b: %+v", r)
		}
		// Counters are independent of each other and of the limiters.
		incr(t, s, "a", time.Minute, 1)
		incr(t, s, "a", time.Minute, 2)
		get(t, s, "b", 0)
		incr(t, s, "b", time.Minute, 1)
		get(t, s, "a", 2)
		for i := range 5 {
			incr(t, s, "c", time.Minute, int64(i+1))
		}
		if r := allow(t, s, "c", lim); !r.Allowed || r.Remaining != 1 {
			t.Fatalf("c with a counter of 5: %+v, want allowed with 1 remaining", r)
		}
	})

	t.Run("ResetRestoresFullBurst", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		lim := ratelimit.PerMinute(1, 3)
		for range 3 {
			allow(t, s, "k", lim)
		}
		if r := allow(t, s, "k", lim); r.Allowed {
			t.Fatalf("after the burst: %+v", r)
		}
		incr(t, s, "k", time.Minute, 1)
		incr(t, s, "k", time.Minute, 2)
		if err := s.Reset(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		r := allow(t, s, "k", lim)
		if !r.Allowed || r.Remaining != 2 {
			t.Fatalf("after Reset: %+v, want allowed with 2 remaining", r)
		}
		within(t, "ResetAfter", r.ResetAfter, time.Minute)
		get(t, s, "k", 0)
		incr(t, s, "k", time.Minute, 1)
		if err := s.Reset(ctx, "absent"); err != nil {
			t.Fatalf("Reset of an absent key: %v", err)
		}
	})

	t.Run("IncrCountsAndExpires", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const ttl = 300 * time.Millisecond
		start := time.Now()
		for i := range 3 {
			incr(t, s, "k", ttl, int64(i+1))
		}
		get(t, s, "k", 3)
		time.Sleep(time.Until(start.Add(150 * time.Millisecond)))
		incr(t, s, "k", ttl, 4)
		get(t, s, "k", 4)
		// The window is fixed at the first increment: 400ms after it the
		// counter is gone, though a sliding one would last until 450ms.
		time.Sleep(time.Until(start.Add(400 * time.Millisecond)))
		get(t, s, "k", 0)
		incr(t, s, "k", ttl, 1)
		get(t, s, "k", 1)
	})

	t.Run("BlockExpiresAndResets", func(t *testing.T) {
		st := newStore(t)
		ctx := context.Background()
		if d, err := st.Blocked(ctx, "b"); err != nil || d != 0 {
			t.Fatalf("fresh key blocked: %v %v", d, err)
		}
		if err := st.Block(ctx, "b", 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		d, err := st.Blocked(ctx, "b")
		if err != nil || d <= 200*time.Millisecond || d > 300*time.Millisecond {
			t.Fatalf("blocked for %v (%v), want (200ms, 300ms]", d, err)
		}
		if d, _ := st.Blocked(ctx, "other"); d != 0 {
			t.Fatal("block leaked to another key")
		}
		time.Sleep(350 * time.Millisecond)
		if d, _ := st.Blocked(ctx, "b"); d != 0 {
			t.Fatalf("block outlived its ttl: %v", d)
		}
		if err := st.Block(ctx, "b", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := st.Reset(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if d, _ := st.Blocked(ctx, "b"); d != 0 {
			t.Fatalf("Reset kept the block: %v", d)
		}
		if err := st.Block(ctx, "b", 0); err == nil {
			t.Fatal("zero ttl accepted")
		}
	})

	t.Run("GetAbsentIsZero", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		get(t, s, "absent", 0)
		allow(t, s, "limiter-only", ratelimit.PerMinute(1, 1))
		get(t, s, "limiter-only", 0)
	})

	t.Run("ConcurrentAllowIsExact", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		lim := ratelimit.PerHour(10, 10) // nothing refills during the test
		const goroutines, attempts = 50, 4
		var (
			mu        sync.Mutex
			remaining []int
			refused   int
			wg        sync.WaitGroup
			start     = make(chan struct{})
		)
		for range goroutines {
			wg.Go(func() {
				<-start
				for range attempts {
					r, err := s.Allow(ctx, "k", lim)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if r.Allowed {
						remaining = append(remaining, r.Remaining)
					} else {
						refused++
					}
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		slices.Sort(remaining)
		if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(remaining, want) || refused != goroutines*attempts-10 {
			t.Fatalf("allowed with remaining %v and %d refused, want %v and %d", remaining, refused, want, goroutines*attempts-10)
		}
	})

	t.Run("ConcurrentIncrIsExact", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		const goroutines = 50
		var (
			mu  sync.Mutex
			got []int64
			wg  sync.WaitGroup
		)
		for range goroutines {
			wg.Go(func() {
				n, err := s.Incr(ctx, "k", time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(got)
		for i, n := range got {
			if n != int64(i+1) {
				t.Fatalf("Incr returned %v, want 1..%d once each", got, goroutines)
			}
		}
		get(t, s, "k", goroutines)
	})

	t.Run("InvalidArguments", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		for _, lim := range []ratelimit.Limit{
			{},
			ratelimit.PerSecond(0, 1),
			ratelimit.PerSecond(1, 0),
			ratelimit.PerSecond(-1, 1),
			{Rate: 1, Burst: 1},
			{Rate: 2_000_000_000, Burst: 1, Period: time.Second}, // interval below 1ns
			{Rate: 1, Burst: 1 << 40, Period: time.Hour},         // burst window overflows
		} {
			if _, err := s.Allow(ctx, "k", lim); !errors.Is(err, ratelimit.ErrInvalidLimit) {
				t.Errorf("Allow(%+v): %v, want ErrInvalidLimit", lim, err)
			}
		}
		for _, ttl := range []time.Duration{0, -time.Second} {
			if _, err := s.Incr(ctx, "k", ttl); !errors.Is(err, ratelimit.ErrInvalidTTL) {
				t.Errorf("Incr(ttl %s): %v, want ErrInvalidTTL", ttl, err)
			}
		}
		get(t, s, "k", 0)
	})
}

func allow(t *testing.T, s ratelimit.Store, key string, lim ratelimit.Limit) ratelimit.Result {
	t.Helper()
	r, err := s.Allow(context.Background(), key, lim)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return r
}

func incr(t *testing.T, s ratelimit.Store, key string, ttl time.Duration, want int64) {
	t.Helper()
	n, err := s.Incr(context.Background(), key, ttl)
	if err != nil || n != want {
		t.Fatalf("Incr(%q) = %d, %v; want %d", key, n, err, want)
	}
}

func get(t *testing.T, s ratelimit.Store, key string, want int64) {
	t.Helper()
	n, err := s.Get(context.Background(), key)
	if err != nil || n != want {
		t.Fatalf("Get(%q) = %d, %v; want %d", key, n, err, want)
	}
}

// within checks want-slack < got <= want.
func within(t *testing.T, what string, got, want time.Duration) {
	t.Helper()
	if got <= want-slack || got > want {
		t.Fatalf("%s = %s, want in (%s, %s]", what, got, want-slack, want)
	}
}

func TestMemory(t *testing.T) {
	testStore(t, func(*testing.T) ratelimit.Store { return ratelimit.NewMemory() })
}

func TestMemoryOneShard(t *testing.T) {
	testStore(t, func(*testing.T) ratelimit.Store { return ratelimit.NewMemoryShards(1, time.Now) })
}

func TestRedis(t *testing.T) {
	client := redisClient(t)
	testStore(t, func(t *testing.T) ratelimit.Store {
		s, _ := newRedis(t, client)
		return s
	})
}

// redisClient connects to MITRA_TEST_REDIS_URL, or skips.
func redisClient(tb testing.TB) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(testenv.RedisURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	client := redis.NewClient(opts)
	tb.Cleanup(func() { _ = client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("redis: %v", err)
	}
	return client
}

// newRedis returns a store under a fresh random prefix, and the prefix; the
// keys under it are deleted when tb ends.
func newRedis(tb testing.TB, client *redis.Client) (*ratelimit.Redis, string) {
	tb.Helper()
	prefix := randomPrefix(tb)
	tb.Cleanup(func() {
		keys := keysUnder(tb, client, prefix)
		if len(keys) > 0 {
			if err := client.Del(context.Background(), keys...).Err(); err != nil {
				tb.Errorf("cleanup: %v", err)
			}
		}
	})
	return ratelimit.NewRedis(client, prefix), prefix
}

func randomPrefix(tb testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return "mitra-test:ratelimit:" + hex.EncodeToString(b) + ":"
}

// keysUnder lists the keys under prefix (which has no glob characters).
func keysUnder(tb testing.TB, client *redis.Client, prefix string) []string {
	tb.Helper()
	var keys []string
	iter := client.Scan(context.Background(), 0, prefix+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Fatalf("scan: %v", err)
	}
	slices.Sort(keys)
	return keys
}

func TestRedisKeysAreUnderPrefix(t *testing.T) {
	client := redisClient(t)
	ctx := context.Background()
	s, prefix := newRedis(t, client)

	allow(t, s, "k", ratelimit.PerMinute(1, 2))
	incr(t, s, "k", 300*time.Millisecond, 1)
	want := []string{prefix + "count:k", prefix + "rate:k"}
	if got := keysUnder(t, client, prefix); !slices.Equal(got, want) {
		t.Fatalf("keys under the prefix: %q, want %q", got, want)
	}
	if n := client.Exists(ctx, "rate:"+prefix+"k", "rate:k").Val(); n != 0 {
		t.Fatalf("%d limiter keys outside the prefix", n)
	}
	// Both keys expire on their own.
	if ttl := client.PTTL(ctx, prefix+"count:k").Val(); ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("counter PTTL %s, want in (0, 300ms]", ttl)
	}
	if ttl := client.PTTL(ctx, prefix+"rate:k").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("limiter PTTL %s, want in (0, 1m]", ttl)
	}
	incr(t, s, "k", time.Hour, 2) // a later increment does not move the expiry
	if ttl := client.PTTL(ctx, prefix+"count:k").Val(); ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("counter PTTL after a second Incr %s, want in (0, 300ms]", ttl)
	}
	if err := s.Reset(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got := keysUnder(t, client, prefix); len(got) != 0 {
		t.Fatalf("keys after Reset: %q", got)
	}
}

func TestRedisError(t *testing.T) {
	// A server that is not there: every method reports the error.
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	defer client.Close()
	s := ratelimit.NewRedis(client, "x:")
	ctx := context.Background()
	if _, err := s.Allow(ctx, "k", ratelimit.PerSecond(1, 1)); err == nil {
		t.Error("Allow: no error")
	}
	if _, err := s.Incr(ctx, "k", time.Second); err == nil {
		t.Error("Incr: no error")
	}
	if _, err := s.Get(ctx, "k"); err == nil {
		t.Error("Get: no error")
	}
	if err := s.Reset(ctx, "k"); err == nil {
		t.Error("Reset: no error")
	}
}

func TestLimit(t *testing.T) {
	for _, c := range []struct {
		got, want ratelimit.Limit
	}{
		{ratelimit.PerSecond(10, 5), ratelimit.Limit{Rate: 10, Burst: 5, Period: time.Second}},
		{ratelimit.PerMinute(3, 1), ratelimit.Limit{Rate: 3, Burst: 1, Period: time.Minute}},
		{ratelimit.PerHour(100, 20), ratelimit.Limit{Rate: 100, Burst: 20, Period: time.Hour}},
	} {
		if c.got != c.want {
			t.Errorf("%+v, want %+v", c.got, c.want)
		}
	}
	if !(ratelimit.Limit{}).IsZero() || ratelimit.PerSecond(1, 1).IsZero() {
		t.Error("IsZero")
	}
	if s := ratelimit.PerMinute(10, 5).String(); s != "10 req/1m0s (burst 5)" {
		t.Errorf("String() = %q", s)
	}
}
