package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// eventsSince is CountRateEvents, failing the test on error.
func eventsSince(t *testing.T, s *Store, scope, key string, since time.Time) (int, time.Time) {
	t.Helper()
	n, oldest, err := s.CountRateEvents(context.Background(), scope, key, since)
	if err != nil {
		t.Fatal(err)
	}
	return n, oldest
}

// recordEvents records an event against key at each of ats, under a
// limit too high to refuse any.
func recordEvents(t *testing.T, s *Store, scope, key string, ats ...time.Time) {
	t.Helper()
	for _, at := range ats {
		if take, err := s.TakeRateEvent(context.Background(), RateLimit{Scope: scope, Limit: 1 << 30, Window: time.Hour}, key, at); err != nil || !take.Allowed {
			t.Fatalf("TakeRateEvent = %+v, %v; want it allowed", take, err)
		}
	}
}

func TestRateEventsCountSince(t *testing.T) {
	s := newTestStore(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recordEvents(t, s, SignInScopeAccount, "alice@example.com", t0, t0.Add(time.Minute), t0.Add(2*time.Minute))
	recordEvents(t, s, SignInScopeAddress, "192.0.2.7", t0)

	for _, tt := range []struct {
		name       string
		scope, key string
		since      time.Time
		count      int
		oldest     time.Time
	}{
		{"all of them", SignInScopeAccount, "alice@example.com", t0.Add(-time.Hour), 3, t0},
		{"since is inclusive", SignInScopeAccount, "alice@example.com", t0.Add(time.Minute), 2, t0.Add(time.Minute)},
		{"between two", SignInScopeAccount, "alice@example.com", t0.Add(90 * time.Second), 1, t0.Add(2 * time.Minute)},
		{"none since", SignInScopeAccount, "alice@example.com", t0.Add(3 * time.Minute), 0, time.Time{}},
		{"another key", SignInScopeAccount, "bob@example.com", t0.Add(-time.Hour), 0, time.Time{}},
		{"the same key in another scope", SignInScopeAddress, "alice@example.com", t0.Add(-time.Hour), 0, time.Time{}},
		{"the other scope", SignInScopeAddress, "192.0.2.7", t0.Add(-time.Hour), 1, t0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, oldest := eventsSince(t, s, tt.scope, tt.key, tt.since)
			if n != tt.count || !oldest.Equal(tt.oldest) {
				t.Errorf("CountRateEvents = %d, oldest %v; want %d, oldest %v", n, oldest, tt.count, tt.oldest)
			}
		})
	}
}

