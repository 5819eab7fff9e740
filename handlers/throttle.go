package handlers

import (
	"sync"
	"time"
)

// Throttle counts failed sign-in attempts per key (an account, an IP) over
// a sliding window and refuses further attempts once a key reaches its
// limit. It lives in memory: a restart forgets it, which is acceptable for
// slowing down guessing, not a record of it (the log is).
type Throttle struct {
	mu       sync.Mutex
	window   time.Duration
	limit    int
	maxKeys  int
	failures map[string][]time.Time
	now      func() time.Time
}

// NewThrottle allows limit failures per key within window.
func NewThrottle(limit int, window time.Duration) *Throttle {
	return &Throttle{
		window:   window,
		limit:    limit,
		maxKeys:  100_000,
		failures: map[string][]time.Time{},
		now:      time.Now,
	}
}

// Blocked reports whether key has used up its attempts, and for how long.
func (t *Throttle) Blocked(key string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	recent := t.recent(key)
	if len(recent) < t.limit {
		return false, 0
	}
	return true, recent[0].Add(t.window).Sub(t.now())
}

// Fail records a failed attempt for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.failures) >= t.maxKeys {
		t.sweep()
	}
	t.failures[key] = append(t.recent(key), t.now())
}

// Reset forgets key's failures, after a successful sign-in.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, key)
}

// recent drops the failures of key older than the window.
func (t *Throttle) recent(key string) []time.Time {
	cutoff := t.now().Add(-t.window)
	ts := t.failures[key]
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	if i == len(ts) {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = ts[i:]
	return ts[i:]
}

// sweep bounds memory under a flood of distinct keys: expired keys go
// first, and if that is not enough, everything does.
func (t *Throttle) sweep() {
	for k := range t.failures {
		t.recent(k)
	}
	if len(t.failures) >= t.maxKeys {
		clear(t.failures)
	}
}
