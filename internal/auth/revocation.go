package auth

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Revocations is the denylist of sessions whose access tokens must be
// refused before they expire. Entries are kept until the last token of the
// session has expired.
type Revocations interface {
	// Revoke denies the session's tokens until the given time.
	Revoke(ctx context.Context, sessionID string, until time.Time) error
	// Revoked reports whether the session is denied. It never blocks on
	// the network: it is called on every authenticated request.
	Revoked(sessionID string) bool
}

// MemoryRevocations is the denylist of a single node.
type MemoryRevocations struct {
	now   func() time.Time
	mu    sync.RWMutex
	until map[string]time.Time
	adds  int
}

// NewMemoryRevocations returns an empty denylist.
func NewMemoryRevocations(now func() time.Time) *MemoryRevocations {
	return &MemoryRevocations{now: now, until: map[string]time.Time{}}
}

// Revoke implements Revocations.
func (m *MemoryRevocations) Revoke(_ context.Context, sid string, until time.Time) error {
	m.add(sid, until)
	return nil
}

func (m *MemoryRevocations) add(sid string, until time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.until[sid]; !ok || until.After(cur) {
		m.until[sid] = until
	}
	m.adds++
	if m.adds%256 == 0 { // sweep expired entries now and then
		now := m.now()
		for k, u := range m.until {
			if now.After(u) {
				delete(m.until, k)
			}
		}
	}
}

// Revoked implements Revocations.
func (m *MemoryRevocations) Revoked(sid string) bool {
	m.mu.RLock()
	u, ok := m.until[sid]
	m.mu.RUnlock()
	return ok && m.now().Before(u)
}

// RedisRevocations shares the denylist between nodes: a revocation is
// stored in a Redis sorted set (score: expiry) and published; every node
// keeps a local copy, filled from the set when it (re)subscribes and
// updated from the channel, so checking a token costs no round trip and a
// revocation on one node reaches the others within milliseconds.
type RedisRevocations struct {
	local  *MemoryRevocations
	rdb    *redis.Client
	key    string
	ch     string
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
	ready  chan struct{}

	mu  sync.Mutex
	sub *redis.PubSub // the live subscription, closed by Close to unblock reads
}

// NewRedisRevocations starts following the shared denylist under prefix.
// Close stops it.
func NewRedisRevocations(rdb *redis.Client, prefix string, now func() time.Time, log *slog.Logger) *RedisRevocations {
	ctx, cancel := context.WithCancel(context.Background())
	r := &RedisRevocations{
		local: NewMemoryRevocations(now), rdb: rdb, key: prefix + "revoked_sessions", ch: prefix + "revocations",
		log: log, cancel: cancel, done: make(chan struct{}), ready: make(chan struct{}),
	}
	go r.follow(ctx)
	return r
}

// Ready is closed once the first load from Redis has completed.
func (r *RedisRevocations) Ready() <-chan struct{} { return r.ready }

// Close stops following the channel.
func (r *RedisRevocations) Close() {
	r.cancel()
	r.mu.Lock()
	if r.sub != nil {
		_ = r.sub.Close() // a blocked read does not watch the context
	}
	r.mu.Unlock()
	<-r.done
}

// Revoke implements Revocations: local first, then shared.
func (r *RedisRevocations) Revoke(ctx context.Context, sid string, until time.Time) error {
	r.local.add(sid, until)
	pipe := r.rdb.TxPipeline()
	pipe.ZAdd(ctx, r.key, redis.Z{Score: float64(until.Unix()), Member: sid})
	pipe.Publish(ctx, r.ch, sid+" "+strconv.FormatInt(until.Unix(), 10))
	_, err := pipe.Exec(ctx)
	return err
}

// Revoked implements Revocations from the local copy.
func (r *RedisRevocations) Revoked(sid string) bool { return r.local.Revoked(sid) }

func (r *RedisRevocations) follow(ctx context.Context) {
	defer close(r.done)
	readyOnce := sync.OnceFunc(func() { close(r.ready) })
	defer readyOnce()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		sub := r.rdb.Subscribe(ctx, r.ch)
		r.mu.Lock()
		r.sub = sub
		r.mu.Unlock()
		if ctx.Err() != nil { // Close ran before the subscription was recorded
			_ = sub.Close()
			return
		}
		// Subscribe first, then load: nothing published in between is lost.
		if _, err := sub.Receive(ctx); err == nil && r.loadAll(ctx) == nil {
			readyOnce()
			backoff = 100 * time.Millisecond
			r.consume(ctx, sub)
		}
		_ = sub.Close()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func (r *RedisRevocations) loadAll(ctx context.Context) error {
	now := r.local.now().Unix()
	r.rdb.ZRemRangeByScore(ctx, r.key, "-inf", strconv.FormatInt(now, 10))
	zs, err := r.rdb.ZRangeByScoreWithScores(ctx, r.key, &redis.ZRangeBy{Min: strconv.FormatInt(now, 10), Max: "+inf"}).Result()
	if err != nil {
		r.log.Warn("revocations: cannot load from Redis", "err", err)
		return err
	}
	for _, z := range zs {
		if sid, ok := z.Member.(string); ok {
			r.local.add(sid, time.Unix(int64(z.Score), 0))
		}
	}
	return nil
}

func (r *RedisRevocations) consume(ctx context.Context, sub *redis.PubSub) {
	for {
		msg, err := sub.ReceiveMessage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("revocations: Redis subscription lost; reconnecting", "err", err)
			}
			return
		}
		sid, unix, ok := strings.Cut(msg.Payload, " ")
		if !ok {
			continue
		}
		if sec, err := strconv.ParseInt(unix, 10, 64); err == nil {
			r.local.add(sid, time.Unix(sec, 0))
		}
	}
}
