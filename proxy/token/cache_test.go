package token

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestCacheSkipsSignature proves a repeat token is served from the cache:
// with the kid made to name a wrong key, only the token seen before still
// verifies.
func TestCacheSkipsSignature(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	iss := newIssuerAt(t, ks, t0)
	seen, _ := issue(t, iss, routeA)
	unseen, _ := issue(t, iss, routeA)
	v := newVerifierAt(ks, t0, VerifierOptions{})
	if _, err := v.Verify(seen, routeA, notRevoked); err != nil {
		t.Fatal(err)
	}
	v.keys = &KeySet{public: map[string]*ecdsa.PublicKey{ks.KeyID(): &newKey(t).PublicKey}}
	if _, err := v.Verify(seen, routeA, notRevoked); err != nil {
		t.Fatalf("cached token: %v", err)
	}
	if _, err := v.Verify(unseen, routeA, notRevoked); !errors.Is(err, ErrSignature) {
		t.Fatalf("uncached token under a wrong key: err = %v, want ErrSignature", err)
	}
	v.keys = (*KeySet)(nil)
	if _, err := v.Verify(seen, routeA, notRevoked); !errors.Is(err, ErrSignature) {
		t.Fatalf("cached token whose key is gone: err = %v, want ErrSignature", err)
	}

	cold := newVerifierAt(ks, t0, VerifierOptions{CacheSize: -1})
	if _, err := cold.Verify(seen, routeA, notRevoked); err != nil || cold.cache != nil {
		t.Fatalf("CacheSize -1: err = %v, cache = %v", err, cold.cache)
	}
}

func TestCacheBounded(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	iss := newIssuerAt(t, ks, t0)
	const size = 64
	v := newVerifierAt(ks, t0, VerifierOptions{CacheSize: size})
	for i := range 10 * size {
		raw, _ := issue(t, iss, routeA)
		if _, err := v.Verify(raw, routeA, notRevoked); err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	if n, limit := v.cache.len(), cacheShards*v.cache.max; n > limit {
		t.Fatalf("cache holds %d entries, bound is %d", n, limit)
	}
}

func TestCacheEvictsExpiredFirst(t *testing.T) {
	c := newVerifiedCache(1) // one entry per shard
	// Two tokens that land in the same shard.
	first := &cacheEntry{raw: "token-0", until: t0}
	second := &cacheEntry{until: t0.Add(time.Hour)}
	for i := 1; second.raw == ""; i++ {
		if raw := fmt.Sprint("token-", i); c.shard(c.key(raw)) == c.shard(c.key(first.raw)) {
			second.raw = raw
		}
	}
	now := t0.Add(time.Minute)
	c.put(first, t0.Add(-time.Minute))
	c.put(second, now)
	if c.get(first.raw, now) != nil || c.get(second.raw, now) != second {
		t.Fatal("full shard did not make room by dropping the expired entry")
	}
	if c.get(second.raw, t0.Add(time.Hour)) != nil || c.len() != 0 {
		t.Fatal("entry outlived its expiry")
	}
}

// TestCacheHashCollision forces two tokens onto one key: the second must
// not be served the first one's claims.
func TestCacheHashCollision(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	iss := newIssuerAt(t, ks, t0)
	genuine, _ := issue(t, iss, routeA)
	v := newVerifierAt(ks, t0, VerifierOptions{})
	if _, err := v.Verify(genuine, routeA, notRevoked); err != nil {
		t.Fatal(err)
	}
	forged := signES256(t, newKey(t), goodHeader(t, newKey(t)), goodPayload())
	gk, fk := v.cache.key(genuine), v.cache.key(forged)
	// File the genuine entry under the forgery's key too, as if the
	// hashes collided.
	v.cache.shard(fk).entries[fk] = v.cache.shard(gk).entries[gk]
	if _, err := v.Verify(forged, routeA, notRevoked); !errors.Is(err, ErrSignature) {
		t.Fatalf("colliding forgery: err = %v, want ErrSignature", err)
	}
}

// TestVerifyConcurrent runs many goroutines over more tokens than the cache
// holds, so lookups, inserts and evictions race; run it with -race.
func TestVerifyConcurrent(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	iss := newIssuerAt(t, ks, t0)
	v := newVerifierAt(ks, t0, VerifierOptions{CacheSize: 40})

	tokens := make([]string, 100)
	var revoked sync.Map
	for i := range tokens {
		aud := routeA
		if i%2 == 1 {
			aud = routeB
		}
		var c Claims
		tokens[i], c = issue(t, iss, aud)
		if i == 0 {
			revoked.Store(c.ID, true)
		}
	}
	isRevoked := func(jti string) bool { _, ok := revoked.Load(jti); return ok }

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 400 {
				n := (g*7 + i) % len(tokens)
				want := error(nil)
				resource := routeA
				if n%2 == 1 {
					resource = routeB
				}
				switch {
				case i%5 == 0: // a route no token is for
					resource, want = routeB+routeA, ErrAudience
				case n == 0:
					want = ErrRevoked
				}
				_, err := v.Verify(tokens[n], resource, isRevoked)
				if !errors.Is(err, want) || (want == nil) != (err == nil) {
					errs <- fmt.Errorf("goroutine %d, token %d: err = %v, want %v", g, n, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
