package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Memory is a Store in this process's memory, for a single node. It is safe
// for concurrent use.
//
// Allow mirrors the arithmetic of redis_rate's script in integer
// nanoseconds. State is spread over 32 shards, each behind its own mutex (on
// two cores one mutex measured the same; shards keep each sweep to a 32nd of
// the keys and leave room for more cores). Expired entries are swept lazily:
// a shard sweeps itself once it has seen as many writes as it kept entries at
// its last sweep (and at least sweepMin), so sweeping costs O(1) per write
// amortised and a shard holds at most about twice its live entries plus
// sweepMin. Nothing runs in the background and there is nothing to close.
type Memory struct {
	clock  func() time.Time
	base   time.Time // times are kept as nanoseconds since base
	seed   maphash.Seed
	mask   uint64
	shards []shard
}

// entry is the state of one key: limiter and counter together, so that
// Reset is one delete.
type entry struct {
	tat      int64 // theoretical arrival time; no limiter state when <= now
	count    int64 // counter value, valid until countExp
	countExp int64 // when the counter expires; no counter when <= now
	blockExp int64 // when the block ends; not blocked when <= now
}

func (e entry) dead(now int64) bool { return e.tat <= now && e.countExp <= now && e.blockExp <= now }

// shard is one lock's share of the keys, padded to a 64-byte cache line so
// that neighbouring locks do not contend.
type shard struct {
	mu     sync.Mutex
	m      map[string]entry
	writes int // writes since the last sweep
	due    int // sweep when writes reaches due
	peak   int // largest len(m) since the map was made
	_      [24]byte
}

const (
	defaultShards = 32
	sweepMin      = 256
)

// NewMemory returns an empty Memory store that reads the time from
// time.Now.
func NewMemory() *Memory { return newMemory(defaultShards, time.Now) }

// NewMemoryWithClock returns an empty Memory store that reads the time from
// now, for tests that move the clock by hand. now must never go backwards.
func NewMemoryWithClock(now func() time.Time) *Memory {
	return newMemory(defaultShards, now)
}

// newMemory returns a store of n shards; n is rounded up to a power of two.
func newMemory(n int, clock func() time.Time) *Memory {
	size := 1
	for size < n {
		size *= 2
	}
	m := &Memory{
		clock:  clock,
		base:   clock(),
		seed:   maphash.MakeSeed(),
		mask:   uint64(size - 1),
		shards: make([]shard, size),
	}
	for i := range m.shards {
		m.shards[i].m = make(map[string]entry)
		m.shards[i].due = sweepMin
	}
	return m
}

// now returns the time in nanoseconds since m.base; the monotonic clock
// reading of time.Now makes it immune to wall-clock jumps.
func (m *Memory) now() int64 { return int64(m.clock().Sub(m.base)) }

func (m *Memory) shard(key string) *shard {
	if m.mask == 0 {
		return &m.shards[0]
	}
	return &m.shards[maphash.String(m.seed, key)&m.mask]
}

// Allow takes one event for key under limit. It returns ErrInvalidLimit
// for a limit that is not positive; ctx is not used.
func (m *Memory) Allow(_ context.Context, key string, limit Limit) (Result, error) {
	emission, burstOffset, err := limit.intervals()
	if err != nil {
		return Result{}, err
	}
	ei, bo := int64(emission), int64(burstOffset)

	s := m.shard(key)
	s.mu.Lock()
	now := m.now() // read under the lock, as the script reads TIME: per key, time never runs backwards
	e := s.m[key]
	tat := max(e.tat, now)
	newTat := tat + ei
	diff := now - (newTat - bo)
	if diff < 0 {
		s.mu.Unlock()
		return Result{
			Limit:      limit,
			RetryAfter: time.Duration(-diff),
			ResetAfter: time.Duration(tat - now),
		}, nil
	}
	e.tat = newTat
	s.put(key, e, now)
	s.mu.Unlock()
	return Result{
		Limit:      limit,
		Allowed:    true,
		Remaining:  int(diff / ei),
		ResetAfter: time.Duration(newTat - now),
	}, nil
}

// Incr adds one to the counter at key and returns the new value. The
// counter expires ttl (rounded up to a millisecond) after the increment that
// created it. It returns ErrInvalidTTL for a ttl that is not positive.
func (m *Memory) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return 0, err
	}
	s := m.shard(key)
	s.mu.Lock()
	now := m.now()
	e := s.m[key]
	if e.countExp <= now {
		e.count = 0
		e.countExp = now + ms*int64(time.Millisecond)
	}
	e.count++
	s.put(key, e, now)
	s.mu.Unlock()
	return e.count, nil
}

// Get returns the counter's value, 0 when absent or expired.
func (m *Memory) Get(_ context.Context, key string) (int64, error) {
	s := m.shard(key)
	s.mu.Lock()
	e, ok := s.m[key]
	now := m.now()
	s.mu.Unlock()
	if !ok || e.countExp <= now {
		return 0, nil
	}
	return e.count, nil
}

// Block marks key blocked for ttl. It returns ErrInvalidTTL for a ttl that
// is not positive.
func (m *Memory) Block(_ context.Context, key string, ttl time.Duration) error {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return err
	}
	s := m.shard(key)
	s.mu.Lock()
	now := m.now()
	e := s.m[key]
	e.blockExp = now + ms*int64(time.Millisecond)
	s.put(key, e, now)
	s.mu.Unlock()
	return nil
}

// Blocked returns how long key stays blocked, 0 when it is not.
func (m *Memory) Blocked(_ context.Context, key string) (time.Duration, error) {
	s := m.shard(key)
	s.mu.Lock()
	e, ok := s.m[key]
	now := m.now()
	s.mu.Unlock()
	if !ok || e.blockExp <= now {
		return 0, nil
	}
	return time.Duration(e.blockExp - now), nil
}

// Reset removes the limiter state, the counter and the block of key.
func (m *Memory) Reset(_ context.Context, key string) error {
	s := m.shard(key)
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
	return nil
}

// put stores e under key and sweeps the shard when it is due. s.mu is held.
func (s *shard) put(key string, e entry, now int64) {
	s.m[key] = e
	s.writes++
	if n := len(s.m); n > s.peak {
		s.peak = n
	}
	if s.writes >= s.due {
		s.sweep(now)
	}
}

// sweep deletes dead entries and schedules the next sweep after as many
// writes as there are entries left (at least sweepMin). A Go map keeps its
// buckets after deletes, so when the shard has shrunk to a quarter of its
// peak, the live entries are copied into a fresh map and the old one is
// released. s.mu is held.
func (s *shard) sweep(now int64) {
	s.writes = 0
	for k, e := range s.m {
		if e.dead(now) {
			delete(s.m, k)
		}
	}
	if n := len(s.m); s.peak > 4*sweepMin && n < s.peak/4 {
		fresh := make(map[string]entry, n)
		for k, e := range s.m {
			fresh[k] = e
		}
		s.m = fresh
		s.peak = n
	}
	s.due = max(sweepMin, len(s.m))
}

// len returns the number of entries held, live or not yet swept.
func (m *Memory) len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
