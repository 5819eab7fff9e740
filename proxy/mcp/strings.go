package mcp

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// plain marks the bytes a string may hold as they are: printable ASCII and
// DEL, but not the quote or the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// specialMask flags, in the high bit of each of eight little-endian bytes,
// those that are a quote, a backslash, a control character or not ASCII:
// bytes strAt must look at one by one. Each byte is tested on its low
// seven bits, where adding to a byte never carries into the next, so every
// flag is exact.
func specialMask(v uint64) uint64 {
	const ones, highs, lows = 0x0101010101010101, 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	x := v & lows
	// The high bit of each sum is set in a byte that is at least 0x20, not
	// '"' and not '\\' in turn; v's own is set in a byte not ASCII. One
	// expression, and no variable for each, keeps shortStrAt inlined.
	return highs &^ ((x + ones*(0x80-0x20)) & ((x ^ ones*'"') + lows) & ((x ^ ones*'\\') + lows) &^ v)
}

// shortStrAt is strAt for the common short string, small enough to be
// inlined: it returns the end of the string at i when its closing quote
// is within the eight bytes after the opening one and no byte before it is
// special, or 0 to leave the string to strRest.
func shortStrAt(b []byte, i int) int {
	if len(b)-i < 9 {
		return 0
	}
	w := binary.LittleEndian.Uint64(b[i+1:])
	// The flag of the first special byte is bit 8k+7 for byte k; when no
	// byte is special, the top bit stands in, for a plain byte.
	at := bits.TrailingZeros64(specialMask(w) | 1<<63)
	if byte(w>>(at&56)) != '"' {
		return 0
	}
	return i + 2 + at/8
}

// strAt reads the string whose opening quote is at i and returns the
// index just past its closing quote: its raw contents are b[i+1:end-1].
func strAt(b []byte, i int) (end int, fl strFlags, err error) {
	if end = shortStrAt(b, i); end != 0 {
		return end, 0, nil
	}
	return strRest(b, i+1)
}

// strRest is strAt going on from i, within a string whose contents up to
// i are plain.
func strRest(b []byte, i int) (end int, fl strFlags, err error) {
	for {
		// Sixteen bytes at a time while none is special, the two words
		// tested side by side rather than one after the other; then
		// straight to the first special byte, rather than one by one.
		switch {
		case i+16 <= len(b):
			w, w1 := binary.LittleEndian.Uint64(b[i:]), binary.LittleEndian.Uint64(b[i+8:])
			m, m1 := specialMask(w), specialMask(w1)
			if m|m1 == 0 {
				i += 16
				continue
			}
			if m == 0 {
				i, w, m = i+8, w1, m1
			}
			at := bits.TrailingZeros64(m)
			if i += at / 8; byte(w>>(at&56)) == '"' {
				return i + 1, fl, nil
			}
		case i+8 <= len(b):
			w := binary.LittleEndian.Uint64(b[i:])
			m := specialMask(w)
			if m == 0 {
				i += 8
				continue
			}
			at := bits.TrailingZeros64(m)
			if i += at / 8; byte(w>>(at&56)) == '"' {
				return i + 1, fl, nil
			}
		case i >= len(b):
			return i, 0, syntaxAt(i, "unterminated string")
		case plain[b[i]]:
			i++
			continue
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, fl, nil
		case c == '\\':
			n, r, ok := escape(b[i:])
			if !ok {
				return i, 0, syntaxAt(i, "invalid escape or lone surrogate in string")
			}
			fl |= flagEscape
			if r >= utf8.RuneSelf {
				fl |= flagNonASCII
			} else if r == 0 {
				fl |= flagNUL
			}
			i += n
		case c < 0x20:
			return i, 0, syntaxAt(i, "control character in string")
		default:
			// A run of non-ASCII bytes ends before an ASCII byte, which no
			// rune's encoding holds: the run is valid UTF-8 exactly when
			// each of its runes is.
			j := i + 1
			for j < len(b) && b[j] >= utf8.RuneSelf {
				j++
			}
			if !utf8.Valid(b[i:j]) {
				i = firstInvalidRune(b, i)
				return i, 0, syntaxAt(i, "invalid UTF-8")
			}
			fl |= flagNonASCII
			i = j
		}
	}
}

// firstInvalidRune returns where, from i on, b stops being valid UTF-8.
func firstInvalidRune(b []byte, i int) int {
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return i
}

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

// unquote appends the decoded contents of a string that strAt has checked.
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

// stringAt decodes the string value, already read, whose opening quote is
// at start.
func (p *scanner) stringAt(start int) []byte {
	end, _, _ := strAt(p.buf, start)
	return p.strValue(start+1, end-1)
}
