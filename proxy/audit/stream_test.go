package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/audit"
)

// lockedBuffer is a stream destination tests can read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Every committed event, and each outcome, is copied to the stream as a
// JSON line, redacted as stored.
func TestStreamCopiesEventsAndOutcomes(t *testing.T) {
	store := openStore(t)
	out := &lockedBuffer{}
	w := audit.New(store, audit.Options{Writer: "stream-test", Stream: out})
	ids, err := w.RecordAll(context.Background(), []*models.AuditEvent{event(`{"q":"a"}`), event(`{"password":"hunter2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	w.Outcome(models.AuditOutcome{ID: ids[0], Status: 200, Duration: 1500 * time.Microsecond})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var events, outcomes int
	sc := bufio.NewScanner(bytes.NewReader([]byte(out.String())))
	for sc.Scan() {
		var line struct {
			Type  string `json:"type"`
			Event *struct {
				ID        uint64 `json:"id"`
				Hash      string `json:"hash"`
				Arguments string `json:"arguments"`
			} `json:"event"`
			Outcome *struct {
				ID             uint64 `json:"id"`
				Status         int    `json:"status"`
				DurationMicros int64  `json:"duration_micros"`
			} `json:"outcome"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		switch line.Type {
		case "event":
			events++
			if line.Event.ID == 0 || line.Event.Hash == "" || bytes.Contains([]byte(line.Event.Arguments), []byte("hunter2")) {
				t.Errorf("event line %s: want its id, hash and redacted arguments", sc.Text())
			}
		case "outcome":
			outcomes++
			if line.Outcome.ID != ids[0] || line.Outcome.Status != 200 || line.Outcome.DurationMicros != 1500 {
				t.Errorf("outcome line %s", sc.Text())
			}
		default:
			t.Errorf("line of type %q", line.Type)
		}
	}
	if events != 2 || outcomes != 1 {
		t.Fatalf("%d event and %d outcome lines, want 2 and 1:\n%s", events, outcomes, out.String())
	}
}
