package audit_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/drawbridge/drawbridge/proxy/audit"
)

// benchArgs are typical tools/call arguments: a few hundred bytes, one
// of them redacted.
const benchArgs = `{"owner":"acme","repo":"app","title":"Crash on start","body":"Steps: open the app, ` +
	`sign in, wait. Expected: the dashboard. Actual: a blank page and an error in the console.",` +
	`"labels":["bug","p1"],"assignees":["alice"],"api_token":"ghp_0123456789abcdef"}`

// BenchmarkRecord records events through a Writer on a real SQLite file,
// from 1 and from 32 goroutines, and reports how many events shared each
// transaction.
func BenchmarkRecord(b *testing.B) {
	for _, conc := range []int{1, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			store := newCountingStore(b)
			w := newWriter(b, store, audit.Options{})
			ctx := context.Background()
			b.ReportAllocs()
			if conc == 1 {
				for b.Loop() {
					if _, err := w.Record(ctx, event(benchArgs)); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism((conc + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := w.Record(ctx, event(benchArgs)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.StopTimer()
			if n := store.appends.Load(); n > 0 {
				b.ReportMetric(float64(store.events.Load())/float64(n), "events/txn")
			}
		})
	}
}

// BenchmarkRedact is the redaction every Record does in the request's
// own goroutine.
func BenchmarkRedact(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		audit.Redact([]byte(benchArgs), audit.DefaultRedactKeys, audit.DefaultMaxArgumentBytes)
	}
}
