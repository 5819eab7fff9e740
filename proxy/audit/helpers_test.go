package audit_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/audit"
)

// openStore opens a real SQLite store on a temp file, closed when tb ends.
func openStore(tb testing.TB) *models.Store {
	tb.Helper()
	c, err := models.NewCipher(models.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, models.KeySize)})
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "drawbridge.db")
	s, err := models.Open(context.Background(), models.Options{Driver: "sqlite", DSN: path, Cipher: c})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// countingStore wraps the real store: it counts transactions, can fail
// them, and can hold a commit until the test lets it go.
type countingStore struct {
	*models.Store
	appends, events, outcomeCalls atomic.Int64
	maxBatch                      atomic.Int64
	fail                          atomic.Pointer[error] // returned by AppendAuditEvents, storing nothing

	mu   sync.Mutex
	hold chan struct{} // when set, the next AppendAuditEvents waits for it to close
	held chan struct{} // closed once that append is waiting
}

var _ audit.Store = (*countingStore)(nil)

func newCountingStore(tb testing.TB) *countingStore {
	return &countingStore{Store: openStore(tb)}
}

func (s *countingStore) AppendAuditEvents(ctx context.Context, writer string, evs []*models.AuditEvent) error {
	s.mu.Lock()
	hold, held := s.hold, s.held
	s.hold, s.held = nil, nil
	s.mu.Unlock()
	if hold != nil {
		close(held)
		<-hold
	}
	s.appends.Add(1)
	s.events.Add(int64(len(evs)))
	for {
		m := s.maxBatch.Load()
		if int64(len(evs)) <= m || s.maxBatch.CompareAndSwap(m, int64(len(evs))) {
			break
		}
	}
	if err := s.fail.Load(); err != nil {
		return *err
	}
	return s.Store.AppendAuditEvents(ctx, writer, evs)
}

func (s *countingStore) RecordAuditOutcomes(ctx context.Context, outcomes []models.AuditOutcome) error {
	s.outcomeCalls.Add(1)
	return s.Store.RecordAuditOutcomes(ctx, outcomes)
}

// holdNext makes the next commit wait until release is called; held is
// closed once it waits.
func (s *countingStore) holdNext() (held <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.held = make(chan struct{}), make(chan struct{})
	hold := s.hold
	return s.held, sync.OnceFunc(func() { close(hold) })
}

// newWriter returns a writer on store with opts, closed when tb ends.
func newWriter(tb testing.TB, store audit.Store, opts audit.Options) *audit.Writer {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := audit.New(store, opts)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return w
}

// event returns a valid tools/call event with args as its arguments.
func event(args string) *models.AuditEvent {
	user, route := uint(1), uint(2)
	return &models.AuditEvent{
		At: time.Now(), Kind: models.AuditKindMCP, RequestID: "req",
		UserID: &user, UserEmail: "alice@example.com", RouteID: &route, RouteName: "GitHub",
		HTTPMethod: "POST", MCPMethod: "tools/call", Tool: "create_issue", Arguments: args,
		Decision: models.AuditAllow, Reasons: `["policy company-only allows"]`, ConfigVersion: 3,
		SourceIP: "127.0.0.1",
	}
}

// metricValue reads a counter or gauge from reg; 0 if it has no sample.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			for i, l := range m.GetLabel() {
				if 2*i+1 < len(labels) && (l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1]) {
					continue metric
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// eventually polls cond until it holds or a few seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
