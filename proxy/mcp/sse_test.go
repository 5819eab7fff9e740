package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// upper is a filter that changes data that holds "tools" and keeps the rest.
func upper(data []byte) ([]byte, error) {
	if bytes.Contains(data, []byte("tools")) {
		return bytes.ToUpper(data), nil
	}
	return data, nil
}

func TestFilterSSEPassesThrough(t *testing.T) {
	stream := "\xEF\xBB\xBF: hello\n\nid: 1\r\nevent: message\r\ndata: {\"a\":1}\r\n\r\nretry: 10\rdata:{\"b\":2}\r\rdata\n\n" +
		"data: one\r\ndata: two\n\n: trailing comment\n"
	// Read whole, and one byte at a time: a "\r\n" split across reads is
	// still one line end.
	for _, src := range []io.Reader{strings.NewReader(stream), iotest.OneByteReader(strings.NewReader(stream))} {
		var seen []string
		var dst bytes.Buffer
		err := FilterSSE(&dst, src, func(d []byte) ([]byte, error) {
			seen = append(seen, string(d))
			return d, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if dst.String() != stream {
			t.Errorf("got %q\nwant %q", dst.String(), stream)
		}
		want := []string{`{"a":1}`, `{"b":2}`, ``, "one\ntwo"}
		if strings.Join(seen, "|") != strings.Join(want, "|") {
			t.Errorf("filter saw %q, want %q", seen, want)
		}
	}
}

func TestFilterSSERewrites(t *testing.T) {
	stream := "id: 7\ndata: {\"tools\":\ndata:  [1]}\nevent: message\n\ndata: keep\n\n"
	var dst bytes.Buffer
	if err := FilterSSE(&dst, strings.NewReader(stream), upper); err != nil {
		t.Fatal(err)
	}
	want := "id: 7\ndata: {\"TOOLS\":\ndata:  [1]}\nevent: message\n\ndata: keep\n\n"
	if dst.String() != want {
		t.Errorf("got %q\nwant %q", dst.String(), want)
	}
}

// A "\r\n" split across reads inside a rewritten event keeps both bytes.
func TestFilterSSERewritesSplitLineEnds(t *testing.T) {
	stream := "id: 7\r\ndata: tools\r\nevent: m\r\n\r\n"
	var dst bytes.Buffer
	if err := FilterSSE(&dst, iotest.OneByteReader(strings.NewReader(stream)), upper); err != nil {
		t.Fatal(err)
	}
	if want := "id: 7\r\ndata: TOOLS\nevent: m\r\n\r\n"; dst.String() != want {
		t.Errorf("got %q, want %q", dst.String(), want)
	}
}

// A BOM before the first field does not hide a data line from the filter.
func TestFilterSSEBOMDoesNotHideData(t *testing.T) {
	var dst bytes.Buffer
	if err := FilterSSE(&dst, strings.NewReader("\xEF\xBB\xBFdata: tools\n\n"), upper); err != nil {
		t.Fatal(err)
	}
	if dst.String() != "\xEF\xBB\xBFdata: TOOLS\n\n" {
		t.Errorf("got %q", dst.String())
	}
}

func TestFilterSSEFailsClosed(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		stream string
		filter func([]byte) ([]byte, error)
	}{
		{"filter error", "data: x\n\n", func([]byte) ([]byte, error) { return nil, boom }},
		{"ends inside an event", "data: {\"tools\":[]}\n", upper},
		{"ends inside a data line", "id: 1\ndata: {\"tools\"", upper},
		{"carriage return in new data", "data: tools\n\n", func([]byte) ([]byte, error) { return []byte("a\rb"), nil }},
		{"event over the cap", "data: " + strings.Repeat("x", MaxSSEEventBytes/2) + "\ndata: " + strings.Repeat("x", MaxSSEEventBytes/2) + "\n\n", upper},
		{"line over the cap", "data: " + strings.Repeat("x", MaxSSEEventBytes+1), upper},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst bytes.Buffer
			if err := FilterSSE(&dst, strings.NewReader(tt.stream), tt.filter); err == nil {
				t.Errorf("no error; wrote %.60q", dst.String())
			}
			if strings.Contains(dst.String(), "tools") {
				t.Errorf("unfiltered data passed: %.60q", dst.String())
			}
		})
	}
}

// flushRecorder is a writer that sends each flushed write on a channel.
type flushRecorder struct {
	buf     bytes.Buffer
	flushed chan string
}

func (f *flushRecorder) Write(p []byte) (int, error) { return f.buf.Write(p) }
func (f *flushRecorder) Flush() {
	f.flushed <- f.buf.String()
	f.buf.Reset()
}

// Each event reaches the client when it ends, not when the next arrives,
// even when its last line end is a lone "\r".
func TestFilterSSEIsImmediate(t *testing.T) {
	pr, pw := io.Pipe()
	rec := &flushRecorder{flushed: make(chan string, 10)}
	done := make(chan error, 1)
	go func() { done <- FilterSSE(rec, pr, upper) }()
	for _, ev := range []string{": ping\n\n", "data: {\"tools\":[]}\r\r", "\ndata: b\n\n"} {
		if _, err := pw.Write([]byte(ev)); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-rec.flushed:
			want := strings.Replace(ev, "{\"tools\":[]}\r", "{\"TOOLS\":[]}\n", 1)
			if ev[0] != '\n' && got != want {
				t.Errorf("flushed %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %q not flushed before the next one", ev)
		}
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// FilterAnswer is the filter the proxy gives FilterSSE.
func TestFilterSSEWithFilterAnswer(t *testing.T) {
	ids := []json.RawMessage{json.RawMessage("1")}
	stream := "id: e1\ndata: " + strings.ReplaceAll(list, "\n", "\ndata: ") + "\n\n"
	var dst bytes.Buffer
	removed := 0
	err := FilterSSE(&dst, strings.NewReader(stream), func(d []byte) ([]byte, error) {
		out, n, err := FilterAnswer(d, ids, allowOnly("c"))
		removed += n
		return out, err
	})
	if err != nil || removed != 2 {
		t.Fatalf("removed %d, %v", removed, err)
	}
	if s := dst.String(); !strings.HasPrefix(s, "id: e1\ndata: ") || strings.Contains(s, `"name":"a"`) || !strings.Contains(s, `"name":"c"`) {
		t.Errorf("got %q", s)
	}
}
