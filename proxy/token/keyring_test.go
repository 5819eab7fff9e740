package token

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// keyStore stands for where the keys live (a key file, the database): it
// hands out its current KeySet, or err, and counts the reads.
type keyStore struct {
	mu    sync.Mutex
	keys  *KeySet
	err   error
	reads atomic.Int64
}

func (s *keyStore) read(context.Context) (*KeySet, error) {
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys, s.err
}

func (s *keyStore) set(keys *KeySet, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys, s.err = keys, err
}

// newTestKeyring returns a keyring on keys, reading from store, whose
// clock stands at *now; and what it logs.
func newTestKeyring(t *testing.T, keys *KeySet, store *keyStore, now *time.Time) (*Keyring, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	r, err := NewKeyring(keys, store.read, slog.New(slog.NewTextHandler(&syncWriter{w: &log}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { return *now }
	return r, &log
}

// syncWriter lets concurrent re-reads log into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestKeyringSwap: what signs, verifies and publishes on a keyring uses
// the keys swapped in from then on, without being built again.
func TestKeyringSwap(t *testing.T) {
	oldKey, newKeyPriv := newKey(t), newKey(t)
	before := newKeySet(t, oldKey)
	r, err := NewKeyring(before, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	iss := newIssuerAt(t, r, t0)
	accounts, err := NewServiceAccountIssuer(r, testIssuer)
	if err != nil {
		t.Fatal(err)
	}
	asserter, err := NewAsserter(r, testIssuer, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	asserter.now = func() time.Time { return t0 }
	v := newVerifierAt(r, t0, VerifierOptions{})
	who := Assertion{Subject: "42", Email: "ada@example.com", Audience: routeA}

	oldToken, _ := issue(t, iss, routeA)
	oldAssertion, _ := asserter.Sign(who)
	if _, err := v.Verify(oldToken, routeA, notRevoked); err != nil {
		t.Fatal(err)
	}

	rotated := newKeySet(t, newKeyPriv, &oldKey.PublicKey)
	if got, err := r.Swap(rotated); err != nil || got != before || r.Load() != rotated {
		t.Fatalf("Swap() = %p, %v; want the previous set %p, and Load to return the new one", got, err, before)
	}
	newToken, _ := issue(t, iss, routeA)
	saToken, _, _ := accounts.Issue(7, time.Time{})
	newAssertion, _ := asserter.Sign(who)
	for what, raw := range map[string]string{"access token": newToken, "service-account token": saToken, "assertion": newAssertion} {
		if kid := decodePart(t, raw, 0)["kid"]; kid != rotated.KeyID() {
			t.Errorf("%s signed after the swap names kid %v, want the new key's %s", what, kid, rotated.KeyID())
		}
	}
	if newAssertion == oldAssertion {
		t.Error("an assertion the retired key signed was reused after the swap")
	}
	for _, raw := range []string{oldToken, newToken} {
		if _, err := v.Verify(raw, routeA, notRevoked); err != nil {
			t.Errorf("after the swap: %v", err)
		}
	}
	jwks := string(mustJWKS(t, r.Load()))
	if !strings.Contains(jwks, before.KeyID()) || !strings.Contains(jwks, rotated.KeyID()) {
		t.Errorf("JWKS after the swap lacks a key: %s", jwks)
	}

	// A rotation that drops the old key: the token it signed, verified
	// and cached before, is refused now.
	if _, err := r.Swap(newKeySet(t, newKeyPriv)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(oldToken, routeA, notRevoked); !errors.Is(err, ErrSignature) {
		t.Errorf("a cached token whose key was dropped: %v, want ErrSignature", err)
	}
	for _, empty := range []*KeySet{nil, {}} {
		if _, err := r.Swap(empty); err == nil {
			t.Error("Swap accepted an empty key set")
		}
	}
	if _, err := v.Verify(newToken, routeA, notRevoked); err != nil {
		t.Errorf("after a refused swap: %v", err)
	}
}

// TestKeyringUnknownKidRereadsOnce: a token signed with a key this
// process has not loaded yet (another replica rotated) makes it re-read
// the keys once, and then verifies.
func TestKeyringUnknownKidRereadsOnce(t *testing.T) {
	oldKey, rotatedKey := newKey(t), newKey(t)
	before := newKeySet(t, oldKey)
	rotated := newKeySet(t, rotatedKey, &oldKey.PublicKey)
	store := &keyStore{keys: rotated}
	now := t0
	r, _ := newTestKeyring(t, before, store, &now)
	v := newVerifierAt(r, t0, VerifierOptions{})

	raw, _ := issue(t, newIssuerAt(t, rotated, t0), routeA)
	if _, err := v.Verify(raw, routeA, notRevoked); err != nil {
		t.Fatalf("a token signed with the new key: %v", err)
	}
	if n := store.reads.Load(); n != 1 {
		t.Errorf("%d reads, want 1", n)
	}
	if r.Load() != rotated {
		t.Error("the re-read keys were not swapped in")
	}
	other, _ := issue(t, newIssuerAt(t, rotated, t0), routeA)
	if _, err := v.Verify(other, routeA, notRevoked); err != nil || store.reads.Load() != 1 {
		t.Errorf("another token with the now known kid: %v after %d reads, want accepted without a read", err, store.reads.Load())
	}
}

// TestKeyringForgedKidRefused: a token under a kid nobody holds costs a
// re-read and is refused; one naming a known kid but signed with another
// key costs none and is refused.
func TestKeyringForgedKidRefused(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	store := &keyStore{keys: ks}
	now := t0
	r, _ := newTestKeyring(t, ks, store, &now)
	v := newVerifierAt(r, t0, VerifierOptions{})

	attacker := newKey(t)
	forged := signES256(t, attacker, goodHeader(t, attacker), goodPayload())
	if _, err := v.Verify(forged, routeA, notRevoked); !errors.Is(err, ErrSignature) {
		t.Fatalf("a token under a forged kid: %v, want ErrSignature", err)
	}
	if n := store.reads.Load(); n != 1 {
		t.Errorf("%d reads for a forged kid, want 1", n)
	}
	stolenKid := signES256(t, attacker, with(goodHeader(t, attacker), "kid", ks.KeyID()), goodPayload())
	if _, err := v.Verify(stolenKid, routeA, notRevoked); !errors.Is(err, ErrSignature) {
		t.Fatalf("a token naming our kid, signed with another key: %v, want ErrSignature", err)
	}
	if n := store.reads.Load(); n != 1 {
		t.Errorf("%d reads after a known kid, want still 1", n)
	}
	if r.Load() != ks {
		t.Error("keys that did not change were swapped")
	}
}

// TestKeyringRereadRateLimited: however many tokens name unknown kids at
// once, one re-read happens per lookupInterval; the others are refused.
func TestKeyringRereadRateLimited(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	store := &keyStore{keys: ks}
	now := t0
	r, _ := newTestKeyring(t, ks, store, &now)
	v := newVerifierAt(r, t0, VerifierOptions{})

	forge := func() string {
		k := newKey(t)
		return signES256(t, k, goodHeader(t, k), goodPayload())
	}
	flood := make([]string, 50)
	for i := range flood {
		flood[i] = forge()
	}
	var wg sync.WaitGroup
	for _, raw := range flood {
		wg.Go(func() {
			if _, err := v.Verify(raw, routeA, notRevoked); !errors.Is(err, ErrSignature) {
				t.Errorf("a forged kid: %v, want ErrSignature", err)
			}
		})
	}
	wg.Wait()
	if n := store.reads.Load(); n != 1 {
		t.Fatalf("%d reads for a flood of forged kids, want 1", n)
	}

	// Within the interval, even a genuine new key waits for the next
	// re-read (or for the rotation's announcement, which Reload serves).
	rotatedKey := newKey(t)
	rotated := newKeySet(t, rotatedKey, &ks.current.PublicKey)
	store.set(rotated, nil)
	genuine, _ := issue(t, newIssuerAt(t, rotated, t0), routeA)
	now = now.Add(lookupInterval - time.Millisecond)
	if _, err := v.Verify(genuine, routeA, notRevoked); !errors.Is(err, ErrSignature) || store.reads.Load() != 1 {
		t.Fatalf("within the interval: %v after %d reads, want refused without a read", err, store.reads.Load())
	}
	now = now.Add(time.Millisecond)
	if _, err := v.Verify(genuine, routeA, notRevoked); err != nil || store.reads.Load() != 2 {
		t.Fatalf("once the interval has passed: %v after %d reads, want accepted after the second read", err, store.reads.Load())
	}
	if err := r.Reload(context.Background()); err != nil || store.reads.Load() != 3 {
		t.Errorf("Reload: %v after %d reads; an announced change is not rate-limited", err, store.reads.Load())
	}
}

// TestKeyringReadFailureKeepsKeys: a re-read that fails, or finds no
// keys, leaves the current keys in place, and is logged once.
func TestKeyringReadFailureKeepsKeys(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	store := &keyStore{err: errors.New("database is down")}
	now := t0
	r, log := newTestKeyring(t, ks, store, &now)
	iss := newIssuerAt(t, r, t0)

	ctx := context.Background()
	for range 3 {
		if err := r.Reload(ctx); err == nil {
			t.Fatal("Reload hid a failed read")
		}
	}
	store.set(nil, nil)
	if err := r.Reload(ctx); err == nil {
		t.Fatal("Reload accepted a read that found no keys")
	}
	if r.Load() != ks {
		t.Fatal("a failed re-read changed the keys")
	}
	if raw, _ := issue(t, iss, routeA); decodePart(t, raw, 0)["kid"] != ks.KeyID() {
		t.Error("after failed re-reads, tokens are not signed with the current key")
	}
	if n := strings.Count(log.String(), "could not re-read"); n != 1 {
		t.Errorf("logged %d failures, want 1:\n%s", n, log)
	}

	store.set(ks, nil)
	if err := r.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	store.set(nil, errors.New("down again"))
	_ = r.Reload(ctx)
	if n := strings.Count(log.String(), "could not re-read"); n != 2 {
		t.Errorf("logged %d failures, want a second one after the keys were read again:\n%s", n, log)
	}
}

// TestKeyringConcurrentSwap signs and verifies while the keys rotate,
// for the race detector: each set keeps every earlier key, so every
// token verifies, whichever set signed it and whichever checks it.
func TestKeyringConcurrentSwap(t *testing.T) {
	keys := []*KeySet{newKeySet(t, newKey(t))}
	var retired []*ecdsa.PublicKey
	for range 3 {
		retired = append(retired, &keys[len(keys)-1].current.PublicKey)
		keys = append(keys, newKeySet(t, newKey(t), retired...))
	}
	r, err := NewKeyring(keys[0], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	iss := newIssuerAt(t, r, t0)
	v := newVerifierAt(r, t0, VerifierOptions{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, ks := range keys[1:] {
			if _, err := r.Swap(ks); err != nil {
				t.Error(err)
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for range 20 {
				raw, _, err := iss.Issue(Claims{Subject: "42", Audience: routeA, ClientID: "client-1"})
				if err != nil {
					t.Errorf("issue during rotation: %v", err)
				} else if _, err := v.Verify(raw, routeA, notRevoked); err != nil {
					t.Errorf("verify during rotation: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if r.Load() != keys[len(keys)-1] {
		t.Error("the last swap did not stick")
	}
}

// TestKeyringSlowRereadIsShared: a re-read that takes longer than
// lookupInterval (a slow database: lookupTimeout is 2 s) is still the one
// re-read for every unknown kid that waited on it; none starts its own
// after it, one after another.
func TestKeyringSlowRereadIsShared(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	var mu sync.Mutex
	clock := t0
	var reads atomic.Int64
	entered := make(chan struct{}, 100)
	release := make(chan struct{})
	r, err := NewKeyring(ks, func(ctx context.Context) (*KeySet, error) {
		reads.Add(1)
		entered <- struct{}{}
		<-release
		mu.Lock()
		clock = clock.Add(lookupTimeout) // this read took lookupTimeout
		mu.Unlock()
		return ks, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }

	var wg sync.WaitGroup
	wg.Go(func() { r.find("forged-0") })
	<-entered
	const waiters = 5
	for i := range waiters {
		wg.Go(func() { r.find("forged-" + string(rune('a'+i))) })
	}
	time.Sleep(200 * time.Millisecond) // let the waiters block on r.mu
	close(release)
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Errorf("%d re-reads for %d concurrent unknown kids behind one slow read; the doc promises they wait for the one in flight", n, waiters+1)
	}
}
