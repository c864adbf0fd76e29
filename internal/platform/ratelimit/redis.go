package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	redisrate "github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Redis is a Store in Redis, shared by every node that uses the same
// server and prefix. It is safe for concurrent use.
//
// Allow runs redis_rate's GCRA script, atomic on the server and timed by the
// server's clock. Every key is under the prefix: the limiter of key k is at
// prefix+"rate:"+k (redis_rate's own naming, moved under the prefix) and its
// counter at prefix+"count:"+k. Limiter keys expire by themselves once the
// key is back to a full burst, counters when their window ends.
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	limiter *redisrate.Limiter
}

// NewRedis returns a Store that keeps its state in client, every key under
// prefix (for example "mitra:ratelimit:").
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{
		client:  client,
		prefix:  prefix,
		limiter: redisrate.NewLimiter(prefixed{client, prefix}),
	}
}

// Allow takes one event for key under limit. It returns ErrInvalidLimit
// for a limit that is not positive, without asking Redis.
func (r *Redis) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	if _, _, err := limit.intervals(); err != nil {
		return Result{}, err
	}
	res, err := r.limiter.Allow(ctx, key, redisrate.Limit(limit))
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: allow: %w", err)
	}
	out := Result{
		Limit:      limit,
		Allowed:    res.Allowed > 0,
		Remaining:  res.Remaining,
		ResetAfter: res.ResetAfter,
	}
	if !out.Allowed {
		out.RetryAfter = res.RetryAfter // redis_rate says -1 when allowed; we say 0
	}
	return out, nil
}

// incr increments a counter and, when that created it, sets its expiry in
// the same atomic step, so a counter can never be left without one.
var incr = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then
  redis.call("PEXPIRE", KEYS[1], ARGV[1])
end
return n
`)

// Incr adds one to the counter at key and returns the new value. The
// counter expires ttl (rounded up to a millisecond) after the increment that
// created it. It returns ErrInvalidTTL for a ttl that is not positive.
func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return 0, err
	}
	n, err := incr.Run(ctx, r.client, []string{r.counterKey(key)}, ms).Int64()
	if err != nil {
		return 0, fmt.Errorf("ratelimit: incr: %w", err)
	}
	return n, nil
}

// Get returns the counter's value, 0 when absent or expired.
func (r *Redis) Get(ctx context.Context, key string) (int64, error) {
	n, err := r.client.Get(ctx, r.counterKey(key)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ratelimit: get: %w", err)
	}
	return n, nil
}

// Reset removes the limiter state, the counter and the block of key.
func (r *Redis) Reset(ctx context.Context, key string) error {
	// Two commands (redis_rate names its own key), each idempotent.
	if err := r.limiter.Reset(ctx, key); err != nil {
		return fmt.Errorf("ratelimit: reset: %w", err)
	}
	if err := r.client.Del(ctx, r.counterKey(key), r.blockKey(key)).Err(); err != nil {
		return fmt.Errorf("ratelimit: reset: %w", err)
	}
	return nil
}

// Block marks key blocked for ttl (SET with PX).
func (r *Redis) Block(ctx context.Context, key string, ttl time.Duration) error {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return err
	}
	if err := r.client.Set(ctx, r.blockKey(key), 1, time.Duration(ms)*time.Millisecond).Err(); err != nil {
		return fmt.Errorf("ratelimit: block: %w", err)
	}
	return nil
}

// Blocked returns the block's remaining time (PTTL), 0 when not blocked.
func (r *Redis) Blocked(ctx context.Context, key string) (time.Duration, error) {
	d, err := r.client.PTTL(ctx, r.blockKey(key)).Result()
	if err != nil {
		return 0, fmt.Errorf("ratelimit: blocked: %w", err)
	}
	if d < 0 { // -2: no key; -1: no expiry (never written so)
		return 0, nil
	}
	return d, nil
}

func (r *Redis) counterKey(key string) string { return r.prefix + "count:" + key }

func (r *Redis) blockKey(key string) string { return r.prefix + "block:" + key }

// prefixed is the client as redis_rate sees it: the commands it uses, with
// prefix put in front of every key it names.
type prefixed struct {
	c      redis.UniversalClient
	prefix string
}

func (p prefixed) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p.prefix + k
	}
	return out
}

// Eval runs a script on the prefixed keys.
func (p prefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.c.Eval(ctx, script, p.keys(keys), args...)
}

// EvalSha runs a cached script on the prefixed keys.
func (p prefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.c.EvalSha(ctx, sha1, p.keys(keys), args...)
}

// EvalRO runs a read-only script on the prefixed keys.
func (p prefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return p.c.EvalRO(ctx, script, p.keys(keys), args...)
}

// EvalShaRO runs a cached read-only script on the prefixed keys.
func (p prefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return p.c.EvalShaRO(ctx, sha1, p.keys(keys), args...)
}

// ScriptExists names no keys.
func (p prefixed) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return p.c.ScriptExists(ctx, hashes...)
}

// ScriptLoad names no keys.
func (p prefixed) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return p.c.ScriptLoad(ctx, script)
}

// Del deletes the prefixed keys.
func (p prefixed) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	return p.c.Del(ctx, p.keys(keys)...)
}

var (
	_ Store = (*Memory)(nil)
	_ Store = (*Redis)(nil)
)
