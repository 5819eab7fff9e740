package token

import (
	"hash/maphash"
	"sync"
	"time"
)

// cacheShards spreads the cache over several mutexes so that concurrent
// requests on many cores rarely wait for one another.
const cacheShards = 32

// evictSample is how many entries an insert into a full shard looks at
// when choosing what to drop (Go's map iteration starts at a random
// place, so this is a cheap random sample).
const evictSample = 8

// cacheKey is a seeded hash of the raw token. It only finds the entry: a
// hit also needs the stored token to equal the presented one byte for byte,
// so correctness rests on that comparison, not on the hash resisting
// collisions. maphash costs tens of nanoseconds where SHA-256 of a 600-byte
// token costs hundreds, and the seed is random per cache, so nobody can aim
// tokens at one shard.
type cacheKey uint64

// cacheEntry is a token whose signature, type, issuer and claim shapes
// have been checked, by the key named kid. until is when it stops being
// useful: its exp plus the leeway, after which Verify would refuse it
// anyway.
type cacheEntry struct {
	raw    string
	kid    string
	claims Claims
	until  time.Time
}

// verifiedCache remembers verified tokens. It is bounded (each shard holds
// at most max entries) and starts no goroutines: expired entries are
// dropped when met on lookup or sampled on insert.
type verifiedCache struct {
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	max    int
}

type cacheShard struct {
	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
	_       [48]byte // keep neighbouring shards' mutexes off one cache line
}

// newVerifiedCache returns a cache for about size entries, or nil (no
// caching) when size is not positive.
func newVerifiedCache(size int) *verifiedCache {
	if size <= 0 {
		return nil
	}
	c := &verifiedCache{seed: maphash.MakeSeed(), max: max(1, (size+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].entries = make(map[cacheKey]*cacheEntry)
	}
	return c
}

func (c *verifiedCache) key(raw string) cacheKey {
	return cacheKey(maphash.String(c.seed, raw))
}

func (c *verifiedCache) shard(k cacheKey) *cacheShard {
	return &c.shards[k%cacheShards]
}

// get returns the entry for raw if it is still useful at now. The entry is
// shared and must not be modified.
func (c *verifiedCache) get(raw string, now time.Time) *cacheEntry {
	k := c.key(raw)
	s := c.shard(k)
	s.mu.Lock()
	e := s.entries[k]
	if e != nil && !now.Before(e.until) {
		delete(s.entries, k)
		e = nil
	}
	s.mu.Unlock()
	if e != nil && e.raw != raw {
		return nil // another token with the same hash: verify this one afresh
	}
	return e
}

// put stores e, making room in a full shard by dropping expired entries
// from a small sample, or else one sampled entry.
func (c *verifiedCache) put(e *cacheEntry, now time.Time) {
	k := c.key(e.raw)
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[k]; !ok && len(s.entries) >= c.max {
		var victim *cacheKey
		seen := 0
		for key, old := range s.entries {
			if !now.Before(old.until) {
				delete(s.entries, key)
			} else if victim == nil {
				victim = &key
			}
			if seen++; seen == evictSample {
				break
			}
		}
		if len(s.entries) >= c.max && victim != nil {
			delete(s.entries, *victim)
		}
	}
	s.entries[k] = e
}

// len reports how many entries the cache holds, for tests.
func (c *verifiedCache) len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.Lock()
		n += len(c.shards[i].entries)
		c.shards[i].mu.Unlock()
	}
	return n
}
