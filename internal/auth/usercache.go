package auth

import (
	"sync"
	"time"
)

// userCache keeps recently read accounts for userCacheTTL, so the apps'
// frequent GET /api/v1/auth/me does not read the database each time. This
// node forgets an account whenever it changes it; a change made on another
// node shows here within the TTL. Security does not depend on it: a role or
// status change ends the user's sessions, which every node refuses at once.
type userCache struct {
	mu sync.Mutex
	m  map[string]cachedUser
}

type cachedUser struct {
	u  User
	at time.Time
}

const userCacheTTL = 2 * time.Second

func (c *userCache) get(id string, now time.Time) (*User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || now.Sub(e.at) > userCacheTTL {
		return nil, false
	}
	u := e.u
	return &u, true
}

func (c *userCache) put(u *User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 50_000 {
		c.m = map[string]cachedUser{}
	}
	c.m[u.ID] = cachedUser{u: *u, at: now}
}

func (c *userCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
