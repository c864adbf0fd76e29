package auth

import (
	"sync"
	"time"

	"mitra/internal/platform/access"
)

// tokenCache remembers access tokens whose signature and claims have been
// verified, until they expire, so the apps' repeated requests with one
// token cost one ECDSA verification instead of one each. The revocation
// denylist is still consulted on every request, and the validity window
// is checked against the clock every time.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[string]cachedToken
	max int
}

type cachedToken struct {
	p         access.Principal
	notBefore time.Time
	expiresAt time.Time
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{m: make(map[string]cachedToken), max: max}
}

func (c *tokenCache) get(token string) (cachedToken, bool) {
	c.mu.RLock()
	t, ok := c.m[token]
	c.mu.RUnlock()
	return t, ok
}

func (c *tokenCache) put(token string, t cachedToken, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k, v := range c.m {
			if now.After(v.expiresAt) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			clear(c.m) // still full of live tokens: start over rather than grow
		}
	}
	c.m[token] = t
}
