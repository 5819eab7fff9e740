package mcp

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// DefaultMaxBodyBytes is the body cap Read applies when given none.
const DefaultMaxBodyBytes = 4 << 20

// Read reads and checks the body of a POST to an MCP route: at most
// maxBytes (DefaultMaxBodyBytes when maxBytes <= 0), never truncated. It
// returns an *Error for anything refused.
func Read(r *http.Request, maxBytes int64) (*Request, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	if e := checkContentType(r.Header); e != nil {
		return nil, e
	}
	if r.ContentLength > maxBytes {
		return nil, tooLarge(maxBytes)
	}
	if r.Body == nil {
		return nil, errStatus(400, CodeParseError, "empty body")
	}
	// Read one byte past the cap: a body that fills it exactly is whole,
	// one that overflows it is refused rather than cut.
	size := int64(512)
	if r.ContentLength > 0 {
		size = r.ContentLength + 1
	}
	buf := make([]byte, 0, size)
	lr := io.LimitReader(r.Body, maxBytes+1)
	for {
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errStatus(400, CodeParseError, "could not read the body")
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
	if int64(len(buf)) > maxBytes {
		return nil, tooLarge(maxBytes)
	}
	return Parse(buf, r.Header)
}

func tooLarge(max int64) *Error {
	return errStatus(413, CodeInvalidRequest, "the body is larger than "+strconv.FormatInt(max, 10)+" bytes")
}

// checkContentType accepts only application/json, with no charset other
// than UTF-8 (an upstream honouring charset=utf-16 would read other text),
// and no content coding (the bytes read would not be the bytes meant).
func checkContentType(h http.Header) *Error {
	cts := h.Values("Content-Type")
	if len(cts) != 1 {
		return errStatus(415, CodeInvalidRequest, "Content-Type must be application/json")
	}
	if cts[0] != "application/json" {
		mt, params, err := mime.ParseMediaType(cts[0])
		if err != nil || mt != "application/json" {
			return errStatus(415, CodeInvalidRequest, "Content-Type must be application/json")
		}
		if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
			return errStatus(415, CodeInvalidRequest, "the only charset accepted is utf-8")
		}
	}
	for _, ce := range h.Values("Content-Encoding") {
		if !strings.EqualFold(strings.TrimSpace(ce), "identity") {
			return errStatus(415, CodeInvalidRequest, "content codings are not accepted")
		}
	}
	return nil
}