// The time of an event reads back as the store keeps times: to the
// microsecond, in UTC, whatever zone it was recorded in.
func TestRateEventsOldestIsATime(t *testing.T) {
	s := newTestStore(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	recordEvents(t, s, SignInScopeAccount, "alice@example.com", at)
	n, oldest := eventsSince(t, s, SignInScopeAccount, "alice@example.com", at.Add(-time.Second))
	if want := at.UTC().Truncate(time.Microsecond); n != 1 || !oldest.Equal(want) {
		t.Errorf("CountRateEvents = %d, oldest %v; want 1, oldest %v", n, oldest, want)
	}
}

func TestClearRateEvents(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recordEvents(t, s, SignInScopeAccount, "alice@example.com", t0, t0.Add(time.Second))
	recordEvents(t, s, SignInScopeAccount, "bob@example.com", t0)
	recordEvents(t, s, SignInScopeAddress, "alice@example.com", t0)
	if err := s.ClearRateEvents(ctx, SignInScopeAccount, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	since := t0.Add(-time.Hour)
	if n, _ := eventsSince(t, s, SignInScopeAccount, "alice@example.com", since); n != 0 {
		t.Errorf("%d events after clearing, want 0", n)
	}
	if n, _ := eventsSince(t, s, SignInScopeAccount, "bob@example.com", since); n != 1 {
		t.Errorf("another account: %d events after clearing alice's, want 1", n)
	}
	if n, _ := eventsSince(t, s, SignInScopeAddress, "alice@example.com", since); n != 1 {
		t.Errorf("the same key in another scope: %d events after clearing, want 1", n)
	}
}

// A key's events older than a day before a new one go as it is
// recorded, so a key tried for days keeps a bounded number of rows
// without any sweep; other keys' old rows are the sweep's to delete.
func TestTakeRateEventDropsTheKeysDayOldRows(t *testing.T) {
	s := newTestStore(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recordEvents(t, s, SignInScopeAccount, "alice@example.com", t0, t0.Add(23*time.Hour))
	recordEvents(t, s, SignInScopeAccount, "bob@example.com", t0)
	recordEvents(t, s, SignInScopeAddress, "alice@example.com", t0)
	recordEvents(t, s, SignInScopeAccount, "alice@example.com", t0.Add(25*time.Hour))

	since := t0.Add(-time.Hour)
	if n, oldest := eventsSince(t, s, SignInScopeAccount, "alice@example.com", since); n != 2 || !oldest.Equal(t0.Add(23*time.Hour)) {
		t.Errorf("alice: %d events, oldest %v; want the 2 of the last day", n, oldest)
	}
	if n, _ := eventsSince(t, s, SignInScopeAccount, "bob@example.com", since); n != 1 {
		t.Errorf("bob: %d events, want his old one kept", n)
	}
	if n, _ := eventsSince(t, s, SignInScopeAddress, "alice@example.com", since); n != 1 {
		t.Errorf("the same key in another scope: %d events, want its old one kept", n)
	}
}

func TestDeleteRateEventsBefore(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recordEvents(t, s, SignInScopeAccount, "alice@example.com", t0, t0.Add(time.Hour))
	recordEvents(t, s, SignInScopeAddress, "192.0.2.7", t0.Add(-time.Minute), t0.Add(2*time.Hour))
	recordEvents(t, s, RegistrationScopeAddress, "192.0.2.7", t0.Add(-time.Second), t0.Add(time.Hour))

	n, err := s.DeleteRateEventsBefore(ctx, t0.Add(time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("DeleteRateEventsBefore = %d, %v; want the 3 older rows, of every scope", n, err)
	}
	if rows := rowCount(t, s, "sign_in_failures"); rows != 3 {
		t.Errorf("%d rows left, want 3", rows)
	}
	if n, oldest := eventsSince(t, s, SignInScopeAccount, "alice@example.com", t0.Add(-time.Hour)); n != 1 || !oldest.Equal(t0.Add(time.Hour)) {
		t.Errorf("alice after the sweep: %d, oldest %v; want the one at the cutoff kept", n, oldest)
	}
	if n, err := s.DeleteRateEventsBefore(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("a second sweep deleted %d, %v; want 0", n, err)
	}
}

// The key is kept as a keyed hash only: what people type into the email
// field may be a password, and a plain hash of it could be reversed by
// guessing.
func TestRateEventKeyNotInClear(t *testing.T) {
	s := newTestStore(t)
	const typed = "Correct-Horse-Battery-Staple"
	recordEvents(t, s, SignInScopeAccount, typed, time.Now())
	var scope, keyHash string
	if err := s.sqlDB.QueryRow(`SELECT scope, key_hash FROM sign_in_failures`).Scan(&scope, &keyHash); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(typed))
	if scope != SignInScopeAccount || keyHash != s.cipher.KeyedHash("sign-in failure", typed) || keyHash == hex.EncodeToString(sum[:]) {
		t.Errorf("stored (%q, %q), want (%q, the key's keyed hash, not its plain SHA-256)", scope, keyHash, SignInScopeAccount)
	}
	if strings.Contains(strings.ToLower(keyHash), strings.ToLower(typed)) {
		t.Error("the key is stored in clear")
	}
}

// A scope no limit uses, or a limit that could never allow anything, is
// refused before anything is written.
func TestRateEventsRefuseABadScopeOrLimit(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	var v *ValidationError
	for _, l := range []RateLimit{
		{Scope: "user", Limit: 1, Window: time.Minute},
		{Scope: SignInScopeAccount, Limit: 0, Window: time.Minute},
		{Scope: SignInScopeAccount, Limit: 1, Window: 0},
	} {
		if _, err := s.TakeRateEvent(ctx, l, "alice@example.com", time.Now()); !errors.As(err, &v) || len(v.Fields) != 1 {
			t.Errorf("TakeRateEvent under %+v: %v, want a validation error on one field", l, err)
		}
	}
	if _, _, err := s.CountRateEvents(ctx, "", "alice@example.com", time.Now()); !errors.As(err, &v) || v.For("scope") == "" {
		t.Errorf("CountRateEvents with no scope: %v, want a validation error on scope", err)
	}
	if err := s.ClearRateEvents(ctx, "Account", "alice@example.com"); !errors.As(err, &v) {
		t.Errorf("ClearRateEvents with scope %q: %v, want a validation error", "Account", err)
	}
	if n := rowCount(t, s, "sign_in_failures"); n != 0 {
		t.Errorf("%d rows recorded under an unknown scope", n)
	}
}

// Two stores of one database stand for two replicas: the events each
// records are counted by both, and a sign-in through either clears them
// for both.
func TestRateEventsSharedByProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	a := openTestStore(t, path)
	b := openTestStore(t, processPath(t, path))
	ctx := context.Background()
	t0 := time.Now().Add(-time.Minute)
	for i := range 5 {
		s := a
		if i >= 3 {
			s = b
		}
		recordEvents(t, s, SignInScopeAccount, "alice@example.com", t0.Add(time.Duration(i)*time.Second))
	}
	for name, s := range map[string]*Store{"a": a, "b": b} {
		if n, oldest := eventsSince(t, s, SignInScopeAccount, "alice@example.com", t0.Add(-time.Hour)); n != 5 || !oldest.Equal(dbTime(t0)) {
			t.Errorf("through %s: %d events, oldest %v; want 5, oldest %v", name, n, oldest, dbTime(t0))
		}
	}
	if err := b.ClearRateEvents(ctx, SignInScopeAccount, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if n, _ := eventsSince(t, a, SignInScopeAccount, "alice@example.com", t0.Add(-time.Hour)); n != 0 {
		t.Errorf("through a after b cleared them: %d events, want 0", n)
	}
}

// takeAt is TakeRateEvent under l, failing the test on error.
func takeAt(t *testing.T, s *Store, l RateLimit, key string, at time.Time) RateTake {
	t.Helper()
	take, err := s.TakeRateEvent(context.Background(), l, key, at)
	if err != nil {
		t.Fatal(err)
	}
	return take
}

// A sliding window: the limit's events pass, the next is refused until
// the oldest leaves the window, and a refusal is not counted.
func TestTakeRateEvent(t *testing.T) {
	s := newTestStore(t)
	l := RateLimit{Scope: RegistrationScopeAddress, Limit: 3, Window: time.Minute}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var ids []uint64
	for i := range 3 {
		take := takeAt(t, s, l, "192.0.2.7", t0.Add(time.Duration(i)*10*time.Second))
		if !take.Allowed || take.ID == 0 || take.RetryAfter != 0 {
			t.Fatalf("event %d under the limit: %+v, want allowed with an id", i+1, take)
		}
		ids = append(ids, take.ID)
	}
	if take := takeAt(t, s, l, "192.0.2.7", t0.Add(30*time.Second)); take != (RateTake{RetryAfter: 30 * time.Second}) {
		t.Errorf("at the limit: %+v, want refused for 30s", take)
	}
	if take := takeAt(t, s, l, "192.0.2.7", t0.Add(50*time.Second)); take != (RateTake{RetryAfter: 10 * time.Second}) {
		t.Errorf("20s later: %+v, want refused for 10s (the refusal before is not counted)", take)
	}
	if n, _ := eventsSince(t, s, l.Scope, "192.0.2.7", t0.Add(-time.Hour)); n != 3 {
		t.Errorf("%d events recorded, want the 3 allowed", n)
	}
	if take := takeAt(t, s, l, "192.0.2.8", t0.Add(50*time.Second)); !take.Allowed {
		t.Errorf("another key: %+v, want allowed", take)
	}
	if take := takeAt(t, s, RateLimit{Scope: SignInScopeAddress, Limit: 3, Window: time.Minute}, "192.0.2.7", t0.Add(50*time.Second)); !take.Allowed {
		t.Errorf("the same key in another scope: %+v, want allowed", take)
	}
	if take := takeAt(t, s, l, "192.0.2.7", t0.Add(61*time.Second)); !take.Allowed {
		t.Errorf("once the first event left the window: %+v, want allowed", take)
	}
	if err := s.ForgetRateEvent(context.Background(), ids[1]); err != nil {
		t.Fatal(err)
	}
	if take := takeAt(t, s, l, "192.0.2.7", t0.Add(62*time.Second)); !take.Allowed {
		t.Errorf("after forgetting one: %+v, want allowed", take)
	}
	if take := takeAt(t, s, l, "192.0.2.7", t0.Add(63*time.Second)); take.Allowed {
		t.Errorf("back at the limit: %+v, want refused", take)
	}
}

// Events taken all at once through two stores of one database, as two
// replicas would, pass the count no more than the limit in all: the
// count and the record are one step on either engine.
func TestTakeRateEventHoldsAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	stores := []*Store{openTestStore(t, path), openTestStore(t, processPath(t, path))}
	l := RateLimit{Scope: RegistrationScopeAddress, Limit: 10, Window: time.Minute}
	at := time.Now()
	var (
		wg      sync.WaitGroup
		allowed atomic.Int32
	)
	for i := range 40 {
		wg.Go(func() {
			take, err := stores[i%2].TakeRateEvent(context.Background(), l, "192.0.2.7", at)
			if err != nil {
				t.Error(err)
			}
			if take.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 10 {
		t.Errorf("%d of 40 parallel events allowed, want the limit, 10", n)
	}
	if n, _ := eventsSince(t, stores[0], l.Scope, "192.0.2.7", at.Add(-time.Hour)); n != 10 {
		t.Errorf("%d events recorded, want 10", n)
	}
}
