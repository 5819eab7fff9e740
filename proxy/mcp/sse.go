package mcp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
)

// MaxSSEEventBytes caps one SSE event FilterSSE holds; a larger one is an
// error rather than a stream passed on unfiltered.
const MaxSSEEventBytes = 16 << 20

// sseLine is one line of the event being read, as bytes of sseEvent.raw.
type sseLine struct {
	start, end int
	data       bool
}

var bom = []byte("\xEF\xBB\xBF")

type sseEvent struct {
	raw   []byte // the event's exact bytes so far
	lines []sseLine
	data  []byte // the data lines' values, each followed by "\n"
	has   bool   // at least one data line
}

func (ev *sseEvent) reset() {
	ev.raw, ev.lines, ev.data, ev.has = ev.raw[:0], ev.lines[:0], ev.data[:0], false
}

// FilterSSE copies an SSE stream from src to dst event by event, flushing
// after each (when dst is an http.Flusher). Every event with data lines has
// its data (the lines joined with "\n", as a client reads it) given to
// filter, FilterAnswer's work in the proxy; data returned unchanged lets
// the event pass byte for byte, changed data replaces the event's data
// lines. Events without data, comments and id/event/retry fields pass as
// they are, and nothing is held beyond the event being read. Lines end in
// "\n", "\r\n" or "\r", per the HTML specification. An event over
// MaxSSEEventBytes, an error from filter, or a stream ending inside an
// event with data is an error: the stream is cut, never passed unfiltered.
func FilterSSE(dst io.Writer, src io.Reader, filter func(data []byte) ([]byte, error)) error {
	flusher, _ := dst.(http.Flusher)
	lr := newLineReader(src, MaxSSEEventBytes)
	var ev sseEvent
	first := true
	for {
		line, lf, err := lr.next()
		if err != nil {
			if err != io.EOF {
				return err
			}
			if ev.has || (len(line) > 0 && isDataLine(line)) {
				return errors.New("mcp: SSE stream ended inside an event")
			}
			_, werr := dst.Write(append(ev.raw, line...))
			return werr
		}
		if lf && len(ev.raw) == 0 { // the rest of a "\r\n" that ended an event
			if _, err := dst.Write(line); err != nil {
				return err
			}
			continue
		}
		if first {
			first = false
			// A leading BOM is no part of the first field name; it passes on
			// its own so that a rewritten event keeps it.
			if rest, ok := bytes.CutPrefix(line, bom); ok {
				if _, err := dst.Write(bom); err != nil {
					return err
				}
				line = rest
			}
		}
		if len(ev.raw)+len(line) > MaxSSEEventBytes {
			return errors.New("mcp: SSE event larger than the cap")
		}
		start := len(ev.raw)
		ev.raw = append(ev.raw, line...)
		if lf {
			ev.lines[len(ev.lines)-1].end = len(ev.raw)
			continue
		}
		content := trimEOL(line)
		if len(content) == 0 {
			ev.lines = append(ev.lines, sseLine{start: start, end: len(ev.raw)})
			if err := dispatch(dst, &ev, filter); err != nil {
				return err
			}
			if flusher != nil {
				flusher.Flush()
			}
			ev.reset()
			continue
		}
		name, value := content, []byte(nil)
		if i := bytes.IndexByte(content, ':'); i >= 0 {
			name, value = content[:i], content[i+1:]
			value = bytes.TrimPrefix(value, []byte(" "))
		}
		isData := string(name) == "data"
		if isData {
			ev.data = append(append(ev.data, value...), '\n')
			ev.has = true
		}
		ev.lines = append(ev.lines, sseLine{start: start, end: len(ev.raw), data: isData})
	}
}

func trimEOL(line []byte) []byte {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line
}

func isDataLine(line []byte) bool {
	c := bytes.TrimPrefix(trimEOL(line), bom)
	return string(c) == "data" || bytes.HasPrefix(c, []byte("data:"))
}

// dispatch writes one whole event: as it came, or with filtered data.
func dispatch(dst io.Writer, ev *sseEvent, filter func([]byte) ([]byte, error)) error {
	if !ev.has {
		_, err := dst.Write(ev.raw)
		return err
	}
	data := ev.data[:len(ev.data)-1]
	out, err := filter(data)
	if err != nil {
		return err
	}
	if bytes.Equal(out, data) {
		_, err := dst.Write(ev.raw)
		return err
	}
	if bytes.IndexByte(out, '\r') >= 0 {
		return errors.New("mcp: filtered SSE data holds a carriage return")
	}
	var b bytes.Buffer
	b.Grow(len(ev.raw) + len(out))
	written := false
	for _, l := range ev.lines {
		if !l.data {
			b.Write(ev.raw[l.start:l.end])
			continue
		}
		if written {
			continue
		}
		for _, part := range bytes.Split(out, []byte("\n")) {
			b.WriteString("data: ")
			b.Write(part)
			b.WriteByte('\n')
		}
		written = true
	}
	_, err = dst.Write(b.Bytes())
	return err
}
