package mcp

import (
	"unicode/utf16"
	"unicode/utf8"
)

// escape reads the backslash escape at the start of b and returns its length
// and the rune it stands for. A \u escape of a surrogate must be a high one
// followed at once by a low one: parsers differ on lone surrogates (error,
// U+FFFD, or kept as they are), so they are refused.
func escape(b []byte) (n int, r rune, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	switch b[1] {
	case '"', '\\', '/':
		return 2, rune(b[1]), true
	case 'b':
		return 2, '\b', true
	case 'f':
		return 2, '\f', true
	case 'n':
		return 2, '\n', true
	case 'r':
		return 2, '\r', true
	case 't':
		return 2, '\t', true
	case 'u':
		r, ok = hex4(b[2:])
		if !ok {
			return 0, 0, false
		}
		switch {
		case r < 0xD800 || r > 0xDFFF:
			return 6, r, true
		case r >= 0xDC00:
			return 0, 0, false // low surrogate first
		}
		if len(b) < 12 || b[6] != '\\' || b[7] != 'u' {
			return 0, 0, false
		}
		lo, ok := hex4(b[8:])
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return 0, 0, false
		}
		return 12, utf16.DecodeRune(r, lo), true
	}
	return 0, 0, false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unquote appends the decoded contents of a string that str has checked.
func unquote(dst, raw []byte) []byte {
	for len(raw) > 0 {
		i := 0
		for i < len(raw) && raw[i] != '\\' {
			i++
		}
		dst = append(dst, raw[:i]...)
		if raw = raw[i:]; len(raw) == 0 {
			break
		}
		n, r, _ := escape(raw)
		dst = utf8.AppendRune(dst, r)
		raw = raw[n:]
	}
	return dst
}

// strValue returns the decoded string at [start,end) of the raw contents,
// sharing the body's bytes when there is no escape.
func (p *scanner) strValue(start, end int) []byte {
	raw := p.buf[start:end]
	for _, c := range raw {
		if c == '\\' {
			p.tmp = unquote(p.tmp[:0], raw)
			return p.tmp
		}
	}
	return raw
}

// stringAt decodes the string value whose opening quote is at start.
func (p *scanner) stringAt(start int) []byte {
	save := p.pos
	p.pos = start
	s, e, _, _ := p.str()
	p.pos = save
	return p.strValue(s, e)
}
