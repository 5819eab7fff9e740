package models

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests here race writes that read before they write, through two
// stores on one database, as two replicas would. SQLite runs one write
// transaction at a time; on PostgreSQL they pass only because of the
// store's locks (see locks.go), which is what they are for.

// twoStores opens two stores on one fresh database.
func twoStores(t *testing.T) [2]*Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	return [2]*Store{openTestStore(t, path), openTestStore(t, path)}
}

// race runs fn(0) … fn(n-1) at once, each in a goroutine of its own
// released together, and returns their errors by index.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// TestConcurrentSignInsCreateOneUser signs one new OIDC identity in ten
// times at once: each sign-in finds the user or creates it, and only one
// creates it. So with one email: one user, the others told the field.
func TestConcurrentSignInsCreateOneUser(t *testing.T) {
	stores := twoStores(t)
	ctx := context.Background()
	ids := make([]uint, 10)
	errs := race(10, func(i int) error {
		u, err := stores[i%2].UpsertOIDCUser(ctx, OIDCIdentity{Provider: "corp", Subject: "sub-1", Email: "new@example.com", Name: "New"})
		if err == nil {
			ids[i] = u.ID
		}
		return err
	})
	for i, err := range errs {
		if err != nil || ids[i] != ids[0] {
			t.Errorf("sign-in %d: user %d, %v; want user %d", i, ids[i], err, ids[0])
		}
	}
	if n := changeCount(t, stores[0]); n != 1 {
		t.Errorf("%d changes recorded, want the one creation", n)
	}

	errs = race(10, func(i int) error {
		return stores[i%2].CreateUser(ctx, &User{Email: "dup@example.com", Provider: ProviderLocal})
	})
	created := 0
	for _, err := range errs {
		var conflict *ConflictError
		switch {
		case err == nil:
			created++
		case !errors.As(err, &conflict) || conflict.Field != "email":
			t.Errorf("a losing creation: %v, want a *ConflictError on email", err)
		}
	}
	if created != 1 {
		t.Errorf("%d creations of one email succeeded, want 1", created)
	}
}

// TestConcurrentServiceAccountsOneName creates ten service accounts of
// one name at once, in different cases: one is created.
func TestConcurrentServiceAccountsOneName(t *testing.T) {
	stores := twoStores(t)
	alice := createUser(t, stores[0], "alice@example.com")
	names := []string{"deploy", "Deploy", "DEPLOY"}
	errs := race(10, func(i int) error {
		a := &ServiceAccount{Name: names[i%3], UserID: alice.ID, TokenHash: HashToken(fmt.Sprint("token-", i))}
		return stores[i%2].CreateServiceAccount(context.Background(), a)
	})
	created := 0
	for _, err := range errs {
		var conflict *ConflictError
		switch {
		case err == nil:
			created++
		case !errors.As(err, &conflict) || conflict.Field != "name":
			t.Errorf("a losing creation: %v, want a *ConflictError on name", err)
		}
	}
	if created != 1 {
		t.Errorf("%d accounts created, want 1", created)
	}
}

