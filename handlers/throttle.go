package handlers

import (
	"context"
	"net/netip"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// ThrottleStore is what a Throttle counts through: the rate events in the
// database, which every process sharing it counts alike. *models.Store
// satisfies it.
type ThrottleStore interface {
	TakeRateEvent(ctx context.Context, l models.RateLimit, key string, at time.Time) (models.RateTake, error)
	ForgetRateEvent(ctx context.Context, id uint64) error
	CountRateEvents(ctx context.Context, scope, key string, since time.Time) (count int, oldest time.Time, err error)
	ClearRateEvents(ctx context.Context, scope, key string) error
}

// Throttle counts attempts per key (an account, a client address) over a
// sliding window and refuses further attempts once a key reaches its
// limit: failed sign-ins, dynamic client registrations. The counts live
// in the store, not in this process. With several replicas behind a load
// balancer, a key gets limit attempts in all, not limit per replica, and
// a restart forgets nothing. The store keeps the attempts only as long
// as throttling needs them. The record of them is the audit log and the
// registered clients.
type Throttle struct {
	store ThrottleStore
	limit models.RateLimit
	now   func() time.Time
}

// NewThrottle allows limit attempts per key of scope within window.
func NewThrottle(store ThrottleStore, scope string, limit int, window time.Duration) *Throttle {
	return &Throttle{store: store, limit: models.RateLimit{Scope: scope, Limit: limit, Window: window}, now: time.Now}
}

// Blocked reports whether key has used up its attempts, and for how long:
// until the oldest attempt in the window leaves it.
func (t *Throttle) Blocked(ctx context.Context, key string) (bool, time.Duration, error) {
	now := t.now()
	n, oldest, err := t.store.CountRateEvents(ctx, t.limit.Scope, key, now.Add(-t.limit.Window))
	if err != nil || n < t.limit.Limit {
		return false, 0, err
	}
	return true, max(oldest.Add(t.limit.Window).Sub(now), 0), nil
}

// Attempt is one attempt against a key, counted unless Blocked.
type Attempt struct {
	id      uint64
	Blocked bool          // the key had used up its attempts; this one is not counted
	Wait    time.Duration // until the oldest attempt in the window leaves it
}

// Attempt counts an attempt against key if key is under its limit, and
// blocks it if not. The count and the record are one step in the store,
// so of requests sent together, to this process or any other, only limit
// pass. An attempt that cannot be counted is an error, never waved
// through. Sign-in counts each attempt as failed before the password is
// checked, and forgives it when it turns out not to have failed.
func (t *Throttle) Attempt(ctx context.Context, key string) (Attempt, error) {
	take, err := t.store.TakeRateEvent(ctx, t.limit, key, t.now())
	if err != nil {
		return Attempt{}, err
	}
	return Attempt{id: take.ID, Blocked: !take.Allowed, Wait: take.RetryAfter}, nil
}

// Forgive takes back an attempt that did not fail: a right password. A
// blocked attempt was never counted, and forgiving it does nothing.
func (t *Throttle) Forgive(ctx context.Context, a Attempt) error {
	if a.id == 0 {
		return nil
	}
	return t.store.ForgetRateEvent(ctx, a.id)
}

// Reset forgets key's attempts, after a successful sign-in.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	return t.store.ClearRateEvents(ctx, t.limit.Scope, key)
}

// addressKey is what the address throttles count a client address under:
// the address itself for IPv4, its /64 for IPv6, since one host usually
// has a whole /64 to pick addresses from.
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
