package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// failuresSince is SignInFailures, failing the test on error.
func failuresSince(t *testing.T, s *Store, scope, key string, since time.Time) (int, time.Time) {
	t.Helper()
	n, oldest, err := s.SignInFailures(context.Background(), scope, key, since)
	if err != nil {
		t.Fatal(err)
	}
	return n, oldest
}

// recordFailures records a failure against key at each of ats.
func recordFailures(t *testing.T, s *Store, scope, key string, ats ...time.Time) {
	t.Helper()
	for _, at := range ats {
		if _, err := s.RecordSignInFailure(context.Background(), scope, key, at); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSignInFailuresCountsSince(t *testing.T) {
	s := newTestStore(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recordFailures(t, s, SignInScopeAccount, "alice@example.com", t0, t0.Add(time.Minute), t0.Add(2*time.Minute))
	recordFailures(t, s, SignInScopeAddress, "192.0.2.7", t0)

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
			n, oldest := failuresSince(t, s, tt.scope, tt.key, tt.since)
			if n != tt.count || !oldest.Equal(tt.oldest) {
				t.Errorf("SignInFailures = %d, oldest %v; want %d, oldest %v", n, oldest, tt.count, tt.oldest)
			}
		})
	}
}

// The time of a failure reads back as the store keeps times: to the
// microsecond, in UTC, whatever zone it was recorded in.
func TestSignInFailuresOldestIsATime(t *testing.T) {
	s := newTestStore(t)
	at := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	recordFailures(t, s, SignInScopeAccount, "alice@example.com", at)
	n, oldest := failuresSince(t, s, SignInScopeAccount, "alice@example.com", at.Add(-time.Second))
	if want := at.UTC().Truncate(time.Microsecond); n != 1 || !oldest.Equal(want) {
		t.Errorf("SignInFailures = %d, oldest %v; want 1, oldest %v", n, oldest, want)
	}
}

func TestClearSignInFailures(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recordFailures(t, s, SignInScopeAccount, "alice@example.com", t0, t0.Add(time.Second))
	recordFailures(t, s, SignInScopeAccount, "bob@example.com", t0)
	recordFailures(t, s, SignInScopeAddress, "alice@example.com", t0)
	if err := s.ClearSignInFailures(ctx, SignInScopeAccount, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	since := t0.Add(-time.Hour)
	if n, _ := failuresSince(t, s, SignInScopeAccount, "alice@example.com", since); n != 0 {
		t.Errorf("%d failures after clearing, want 0", n)
	}
	if n, _ := failuresSince(t, s, SignInScopeAccount, "bob@example.com", since); n != 1 {
		t.Errorf("another account: %d failures after clearing alice's, want 1", n)
	}
	if n, _ := failuresSince(t, s, SignInScopeAddress, "alice@example.com", since); n != 1 {
		t.Errorf("the same key in another scope: %d failures after clearing, want 1", n)
	}
}

// A key's failures older than a day before a new one go as it is
// recorded, so a key guessed at for days keeps a bounded number of rows
// without any sweep; other keys' old rows are the sweep's to delete.
func TestRecordSignInFailureDropsTheKeysDayOldRows(t *testing.T) {
	s := newTestStore(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recordFailures(t, s, SignInScopeAccount, "alice@example.com", t0, t0.Add(23*time.Hour))
	recordFailures(t, s, SignInScopeAccount, "bob@example.com", t0)
	recordFailures(t, s, SignInScopeAddress, "alice@example.com", t0)
	recordFailures(t, s, SignInScopeAccount, "alice@example.com", t0.Add(25*time.Hour))

	since := t0.Add(-time.Hour)
	if n, oldest := failuresSince(t, s, SignInScopeAccount, "alice@example.com", since); n != 2 || !oldest.Equal(t0.Add(23*time.Hour)) {
		t.Errorf("alice: %d failures, oldest %v; want the 2 of the last day", n, oldest)
	}
	if n, _ := failuresSince(t, s, SignInScopeAccount, "bob@example.com", since); n != 1 {
		t.Errorf("bob: %d failures, want his old one kept", n)
	}
	if n, _ := failuresSince(t, s, SignInScopeAddress, "alice@example.com", since); n != 1 {
		t.Errorf("the same key in another scope: %d failures, want its old one kept", n)
	}
}

func TestDeleteSignInFailuresBefore(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	recordFailures(t, s, SignInScopeAccount, "alice@example.com", t0, t0.Add(time.Hour))
	recordFailures(t, s, SignInScopeAddress, "192.0.2.7", t0.Add(-time.Minute), t0.Add(2*time.Hour))

	n, err := s.DeleteSignInFailuresBefore(ctx, t0.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("DeleteSignInFailuresBefore = %d, %v; want the 2 older rows", n, err)
	}
	if rows := rowCount(t, s, "sign_in_failures"); rows != 2 {
		t.Errorf("%d rows left, want 2", rows)
	}
	if n, oldest := failuresSince(t, s, SignInScopeAccount, "alice@example.com", t0.Add(-time.Hour)); n != 1 || !oldest.Equal(t0.Add(time.Hour)) {
		t.Errorf("alice after the sweep: %d, oldest %v; want the one at the cutoff kept", n, oldest)
	}
	if n, err := s.DeleteSignInFailuresBefore(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("a second sweep deleted %d, %v; want 0", n, err)
	}
}

// The key is kept as a keyed hash only: what people type into the email
// field may be a password, and a plain hash of it could be reversed by
// guessing.
func TestSignInFailureKeyNotInClear(t *testing.T) {
	s := newTestStore(t)
	const typed = "Correct-Horse-Battery-Staple"
	recordFailures(t, s, SignInScopeAccount, typed, time.Now())
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

func TestSignInFailuresRefuseAnUnknownScope(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	var v *ValidationError
	if _, err := s.RecordSignInFailure(ctx, "user", "alice@example.com", time.Now()); !errors.As(err, &v) || v.For("scope") == "" {
		t.Errorf("RecordSignInFailure with scope %q: %v, want a validation error on scope", "user", err)
	}
	if _, _, err := s.SignInFailures(ctx, "", "alice@example.com", time.Now()); !errors.As(err, &v) {
		t.Errorf("SignInFailures with no scope: %v, want a validation error", err)
	}
	if err := s.ClearSignInFailures(ctx, "Account", "alice@example.com"); !errors.As(err, &v) {
		t.Errorf("ClearSignInFailures with scope %q: %v, want a validation error", "Account", err)
	}
	if n := rowCount(t, s, "sign_in_failures"); n != 0 {
		t.Errorf("%d rows recorded under an unknown scope", n)
	}
}

// Two stores of one database stand for two replicas: the failures each
// records are counted by both, and a sign-in through either clears them
// for both.
func TestSignInFailuresSharedByProcesses(t *testing.T) {
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
		recordFailures(t, s, SignInScopeAccount, "alice@example.com", t0.Add(time.Duration(i)*time.Second))
	}
	for name, s := range map[string]*Store{"a": a, "b": b} {
		if n, oldest := failuresSince(t, s, SignInScopeAccount, "alice@example.com", t0.Add(-time.Hour)); n != 5 || !oldest.Equal(dbTime(t0)) {
			t.Errorf("through %s: %d failures, oldest %v; want 5, oldest %v", name, n, oldest, dbTime(t0))
		}
	}
	if err := b.ClearSignInFailures(ctx, SignInScopeAccount, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if n, _ := failuresSince(t, a, SignInScopeAccount, "alice@example.com", t0.Add(-time.Hour)); n != 0 {
		t.Errorf("through a after b cleared them: %d failures, want 0", n)
	}
}
