package audit

import "time"

// The group commit's linger: when a batch may wait for more requests.
//
// A commit costs SQLite about the same for one event as for several: each
// of the event table's B-trees gets a dirty page, written to the WAL. So
// under concurrency a batch should gather the requests in flight before it
// commits. But a lone caller must never wait for company that cannot come:
// its next request waits for this one's answer.
//
// The gateway tells the writer how many requests it is serving (Expect).
// A batch lingers, up to Options.Linger, only while some of them are
// neither in it nor queued: at concurrency 1 the only request in flight
// is the batch's own, and it commits at once. A request that is in
// flight is not always on its way, though: it may be waiting for a slow
// upstream. So the writer also watches whether lingering pays: after
// lingerMisses lingers in a row that gathered nothing, it lingers only
// on every lingerProbe-th batch, until one pays again.

// Defaults and bounds of the linger.
const (
	// DefaultLinger is Options.Linger's default. At 2,000 tools/call a
	// second, 2 ms gathers a few requests into each commit and cuts the
	// gateway's CPU per request by about a fifth (cmd/drawbench).
	DefaultLinger = 2 * time.Millisecond
	lingerMisses  = 4
	lingerProbe   = 16
)

// Expect tells the writer that n more requests (n < 0: fewer) are being
// served and may Record soon. The gateway calls Expect(1) when it starts
// on an MCP POST and Expect(-1) when it has answered it.
func (w *Writer) Expect(n int) { w.inFlight.Add(int64(n)) }

// othersInFlight reports whether announced requests are neither among
// the requests of the batch being gathered nor queued.
func (w *Writer) othersInFlight(requests int) bool {
	return w.inFlight.Load()-int64(requests)-int64(len(w.records)) > 0
}

// lingerPolicy remembers whether recent lingers paid. The writing
// goroutine's own.
type lingerPolicy struct {
	misses  int // lingers in a row that gathered nothing
	skipped int // batches since the last linger, once misses stopped them
}

// try reports whether this batch may linger.
func (l *lingerPolicy) try() bool {
	if l.misses < lingerMisses {
		return true
	}
	l.skipped++
	if l.skipped < lingerProbe {
		return false
	}
	l.skipped = 0
	return true
}

// result records whether a linger gathered at least one request.
func (l *lingerPolicy) result(gathered bool) {
	if gathered {
		l.misses, l.skipped = 0, 0
	} else {
		l.misses++
	}
}
