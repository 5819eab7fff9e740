package mcp

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// Two keys are one key to some parser when they are equal under Unicode
// simple case folding: Go's encoding/json matches struct fields that way
// ("ſ" is "s", the Kelvin sign is "k"), and many decoders lower-case keys.

func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// sameKey reports whether a and b are equal under simple case folding.
func sameKey(a []byte, aASCII bool, b []byte, bASCII bool) bool {
	if aASCII && bASCII {
		return asciiEqualFold(a, b)
	}
	return bytes.EqualFold(a, b)
}

// appendFold appends the canonical folded form of s: every rune replaced by
// the smallest rune of its fold orbit. If loose, '_' and '-' are dropped too,
// as go-json-experiment's case-insensitive matching does.
func appendFold(dst, s []byte, loose bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if loose && (c == '_' || c == '-') {
				i++
				continue
			}
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// looseName returns the loose fold of key into buf (nil when it is too long
// to be any of the member names the reader gives meaning to).
//
// Only what the fold keeps counts towards that length: "n", forty '_' and
// "ame" is "name" to a decoder that drops separators. A fold keeps a rune
// of at least one byte for each rune of the key (or byte of invalid
// UTF-8), and a rune takes at most four, so once the key has more than
// four times buf's length of other bytes, no fold fits.
func looseName(buf *[16]byte, key []byte) []byte {
	kept := 0
	for _, c := range key {
		if c == '_' || c == '-' {
			continue
		}
		if kept++; kept > 4*len(buf) {
			return nil
		}
	}
	out := appendFold(buf[:0], key, true)
	if len(out) > len(buf) {
		return nil
	}
	return out
}
