package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/audit"
)

func TestRecordCommitsBeforeReturning(t *testing.T) {
	store := newCountingStore(t)
	w := newWriter(t, store, audit.Options{})
	host, _ := os.Hostname()
	if !regexp.MustCompile("^" + regexp.QuoteMeta(host) + fmt.Sprintf("-%d-[0-9a-f]{8}$", os.Getpid())).MatchString(w.Name()) {
		t.Errorf("default writer name %q is not hostname-pid-random", w.Name())
	}
	ev := event(`{"repo":"acme/app","Password":"hunter2"}`)
	id, err := w.Record(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	// Committed when Record returns: read through the store, not the writer.
	got, err := store.GetAuditEvent(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Writer != w.Name() || got.Seq != 1 || got.Arguments != `{"repo":"acme/app","Password":"[redacted]"}` || got.Tool != "create_issue" {
		t.Errorf("stored %+v", got)
	}
	if ev.ID != 0 || !strings.Contains(ev.Arguments, "hunter2") {
		t.Errorf("Record changed the caller's event: %+v", ev)
	}
}

// TestRecordConcurrently holds the first commit while 199 more Records
// queue, then lets it go: they all share the next transaction.
func TestRecordConcurrently(t *testing.T) {
	for _, maxBatch := range []int{0, 16} {
		t.Run(fmt.Sprintf("MaxBatch=%d", maxBatch), func(t *testing.T) {
			store := newCountingStore(t)
			reg := prometheus.NewRegistry()
			w := newWriter(t, store, audit.Options{MaxBatch: maxBatch, Metrics: reg})
			held, release := store.holdNext()
			defer release()
			const n = 200
			ids := make([]uint64, n)
			var wg sync.WaitGroup
			record := func(i int) {
				id, err := w.Record(context.Background(), event(fmt.Sprintf(`{"n":%d}`, i)))
				if err != nil {
					t.Error(err)
				}
				ids[i] = id
			}
			wg.Go(func() { record(0) })
			<-held
			for i := 1; i < n; i++ {
				wg.Go(func() { record(i) })
			}
			eventually(t, "199 events queue", func() bool {
				return metricValue(t, reg, "drawbridge_audit_queue_depth") == n
			})
			release()
			wg.Wait()

			seen := map[uint64]bool{}
			for i, id := range ids {
				if id == 0 || seen[id] {
					t.Fatalf("Record %d returned id %d: zero or repeated", i, id)
				}
				seen[id] = true
			}
			txns, largest := store.appends.Load(), store.maxBatch.Load()
			wantTxns := int64(2) // the held one, then the 199 queued behind it
			if maxBatch == 16 {
				wantTxns = 1 + (n-1+15)/16
			}
			if txns != wantTxns || (maxBatch > 0 && largest > int64(maxBatch)) {
				t.Errorf("%d Records took %d transactions of up to %d events, want %d", n, txns, largest, wantTxns)
			}
			if got := metricValue(t, reg, "drawbridge_audit_events_total"); got != n {
				t.Errorf("drawbridge_audit_events_total = %v, want %d", got, n)
			}
			chains, err := store.VerifyAuditChains(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(chains) != 1 || chains[0].Writer != w.Name() || chains[0].Events != n || chains[0].Break != nil {
				t.Errorf("chains = %+v", chains)
			}
		})
	}
}

func TestRecordFailsClosed(t *testing.T) {
	store := newCountingStore(t)
	reg := prometheus.NewRegistry()
	w := newWriter(t, store, audit.Options{Metrics: reg})
	disk := errors.New("disk I/O error")
	store.fail.Store(&disk)
	held, release := store.holdNext()
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() {
			id, err := w.Record(context.Background(), event(`{}`))
			if id != 0 {
				t.Errorf("a failed Record returned id %d", id)
			}
			errs[i] = err
		})
		if i == 0 {
			<-held // the rest queue behind the first
		}
	}
	eventually(t, "all queue", func() bool { return metricValue(t, reg, "drawbridge_audit_queue_depth") == 5 })
	release()
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, disk) {
			t.Errorf("Record %d = %v, want the store's error", i, err)
		}
	}
	if got := metricValue(t, reg, "drawbridge_audit_failures_total", "op", "events"); got != 2 {
		t.Errorf("failures = %v, want 2 transactions", got)
	}
	if chains, _ := store.VerifyAuditChains(context.Background()); len(chains) != 0 {
		t.Errorf("failed Records left events: %+v", chains)
	}

	// The database back, the chain starts where nothing was stored.
	store.fail.Store(nil)
	id, err := w.Record(context.Background(), event(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev, _ := store.GetAuditEvent(context.Background(), id); ev == nil || ev.Seq != 1 {
		t.Errorf("first event after the failures: %+v, want seq 1", ev)
	}
}

func TestRecordRefusesInvalidEvent(t *testing.T) {
	store := newCountingStore(t)
	w := newWriter(t, store, audit.Options{})
	ev := event(`{}`)
	ev.Decision = "perhaps"
	var ve *models.ValidationError
	if _, err := w.Record(context.Background(), ev); !errors.As(err, &ve) || ve.For("decision") == "" {
		t.Errorf("Record = %v, want a validation error on decision", err)
	}
	if n := store.appends.Load(); n != 0 {
		t.Errorf("an invalid event reached the store: %d transactions", n)
	}
}

// TestRecordContextEnds: a Record whose context ends before its commit
// reports the context's error at once; the event may still be committed.
func TestRecordContextEnds(t *testing.T) {
	store := newCountingStore(t)
	w := newWriter(t, store, audit.Options{})
	held, release := store.holdNext()
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		_, err := w.Record(ctx, event(`{"orphan":true}`))
		result <- err
	}()
	<-held
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Fatalf("Record = %v, want context.Canceled", err)
	}
	release()
	// The orphan: stored, for a request its caller refused.
	eventually(t, "the held commit ends", func() bool {
		chains, _ := store.VerifyAuditChains(context.Background())
		return len(chains) == 1 && chains[0].Events == 1
	})

	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := w.Record(done, event(`{}`)); !errors.Is(err, context.Canceled) {
		t.Errorf("Record with an ended context = %v", err)
	}
	if n := store.appends.Load(); n != 1 {
		t.Errorf("%d transactions, want only the orphan's", n)
	}
}

