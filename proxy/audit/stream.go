package audit

import (
	"bufio"
	"encoding/json"
	"io"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// maxStreamQueue bounds the lines waiting for the stream. The database
// is the record; the stream is a copy for a SIEM, and a stream that
// cannot keep up loses lines (counted in
// drawbridge_audit_stream_dropped_total) rather than slow the gateway.
const maxStreamQueue = 1 << 16

// streamLine is one JSON line of the stream: an event as committed, or
// the outcome of one, which arrives later and names it by id.
type streamLine struct {
	Type    string             `json:"type"` // "event" or "outcome"
	Event   *models.AuditEvent `json:"event,omitempty"`
	Outcome *streamOutcome     `json:"outcome,omitempty"`
}

// streamOutcome is an outcome as the stream spells it.
type streamOutcome struct {
	ID             uint64    `json:"id"` // the event's
	Status         int       `json:"status"`
	RPCErrorCode   *int      `json:"rpc_error_code,omitempty"`
	IsError        *bool     `json:"is_error,omitempty"`
	DurationMicros int64     `json:"duration_micros"`
	ResponseBytes  int64     `json:"response_bytes"`
	At             time.Time `json:"at"`
}

// stream copies committed events and their outcomes to an io.Writer as
// JSON lines, from a goroutine of its own.
type stream struct {
	lines chan streamLine
	done  chan struct{}
	w     *Writer
}

func newStream(w *Writer, out io.Writer) *stream {
	s := &stream{lines: make(chan streamLine, maxStreamQueue), done: make(chan struct{}), w: w}
	go s.run(out)
	return s
}

func (s *stream) run(out io.Writer) {
	defer close(s.done)
	buf := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(buf)
	for l := range s.lines {
		if err := enc.Encode(l); err != nil {
			s.w.log.Warn("audit: stream write failed", "error", err)
		}
		if len(s.lines) == 0 { // caught up: hand what we have to the reader
			if err := buf.Flush(); err != nil {
				s.w.log.Warn("audit: stream write failed", "error", err)
			}
		}
	}
	// The last lines, at Close: after this the caller closes out.
	if err := buf.Flush(); err != nil {
		s.w.log.Warn("audit: stream write failed at close", "error", err)
	}
}

func (s *stream) send(l streamLine) {
	select {
	case s.lines <- l:
	default:
		s.w.m.streamDropped.Inc()
	}
}

// events copies committed events: copies, since the caller's may change.
func (s *stream) events(evs []*models.AuditEvent) {
	for _, e := range evs {
		cp := *e
		s.send(streamLine{Type: "event", Event: &cp})
	}
}

func (s *stream) outcomes(batch []models.AuditOutcome) {
	for _, o := range batch {
		s.send(streamLine{Type: "outcome", Outcome: &streamOutcome{
			ID: o.ID, Status: o.Status, RPCErrorCode: o.RPCErrorCode, IsError: o.IsError,
			DurationMicros: o.Duration.Microseconds(), ResponseBytes: o.ResponseBytes, At: o.At.UTC(),
		}})
	}
}

// close writes out what is queued, waiting at most a moment.
func (s *stream) close() {
	close(s.lines)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}
