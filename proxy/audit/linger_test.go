package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/proxy/audit"
)

// recordWithin records one event and fails the test if that takes more
// than a few seconds: far less than the writers' lingers here, so a
// Record that lingered for company that never came fails.
func recordWithin(t *testing.T, w *audit.Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := w.Record(ctx, event(`{}`)); err != nil {
		t.Fatalf("record: %v", err)
	}
}

// TestLingerWaitsForRequestsInFlight: with a second request in flight,
// the first one's batch waits for it, and both share one commit, which
// happens as soon as the second has arrived (the linger is a minute).
func TestLingerWaitsForRequestsInFlight(t *testing.T) {
	store := newCountingStore(t)
	w := newWriter(t, store, audit.Options{Linger: time.Minute})
	w.Expect(2)
	defer w.Expect(-2)
	first := make(chan error, 1)
	go func() {
		_, err := w.Record(context.Background(), event(`{"n":1}`))
		first <- err
	}()
	// Without the linger the first event would commit alone in a
	// millisecond or so.
	time.Sleep(100 * time.Millisecond)
	if got := store.appends.Load(); got != 0 {
		t.Fatalf("%d commits while a request in flight had not yet recorded, want 0", got)
	}
	recordWithin(t, w)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if appends, events := store.appends.Load(), store.events.Load(); appends != 1 || events != 2 {
		t.Errorf("%d commits of %d events, want 1 of 2", appends, events)
	}
}

// TestLoneRequestNeverLingers: a request that is alone in flight, or
// that no one announced, commits at once, however long the linger.
func TestLoneRequestNeverLingers(t *testing.T) {
	store := newCountingStore(t)
	w := newWriter(t, store, audit.Options{Linger: time.Hour})
	recordWithin(t, w) // not announced
	w.Expect(1)
	recordWithin(t, w) // announced, alone
	w.Expect(-1)
	if got := store.appends.Load(); got != 2 {
		t.Errorf("%d commits, want 2", got)
	}
}

// TestNegativeLingerNeverWaits: Linger < 0 turns the linger off, even
// with requests in flight.
func TestNegativeLingerNeverWaits(t *testing.T) {
	store := newCountingStore(t)
	w := newWriter(t, store, audit.Options{Linger: -1})
	w.Expect(5)
	defer w.Expect(-5)
	recordWithin(t, w)
}