// TestConcurrentSettingsUpdatesKeepHistoryLinked updates the settings ten
// times at once: each change's before is the after of the one it
// replaced, as when they are made one by one.
func TestConcurrentSettingsUpdatesKeepHistoryLinked(t *testing.T) {
	stores := twoStores(t)
	ctx := context.Background()
	errs := race(10, func(i int) error {
		st := DefaultSettings()
		st.AuditRetentionDays = i + 1
		return stores[i%2].UpdateSettings(ctx, st)
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	page, _, err := stores[0].ListChanges(ctx, ChangeFilter{Resource: ResourceSettings})
	if err != nil || len(page) != 10 {
		t.Fatalf("settings changes: %d, %v; want 10", len(page), err)
	}
	prev, err := snapshotText(snapshotSettings(DefaultSettings()))
	if err != nil {
		t.Fatal(err)
	}
	for i := len(page) - 1; i >= 0; i-- { // oldest first
		c, err := stores[0].GetChange(ctx, page[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Before != prev {
			t.Errorf("change %d starts from\n%s\nbut the one before it left\n%s", c.ID, c.Before, prev)
		}
		prev = c.After
	}
}

// TestConcurrentAppliesOfOneBundle applies one bundle four times at
// once: one creates everything, the others find it unchanged.
func TestConcurrentAppliesOfOneBundle(t *testing.T) {
	stores := twoStores(t)
	ctx := context.Background()
	errs := race(4, func(i int) error {
		_, err := stores[i%2].Apply(ctx, testBundle(), ApplyOptions{})
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := changeCount(t, stores[0]); n != 5 {
		t.Errorf("%d changes recorded, want 5 creations (an app, two policies, two routes)", n)
	}
}

// TestConcurrentAuditAppendsStayInOrder appends from eight goroutines
// through two stores, to one shared chain and one chain each, while a
// reader follows the log as the live tail does (AuditEventsAfter from the
// newest id it saw). Every chain must verify, and the reader must have
// seen every event: ids become visible in order, so none appears behind
// the reader's position.
func TestConcurrentAuditAppendsStayInOrder(t *testing.T) {
	stores := twoStores(t)
	ctx := context.Background()
	const writers, rounds = 8, 10
	done := make(chan struct{}) // closed when the writers are
	seen := make(chan int)      // how many events the reader read
	go func() {
		n, after := 0, uint64(0)
		for finished := false; ; {
			select {
			case <-done:
				finished = true // one more pass reads what is left
			default:
			}
			for {
				evs, err := stores[0].AuditEventsAfter(ctx, AuditFilter{}, after, MaxAuditPage)
				if err != nil {
					t.Error(err)
					seen <- n
					return
				}
				if len(evs) == 0 {
					break
				}
				n, after = n+len(evs), evs[len(evs)-1].ID
			}
			if finished {
				seen <- n
				return
			}
		}
	}()
	errs := race(writers, func(i int) error {
		s, own := stores[i%2], fmt.Sprint("gw-", i)
		for r := range rounds {
			for _, w := range []string{"shared", own} {
				evs := []*AuditEvent{testAuditEvent(r), testAuditEvent(r + 1), testAuditEvent(r + 2)}
				if err := s.AppendAuditEvents(ctx, w, evs); err != nil {
					return err
				}
			}
		}
		return nil
	})
	close(done)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	shared := int64(writers * rounds * 3)
	for w, st := range verifyChains(t, stores[1]) {
		want := int64(rounds * 3) // a writer's own chain
		if w == "shared" {
			want = shared
		}
		if !st.OK || st.Events != want {
			t.Errorf("chain %s: %+v, want %d events intact", w, st, want)
		}
	}
	if n := <-seen; n != 2*int(shared) {
		t.Errorf("the tail saw %d events of %d", n, 2*shared)
	}
}

// TestConcurrentRetentionAndAppends runs two retention jobs, each
// deleting old events in small batches, while new events are appended
// to the same chains: every old event goes, every new one stays, and the
// chains verify from their checkpoints.
func TestConcurrentRetentionAndAppends(t *testing.T) {
	stores := twoStores(t)
	ctx := context.Background()
	for _, w := range []string{"gw-1", "gw-2"} {
		appendEvents(t, stores[0], w, 0, 60) // stamped 2026-03-01
	}
	cutoff := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	errs := race(6, func(i int) error {
		s := stores[i%2]
		if i < 2 {
			for {
				n, err := s.DeleteAuditEventsBefore(ctx, cutoff, 7)
				if err != nil || n == 0 {
					return err
				}
			}
		}
		for r := range 10 {
			e := testAuditEvent(r)
			e.At = cutoff.Add(time.Duration(r+1) * time.Minute) // to be kept
			if err := s.AppendAuditEvents(ctx, fmt.Sprint("gw-", 1+i%2), []*AuditEvent{e}); err != nil {
				return err
			}
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// A job may have stopped before the last appends' predecessors went.
	if _, err := stores[0].DeleteAuditEventsBefore(ctx, cutoff, 1000); err != nil {
		t.Fatal(err)
	}
	for w, st := range verifyChains(t, stores[1]) {
		if !st.OK || st.Events != 20 || st.CheckpointSeq != 60 {
			t.Errorf("chain %s: %+v, want the 20 new events from checkpoint 60", w, st)
		}
	}
}

// TestConcurrentRotationsAndRevocations presents one refresh token ten
// times at once while its family is revoked five times: one rotation
// wins, every other use is a reuse or finds the family revoked, and
// nothing fails otherwise (on PostgreSQL, a deadlock would).
func TestConcurrentRotationsAndRevocations(t *testing.T) {
	stores := twoStores(t)
	ctx := context.Background()
	alice := createUser(t, stores[0], "alice@example.com")
	createOAuthClient(t, stores[0], "claude")
	g := newGrant(t, stores[0], "claude", alice.ID)
	hour := time.Now().Add(time.Hour)
	g.refresh(t, stores[0], "rt", hour)
	g.refresh(t, stores[0], "rt-other", hour)
	errs := race(15, func(i int) error {
		s := stores[i%2]
		if i >= 10 {
			return s.RevokeRefreshToken(ctx, HashToken("rt-other"), time.Now())
		}
		next := &RefreshToken{TokenHash: HashToken(fmt.Sprint("next-", i)), ExpiresAt: hour}
		_, err := s.RotateRefreshToken(ctx, HashToken("rt"), "claude", next, time.Now())
		return err
	})
	for i, err := range errs {
		if err != nil && !errors.Is(err, ErrTokenReused) && !errors.Is(err, ErrTokenRevoked) {
			t.Errorf("use %d: %v", i, err)
		}
	}
	if n := activeTokens(t, stores[0], "claude"); n != 0 {
		t.Errorf("%d tokens still active after the family's revocation", n)
	}
	if got := slices.DeleteFunc(errs[:10], func(err error) bool { return err != nil }); len(got) > 1 {
		t.Errorf("%d rotations succeeded, want at most 1", len(got))
	}
}

// TestOwnServiceAccountCapHoldsUnderParallelCreates: a user's accounts
// are capped inside the write, so creates sent together, from two
// processes, cannot pass the cap together.
func TestOwnServiceAccountCapHoldsUnderParallelCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	a := openTestStore(t, path)
	b := openTestStore(t, processPath(t, path))
	u := createUser(t, a, "alice@example.com")
	const max, tries = 5, 12
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		capped  int
	)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			acc := testServiceAccount(fmt.Sprintf("alice@example.com/bot%d", i), u.ID)
			_, err := s.CreateOwnServiceAccountWithToken(context.Background(), acc, func(id uint) (string, error) {
				return fmt.Sprintf("token-%d", id), nil
			}, max)
			var v *ValidationError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.As(err, &v) && strings.Contains(v.For("name"), "revoke one first"):
				capped++
			default:
				t.Errorf("create %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if created != max || capped != tries-max {
		t.Errorf("%d created, %d refused at the cap; want %d and %d", created, capped, max, tries-max)
	}
}
