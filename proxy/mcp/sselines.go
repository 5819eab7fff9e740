package mcp

import (
	"bytes"
	"errors"
	"io"
)

// lineReader splits an SSE stream into lines ended by "\n", "\r\n" or "\r",
// as soon as each line's end has arrived: a lone "\r" is not held back to
// see whether "\n" follows (the stream may be idle); a "\n" that then comes
// is returned on its own as the rest of that line end.
type lineReader struct {
	src     io.Reader
	buf     []byte
	r, w    int
	max     int
	afterCR bool // the last line ended in a lone "\r"
	err     error
}

var errLineTooLong = errors.New("mcp: SSE line longer than the event cap")

func newLineReader(src io.Reader, max int) *lineReader {
	return &lineReader{src: src, buf: make([]byte, 4096), max: max}
}

// next returns the next line with its end, and whether it is only the "\n"
// completing a "\r\n" split across reads. The line is valid until the next
// call. At the end of the stream it returns the unended rest with io.EOF.
func (l *lineReader) next() (line []byte, lf bool, err error) {
	for {
		if l.afterCR && l.r < l.w {
			l.afterCR = false
			if l.buf[l.r] == '\n' {
				l.r++
				return l.buf[l.r-1 : l.r], true, nil
			}
		}
		if i := bytes.IndexAny(l.buf[l.r:l.w], "\r\n"); i >= 0 {
			start, end := l.r, l.r+i+1
			if l.buf[end-1] == '\r' {
				switch {
				case end < l.w && l.buf[end] == '\n':
					end++
				case end == l.w:
					l.afterCR = true
				}
			}
			l.r = end
			return l.buf[start:end], false, nil
		}
		if l.err != nil {
			rest := l.buf[l.r:l.w]
			l.r = l.w
			return rest, false, l.err
		}
		l.fill()
	}
}

// fill reads more of the stream, making room first.
func (l *lineReader) fill() {
	if l.r > 0 {
		l.w = copy(l.buf, l.buf[l.r:l.w])
		l.r = 0
	}
	if l.w == len(l.buf) {
		if len(l.buf) >= l.max {
			l.err = errLineTooLong
			return
		}
		nb := make([]byte, min(2*len(l.buf), l.max))
		copy(nb, l.buf[:l.w])
		l.buf = nb
	}
	n, err := l.src.Read(l.buf[l.w:])
	l.w += n
	if err != nil {
		l.err = err
	}
}
