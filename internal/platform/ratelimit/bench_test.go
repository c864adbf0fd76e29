package ratelimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"mitra/internal/platform/ratelimit"
)

// always is a limit that every benchmark event passes (one per nanosecond,
// bursts of a second's worth), so each op takes the writing path.
var always = ratelimit.Limit{Rate: 1_000_000_000, Burst: 1_000_000_000, Period: time.Second}

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "user:" + strconv.Itoa(i)
	}
	return keys
}

func benchAllow(b *testing.B, s ratelimit.Store, keys []string) {
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Allow(ctx, keys[i%len(keys)], always); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(next.Add(7919)) // each goroutine starts elsewhere
			for pb.Next() {
				if _, err := s.Allow(ctx, keys[i%len(keys)], always); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

func BenchmarkMemoryAllow(b *testing.B) {
	for _, shards := range []int{1, ratelimit.DefaultShards} {
		for _, nkeys := range []int{1, 10_000} {
			b.Run("shards="+strconv.Itoa(shards)+"/keys="+strconv.Itoa(nkeys), func(b *testing.B) {
				benchAllow(b, ratelimit.NewMemoryShards(shards, time.Now), benchKeys(nkeys))
			})
		}
	}
}

func BenchmarkRedisAllow(b *testing.B) {
	client := redisClient(b)
	for _, nkeys := range []int{1, 10_000} {
		b.Run("keys="+strconv.Itoa(nkeys), func(b *testing.B) {
			s, _ := newRedis(b, client)
			benchAllow(b, s, benchKeys(nkeys))
		})
	}
}