// TestRecordAll commits a JSON-RPC batch's events together.
func TestRecordAll(t *testing.T) {
	store := newCountingStore(t)
	w := newWriter(t, store, audit.Options{MaxBatch: 2})
	evs := []*models.AuditEvent{event(`{"a":1}`), event(`{"b":2}`), event(`{"c":3}`)}
	ids, err := w.RecordAll(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0] >= ids[1] || ids[1] >= ids[2] {
		t.Errorf("ids = %v", ids)
	}
	// Larger than MaxBatch, and still one transaction: all or nothing.
	if n := store.appends.Load(); n != 1 {
		t.Errorf("a batch of 3 took %d transactions", n)
	}
}

func TestCloseCommitsQueuedRecords(t *testing.T) {
	store := newCountingStore(t)
	reg := prometheus.NewRegistry()
	w := audit.New(store, audit.Options{Metrics: reg})
	held, release := store.holdNext()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if _, err := w.Record(context.Background(), event(`{}`)); err != nil {
				t.Errorf("a Record queued before Close: %v", err)
			}
		})
		if i == 0 {
			<-held
		}
	}
	eventually(t, "all queue", func() bool { return metricValue(t, reg, "drawbridge_audit_queue_depth") == 10 })
	closed := make(chan error, 1)
	go func() { closed <- w.Close(context.Background()) }()
	release()
	wg.Wait()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := w.Record(context.Background(), event(`{}`)); !errors.Is(err, audit.ErrClosed) {
		t.Errorf("Record after Close = %v, want ErrClosed", err)
	}
	if got := store.events.Load(); got != 10 {
		t.Errorf("%d events committed, want 10", got)
	}
}

// TestWriterNoticesDeletedHead deletes the writer's newest event behind
// its back. The store remembers the head it wrote, so the next commit
// continues from the deleted event and the gap shows in verification.
func TestWriterNoticesDeletedHead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "drawbridge.db")
	c, _ := models.NewCipher(models.Key{ID: "k1", Secret: make([]byte, models.KeySize)})
	s, err := models.Open(context.Background(), models.Options{Driver: "sqlite", DSN: path, Cipher: c})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reg := prometheus.NewRegistry()
	w := newWriter(t, s, audit.Options{Writer: "gw-test", Metrics: reg})
	ctx := context.Background()
	for range 3 {
		if _, err := w.Record(ctx, event(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Wherever it is: still in SQLite's journal, or settled.
	if _, err := raw.Exec("DELETE FROM audit_journal WHERE seq = 3; DELETE FROM audit_events WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Record(ctx, event(`{}`)); err != nil {
		t.Fatal(err)
	}
	chains, err := s.VerifyAuditChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(chains) != 1 || chains[0].Break == nil {
		t.Errorf("the deleted head went unnoticed: %+v", chains)
	}
}
