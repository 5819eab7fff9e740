package models

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// benchStore opens a fresh store on a temp file, as newTestStore does for
// tests.
func benchStore(b *testing.B) *Store {
	b.Helper()
	c, err := NewCipher(testKey("k1", 1))
	if err != nil {
		b.Fatal(err)
	}
	s, err := Open(context.Background(), Options{Driver: "sqlite", DSN: filepath.Join(b.TempDir(), "drawbridge.db"), Cipher: c})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkAppendAuditEvents appends batches of typical tools/call events
// to a real SQLite file (WAL, synchronous NORMAL: Open's settings) and
// reports the cost per event, the figure the gateway's group commit
// divides by its batch size. Every 1,024 events it records their
// outcomes, in one transaction that settles the journal, as the
// gateway's outcome writer does under load, so the figure includes the
// events' way into audit_events, outcome and all.
//
// The events' request ids rise, as the gateway's do (see
// proxy.NewRequestID); random-request-ids shows what random ones cost.
func BenchmarkAppendAuditEvents(b *testing.B) {
	for _, size := range []int{1, 8, 128} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) { benchAppend(b, size, false) })
	}
	b.Run("batch=8,random-request-ids", func(b *testing.B) { benchAppend(b, 8, true) })
}

func benchAppend(b *testing.B, size int, randomIDs bool) {
	s := benchStore(b)
	ctx := context.Background()
	n := 0
	var outcomes []AuditOutcome
	for b.Loop() {
		evs := make([]*AuditEvent, size)
		for i := range evs {
			evs[i] = testAuditEvent(n)
			if randomIDs {
				evs[i].RequestID = rand.Text()
			}
			n++
		}
		if err := s.AppendAuditEvents(ctx, "bench", evs); err != nil {
			b.Fatal(err)
		}
		for _, e := range evs {
			outcomes = append(outcomes, AuditOutcome{ID: e.ID, Status: 200, Duration: time.Millisecond, ResponseBytes: 120})
		}
		if len(outcomes) >= 1024 {
			if err := s.RecordAuditOutcomes(ctx, outcomes); err != nil {
				b.Fatal(err)
			}
			outcomes = outcomes[:0]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/event")
}
