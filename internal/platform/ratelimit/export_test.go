package ratelimit

// Internals for the external test package.

// NewMemoryShards returns a Memory of n shards.
var NewMemoryShards = newMemory

const (
	DefaultShards = defaultShards
	SweepMin      = sweepMin
)

// Len returns the number of entries held, live or not yet swept.
func (m *Memory) Len() int { return m.len() }

// Shards returns the number of shards.
func (m *Memory) Shards() int { return len(m.shards) }
