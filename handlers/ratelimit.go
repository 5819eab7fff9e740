package handlers

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// addressKey is what RateLimiter counts a client address under: the
// address itself for IPv4, its /64 for IPv6, since one host usually has
// a whole /64 to pick addresses from.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// RateLimiter allows each key (a client address) one event per interval,
// with bursts, in memory: a restart forgets it, and each replica keeps
// its own. It slows down a flood; it is not an account of one.
type RateLimiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	maxKeys int
	keys    map[string]*rate.Limiter
	now     func() time.Time
}

// NewRateLimiter allows one event per interval per key, and up to burst
// at once after a quiet spell.
func NewRateLimiter(interval time.Duration, burst int) *RateLimiter {
	return &RateLimiter{
		limit:   rate.Every(interval),
		burst:   burst,
		maxKeys: 100_000,
		keys:    map[string]*rate.Limiter{},
		now:     time.Now,
	}
}

// Allow takes one event for key if it may have one now; if not, it
// reports how long until it may. A nil RateLimiter allows everything.
func (l *RateLimiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	lim, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.maxKeys {
			l.sweep(now)
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.keys[key] = lim
	}
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Minute
	}
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// sweep bounds memory under a flood of distinct keys: keys whose bucket
// has filled up again are as good as new and go first; if that is not
// enough, everything does.
func (l *RateLimiter) sweep(now time.Time) {
	for k, lim := range l.keys {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= l.maxKeys {
		clear(l.keys)
	}
}
