package handlers

import (
	"context"
	"time"
)

// ThrottleStore is what a Throttle counts through: the failed sign-in
// attempts in the database, which every process sharing it counts alike.
// *models.Store satisfies it.
type ThrottleStore interface {
	RecordSignInFailure(ctx context.Context, scope, key string, at time.Time) (uint64, error)
	ForgetSignInFailure(ctx context.Context, id uint64) error
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

// Attempt is one sign-in attempt counted against a key.
type Attempt struct {
	id      uint64
	Blocked bool          // the key was over its limit with this attempt
	Wait    time.Duration // until the oldest failure in the window leaves it
}

// Attempt counts an attempt against key as failed before the password is
// checked, then counts the key's failures: requests sent together cannot
// all pass the count before any failure is written, and a failure that
// cannot be written is an error, never an uncounted guess. Forgive the
// attempt when it turns out not to have failed (or was refused unseen).
func (t *Throttle) Attempt(ctx context.Context, key string) (Attempt, error) {
	now := t.now()
	id, err := t.store.RecordSignInFailure(ctx, t.scope, key, now)
	if err != nil {
		return Attempt{}, err
	}
	n, oldest, err := t.store.SignInFailures(ctx, t.scope, key, now.Add(-t.window))
	if err != nil {
		return Attempt{id: id}, err
	}
	a := Attempt{id: id, Blocked: n > t.limit}
	if a.Blocked {
		a.Wait = max(oldest.Add(t.window).Sub(now), 0)
	}
	return a, nil
}

// Forgive takes back an attempt that did not fail: a right password, or
// one refused by the throttle without being checked.
func (t *Throttle) Forgive(ctx context.Context, a Attempt) error {
	if a.id == 0 {
		return nil
	}
	return t.store.ForgetSignInFailure(ctx, a.id)
}

// Reset forgets key's failures, after a successful sign-in.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	return t.store.ClearSignInFailures(ctx, t.scope, key)
}
