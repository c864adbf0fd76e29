// Package ratelimit limits how often an event may happen per key (an IP, a
// phone number, an account) and counts events in fixed windows.
//
// The limiter is GCRA (the generic cell rate algorithm) with the semantics of
// github.com/go-redis/redis_rate/v10: a Limit allows Rate events per Period,
// spaced one emission interval (Period/Rate) apart, and tolerates bursts of up
// to Burst events. A refused event does not count against the key.
//
// Two Stores hold the state: Memory, for a single node, and Redis, shared by
// every node. Redis runs redis_rate's own script; Memory mirrors that script's
// arithmetic in Go, and one test suite checks both against the same numbers.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Limit allows Rate events per Period with bursts of up to Burst events
// (GCRA, as github.com/go-redis/redis_rate/v10). The zero Limit is not a
// valid argument to Allow; callers use IsZero to mean "no limit".
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// PerSecond returns a Limit of rate events per second with bursts of burst.
func PerSecond(rate, burst int) Limit {
	return Limit{Rate: rate, Burst: burst, Period: time.Second}
}

// PerMinute returns a Limit of rate events per minute with bursts of burst.
func PerMinute(rate, burst int) Limit {
	return Limit{Rate: rate, Burst: burst, Period: time.Minute}
}

// PerHour returns a Limit of rate events per hour with bursts of burst.
func PerHour(rate, burst int) Limit {
	return Limit{Rate: rate, Burst: burst, Period: time.Hour}
}

// IsZero reports whether l is the zero Limit.
func (l Limit) IsZero() bool { return l == Limit{} }

// String returns l as "10 req/1m0s (burst 5)".
func (l Limit) String() string {
	return fmt.Sprintf("%d req/%s (burst %d)", l.Rate, l.Period, l.Burst)
}

// ErrInvalidLimit is returned by Allow for a Limit whose Rate, Burst or
// Period is not positive, or whose emission interval (Period/Rate) is below
// one nanosecond or whose burst window (Period/Rate*Burst) overflows.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// ErrInvalidTTL is returned by Incr for a ttl that is not positive.
var ErrInvalidTTL = errors.New("ratelimit: ttl must be positive")

// intervals validates l and returns its emission interval (the spacing
// between events at the sustained rate) and burst offset (how far the
// theoretical arrival time may run ahead of now).
func (l Limit) intervals() (emission, burstOffset time.Duration, err error) {
	if l.Rate <= 0 || l.Burst <= 0 || l.Period <= 0 {
		return 0, 0, fmt.Errorf("%w: %s", ErrInvalidLimit, l)
	}
	emission = l.Period / time.Duration(l.Rate)
	if emission <= 0 || int64(l.Burst) > math.MaxInt64/int64(emission) {
		return 0, 0, fmt.Errorf("%w: %s", ErrInvalidLimit, l)
	}
	return emission, emission * time.Duration(l.Burst), nil
}

// Result is the outcome of one Allow call.
type Result struct {
	// Limit is the limit the event was checked against.
	Limit Limit
	// Allowed reports whether the event may happen; a refused event is
	// not counted.
	Allowed bool
	// Remaining is how many more events are allowed right now.
	Remaining int
	// RetryAfter is, when the event was refused, how long until one event
	// is allowed; it is 0 when the event was allowed.
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to a full burst.
	ResetAfter time.Duration
}

// Store keeps limiter and counter state, in memory for one node (Memory) or
// in Redis shared by many (Redis). Limiter state and counter of the same key
// are separate; Reset removes both.
type Store interface {
	// Allow takes one event for key under limit.
	Allow(ctx context.Context, key string, limit Limit) (Result, error)
	// Incr adds one to the counter at key and returns the new value; the
	// counter expires ttl after its FIRST increment (a fixed window). The
	// ttl is rounded up to a whole millisecond.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Get returns the counter's value (0 when absent or expired).
	Get(ctx context.Context, key string) (int64, error)
	// Reset removes the limiter state, the counter and the block of key.
	Reset(ctx context.Context, key string) error
	// Block marks key blocked for ttl (rounded up to a millisecond),
	// replacing any earlier block.
	Block(ctx context.Context, key string, ttl time.Duration) error
	// Blocked returns how long key stays blocked (0 when it is not).
	Blocked(ctx context.Context, key string) (time.Duration, error)
}

// ttlMillis validates ttl and rounds it up to whole milliseconds, the
// resolution of Redis's PEXPIRE, so that both stores expire at the same time.
func ttlMillis(ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("%w: %s", ErrInvalidTTL, ttl)
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	return ms, nil
}
