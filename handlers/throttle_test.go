package handlers

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

var _ ThrottleStore = (*models.Store)(nil)

// clock is a settable time for a Throttle's now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// newTestThrottle is a Throttle of scope on store, reading the time from
// c.
func newTestThrottle(store ThrottleStore, scope string, limit int, window time.Duration, c *clock) *Throttle {
	th := NewThrottle(store, scope, limit, window)
	th.now = c.now
	return th
}

// blocked is Throttle.Blocked, failing the test on error.
func blocked(t *testing.T, th *Throttle, key string) (bool, time.Duration) {
	t.Helper()
	b, wait, err := th.Blocked(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return b, wait
}

// fail is a Throttle.Attempt that fails, failing the test on error.
func fail(t *testing.T, th *Throttle, key string) Attempt {
	t.Helper()
	a, err := th.Attempt(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestThrottle(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	th := newTestThrottle(newTestStore(t), models.SignInScopeAccount, 3, time.Minute, c)

	for range 3 {
		if b, _ := blocked(t, th, "a"); b {
			t.Fatal("blocked before the limit")
		}
		fail(t, th, "a")
		c.advance(10 * time.Second)
	}
	if b, wait := blocked(t, th, "a"); !b || wait != 30*time.Second {
		t.Fatalf("after 3 failures: blocked=%v wait=%v, want blocked for 30s", b, wait)
	}
	if b, _ := blocked(t, th, "b"); b {
		t.Error("another key is blocked too")
	}
	if a := fail(t, th, "a"); !a.Blocked || a.Wait != 30*time.Second {
		t.Fatalf("an attempt at the limit: %+v, want blocked for 30s", a)
	}
	c.advance(31 * time.Second)
	if b, _ := blocked(t, th, "a"); b {
		t.Error("still blocked after the window slid past the first failure (or the blocked attempt counted)")
	}
	fail(t, th, "a")
	if err := th.Reset(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Second)
	fail(t, th, "a")
	fail(t, th, "a")
	if b, _ := blocked(t, th, "a"); b {
		t.Error("blocked by failures from before the reset")
	}
}

// The account and the address throttles count apart, even for one key.
func TestThrottleScopesApart(t *testing.T) {
	store := newTestStore(t)
	c := &clock{t: time.Unix(1_000_000, 0)}
	accounts := newTestThrottle(store, models.SignInScopeAccount, 2, time.Minute, c)
	addresses := newTestThrottle(store, models.SignInScopeAddress, 2, time.Minute, c)
	fail(t, accounts, "192.0.2.7")
	fail(t, accounts, "192.0.2.7")
	if b, _ := blocked(t, accounts, "192.0.2.7"); !b {
		t.Error("the account throttle is not blocked at its limit")
	}
	if b, _ := blocked(t, addresses, "192.0.2.7"); b {
		t.Error("the address throttle counts the account throttle's failures")
	}
}

// Two throttles on two stores of one database stand for two replicas:
// the failures each counts add up, and a reset through one is a reset
// for both.
func TestThrottleSharedByReplicas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	c := &clock{t: time.Now().Truncate(time.Second)}
	one := newTestThrottle(openStoreAt(t, path), models.SignInScopeAccount, 5, 15*time.Minute, c)
	two := newTestThrottle(openStoreAt(t, path), models.SignInScopeAccount, 5, 15*time.Minute, c)
	for range 3 {
		fail(t, one, "alice@example.com")
		c.advance(time.Second)
	}
	fail(t, two, "alice@example.com")
	c.advance(time.Second)
	if b, _ := blocked(t, one, "alice@example.com"); b {
		t.Fatal("blocked after 4 failures of 5")
	}
	fail(t, two, "alice@example.com")
	for name, th := range map[string]*Throttle{"one": one, "two": two} {
		if b, wait := blocked(t, th, "alice@example.com"); !b || wait != 15*time.Minute-4*time.Second {
			t.Errorf("replica %s after 3 failures there and 2 on the other: blocked=%v wait=%v, want blocked for 14m56s", name, b, wait)
		}
	}
	if err := two.Reset(context.Background(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if b, _ := blocked(t, one, "alice@example.com"); b {
		t.Error("replica one still blocked after a reset on replica two")
	}
}

// openStoreAt opens the SQLite store at path as another process would,
// with the same key as newTestStore, closed when t ends.
func openStoreAt(t *testing.T, path string) *models.Store {
	t.Helper()
	cipher, err := models.NewCipher(models.Key{ID: "test", Secret: bytes.Repeat([]byte{7}, models.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := models.Open(context.Background(), models.Options{Driver: "sqlite", DSN: path, Cipher: cipher})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}
