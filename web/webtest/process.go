package webtest

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
)

// processLog keeps the provider's output: until the provider is ready it is
// buffered (and shown if start-up fails); after that each line goes to t.Log,
// which shows it when the test fails or runs with -v.
type processLog struct {
	t       testing.TB
	mu      sync.Mutex
	buf     bytes.Buffer
	stream  bool
	stopped bool
}

func (l *processLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.stopped:
	case l.stream:
		l.t.Log("oidc-provider " + line)
	default:
		l.buf.WriteString(line + "\n")
	}
}

func (l *processLog) streamToTest() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range strings.Lines(l.buf.String()) {
		l.t.Log("oidc-provider " + strings.TrimSuffix(line, "\n"))
	}
	l.buf.Reset()
	l.stream = true
}

// stop ends logging to t, which must not be used once the test is over.
func (l *processLog) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}

func (l *processLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stream {
		return "(the provider's output is in the test log above)"
	}
	if l.buf.Len() == 0 {
		return "(no output from the provider)"
	}
	return "provider output:\n" + l.buf.String()
}

// lineWriter calls fn with each complete line written to it.
type lineWriter struct {
	fn      func(line string)
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.fn(string(bytes.TrimRight(w.partial[:i], "\r")))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

var _ io.Writer = (*lineWriter)(nil)
