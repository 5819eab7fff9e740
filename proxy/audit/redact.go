package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Redacted is what replaces a value under a sensitive key.
const Redacted = `"[redacted]"`

// Redact returns args as the audit log stores them: compact JSON in which
// the value under every object key matching keys, at any depth and
// whatever its type, is replaced by "[redacted]". A key matches when,
// lowercased and without the separators - _ . and space, it contains one
// of keys so treated: "api_key" matches "X-Api-Key" and "apiKeyId".
// Everything else is kept as it was written, in its order.
//
// Empty args give "". When the result would be longer than max bytes (0
// for no cap), or args are not valid JSON, the result is a note instead,
// never a fragment: {"_drawbridge":"cut","bytes":N} or
// {"_drawbridge":"unreadable","bytes":N}, N being the size of args.
//
// Matching over-redacts rather than under: "max_tokens" matches "token".
// A secret inside a string value (a JSON document, a URL with a key in
// it) is not found.
func Redact(args json.RawMessage, keys []string, max int) string {
	return redact(args, normalizeKeys(keys), max)
}

// normalizeKeys prepares keys for matching, dropping any that would
// match everything.
func normalizeKeys(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if k = normalizeKey(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// normalizeKey lowercases k and drops the separators people vary.
func normalizeKey(k string) string {
	return string(appendNormalized(nil, []byte(k)))
}

// appendNormalized appends key, normalized, to dst.
func appendNormalized(dst, key []byte) []byte {
	for i, c := range key {
		if c >= utf8.RuneSelf { // rare: the rest goes the slow, Unicode way
			for _, r := range strings.ToLower(string(key[i:])) {
				if r != '-' && r != '_' && r != '.' && r != ' ' {
					dst = utf8.AppendRune(dst, r)
				}
			}
			return dst
		}
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// note is the JSON that stands in for arguments not stored.
func note(what string, size int) string {
	return `{"_drawbridge":"` + what + `","bytes":` + strconv.Itoa(size) + `}`
}

// redact is Redact with keys already normalized.
func redact(args []byte, keys []string, max int) (out string) {
	in := bytes.Trim(args, " \t\r\n") // JSON's whitespace, and only that
	if len(in) == 0 {
		return ""
	}
	if !json.Valid(in) {
		return note("unreadable", len(args))
	}
	size := len(in)
	if max > 0 && max < size {
		size = max + 1
	}
	r := &redactor{in: in, keys: keys, max: max, out: make([]byte, 0, size)}
	defer func() {
		if v := recover(); v != nil {
			if v != errCut {
				panic(v)
			}
			out = note("cut", len(args))
		}
	}()
	r.value()
	s := strings.ToValidUTF8(string(r.out), "\uFFFD")
	if max > 0 && len(s) > max {
		return note("cut", len(args))
	}
	return s
}

// errCut stops a redactor whose output has passed its cap.
var errCut = errors.New("audit: arguments over the cap")

// redactor copies valid JSON from in to out, token by token, replacing
// the values under sensitive keys. Its input has passed json.Valid, so
// it only finds boundaries; it never has to reject anything.
type redactor struct {
	in   []byte
	pos  int
	out  []byte
	keys []string
	max  int
}

func (r *redactor) emit(b []byte) {
	r.out = append(r.out, b...)
	r.check()
}

func (r *redactor) emitByte(c byte) {
	r.out = append(r.out, c)
	r.check()
}

// check stops the copy once the output is past the cap: it will be
// replaced by a note anyway.
func (r *redactor) check() {
	if r.max > 0 && len(r.out) > r.max {
		panic(errCut)
	}
}

func (r *redactor) space() {
	for r.pos < len(r.in) {
		switch r.in[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// value copies one value.
func (r *redactor) value() {
	r.space()
	switch r.in[r.pos] {
	case '{':
		r.object()
	case '[':
		r.array()
	default:
		start := r.pos
		r.skip()
		r.emit(r.in[start:r.pos])
	}
}

func (r *redactor) object() {
	r.pos++ // {
	r.emitByte('{')
	r.space()
	if r.in[r.pos] == '}' {
		r.pos++
		r.emitByte('}')
		return
	}
	for {
		r.space()
		start := r.pos
		r.skipString()
		key := r.in[start:r.pos]
		r.emit(key)
		r.space()
		r.pos++ // :
		r.emitByte(':')
		if r.sensitive(key) {
			r.space()
			r.skip()
			r.emit([]byte(Redacted))
		} else {
			r.value()
		}
		r.space()
		c := r.in[r.pos]
		r.pos++
		r.emitByte(c)
		if c == '}' {
			return
		}
	}
}

func (r *redactor) array() {
	r.pos++ // [
	r.emitByte('[')
	r.space()
	if r.in[r.pos] == ']' {
		r.pos++
		r.emitByte(']')
		return
	}
	for {
		r.value()
		r.space()
		c := r.in[r.pos]
		r.pos++
		r.emitByte(c)
		if c == ']' {
			return
		}
	}
}

// skip moves past one value without copying it.
func (r *redactor) skip() {
	switch r.in[r.pos] {
	case '"':
		r.skipString()
	case '{', '[':
		depth := 0
		for {
			switch r.in[r.pos] {
			case '"':
				r.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			r.pos++
			if depth == 0 {
				return
			}
		}
	default: // number, true, false, null
		for r.pos < len(r.in) {
			switch r.in[r.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			r.pos++
		}
	}
}

// skipString moves past a string, its quotes included.
func (r *redactor) skipString() {
	r.pos++ // "
	for {
		switch r.in[r.pos] {
		case '\\':
			r.pos += 2
		case '"':
			r.pos++
			return
		default:
			r.pos++
		}
	}
}

// sensitive reports whether the raw, quoted key matches a redact key.
func (r *redactor) sensitive(raw []byte) bool {
	key := raw[1 : len(raw)-1]
	if bytes.IndexByte(key, '\\') >= 0 {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return true // cannot happen after json.Valid; if it did, hide the value
		}
		key = []byte(s)
	}
	var buf [64]byte
	norm := appendNormalized(buf[:0], key)
	for _, k := range r.keys {
		if bytes.Contains(norm, []byte(k)) {
			return true
		}
	}
	return false
}
