package handlers

import (
	"context"
	"time"
)

// ThrottleStore is what a Throttle counts through: the failed sign-in
// attempts in the database, which every process sharing it counts alike.
// *models.Store satisfies it.
type ThrottleStore interface {
	RecordSignInFailure(ctx context.Context, scope, key string, at time.Time) error
	SignInFailures(ctx context.Context, scope, key string, since time.Time) (count int, oldest time.Time, err error)
	ClearSignInFailures(ctx context.Context, scope, key string) error
}

// Throttle counts failed sign-in attempts per key (an account, an IP) over
// a sliding window and refuses further attempts once a key reaches its
// limit. The counts live in the store, not in this process: with several
// replicas behind a load balancer, a guesser gets limit attempts in all,
// not limit per replica. The store keeps the attempts only as long as
// throttling needs them; the record of them is the audit log.
type Throttle struct {
	store  ThrottleStore
	scope  string // models.SignInScopeAccount or models.SignInScopeAddress
	limit  int
	window time.Duration
	now    func() time.Time
}

// NewThrottle allows limit failures per key of scope within window.
func NewThrottle(store ThrottleStore, scope string, limit int, window time.Duration) *Throttle {
	return &Throttle{store: store, scope: scope, limit: limit, window: window, now: time.Now}
}

// Blocked reports whether key has used up its attempts, and for how long:
// until the oldest failure in the window leaves it.
func (t *Throttle) Blocked(ctx context.Context, key string) (bool, time.Duration, error) {
	now := t.now()
	n, oldest, err := t.store.SignInFailures(ctx, t.scope, key, now.Add(-t.window))
	if err != nil || n < t.limit {
		return false, 0, err
	}
	return true, max(oldest.Add(t.window).Sub(now), 0), nil
}

// Fail records a failed attempt for key.
func (t *Throttle) Fail(ctx context.Context, key string) error {
	return t.store.RecordSignInFailure(ctx, t.scope, key, t.now())
}

// Reset forgets key's failures, after a successful sign-in.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	return t.store.ClearSignInFailures(ctx, t.scope, key)
}
