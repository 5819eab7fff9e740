package mcp

import (
	"encoding/binary"
	"strconv"
	"sync"
	"unicode/utf8"
)

// maxDepth bounds nesting. Parsers disagree on their own limits (Python's
// recursion, the Go SDK's 1000); MCP messages nest a handful of levels, so a
// low bound costs nothing and keeps the recursive reader's stack small.
const maxDepth = 128

// scanner is a strict JSON reader over a byte slice. It accepts exactly RFC
// 8259 JSON, and refuses what parsers read differently: invalid UTF-8, lone
// surrogate escapes, and object keys equal under Unicode case folding (which
// covers exact duplicates). It never builds a tree: callers walk objects with
// openObject/next and skip what they do not need with value.
type scanner struct {
	buf   []byte
	pos   int
	depth int
	keys  []keyRef // keys of the objects being read, innermost last
	arena []byte   // decoded keys that held escapes
	tmp   []byte   // scratch for decoded values
	fold  []byte   // scratch for folded keys
	soft  *Error   // first refusal that leaves the JSON itself readable

	rev      string // the request's revision
	explicit bool   // whether a header named it
}

var scanners = sync.Pool{New: func() any { return new(scanner) }}

func getScanner(buf []byte) *scanner {
	p := scanners.Get().(*scanner)
	p.buf, p.pos, p.depth, p.soft, p.rev, p.explicit = buf, 0, 0, nil, "", false
	p.keys, p.arena, p.tmp = p.keys[:0], p.arena[:0], p.tmp[:0]
	return p
}

func putScanner(p *scanner) {
	p.buf, p.soft = nil, nil
	if cap(p.arena) > 64<<10 || cap(p.tmp) > 64<<10 || cap(p.keys) > 4096 {
		return // do not pin the memory of one huge body
	}
	scanners.Put(p)
}

// Value kinds returned by value.
const (
	kindObject = '{'
	kindArray  = '['
	kindString = '"'
	kindInt    = 'i' // a number without fraction or exponent
	kindFloat  = 'f'
	kindTrue   = 't'
	kindFalse  = 'F'
	kindNull   = 'n'
)

// strFlags describe the decoded contents of a string.
type strFlags uint8

const (
	flagEscape   strFlags = 1 << iota // holds at least one backslash escape
	flagNonASCII                      // decodes to at least one non-ASCII rune
	flagNUL                           // decodes to at least one U+0000
)

// syntax reports JSON that cannot be read; no id can be trusted after it.
func (p *scanner) syntax(msg string) *Error {
	return &Error{Status: 400, Code: CodeParseError,
		Message: "invalid JSON at byte " + strconv.Itoa(p.pos) + ": " + msg}
}

// fail records a refusal that leaves the JSON readable; reading goes on so
// that a later syntax error still wins and the id is only used when sure.
func (p *scanner) fail(status, code int, msg string) {
	if p.soft == nil {
		p.soft = &Error{Status: status, Code: code, Message: msg}
	}
}

func (p *scanner) skipWS() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value reads any JSON value at p.pos (after whitespace) and returns its
// kind and start; it ends at p.pos.
func (p *scanner) value() (kind byte, start int, err error) {
	p.skipWS()
	start = p.pos
	if p.pos >= len(p.buf) {
		return 0, start, p.syntax("unexpected end of input")
	}
	switch c := p.buf[p.pos]; c {
	case '{':
		return kindObject, start, p.skipObject()
	case '[':
		return kindArray, start, p.skipArray()
	case '"':
		_, _, _, err = p.str()
		return kindString, start, err
	case 't':
		return kindTrue, start, p.literal("true")
	case 'f':
		return kindFalse, start, p.literal("false")
	case 'n':
		return kindNull, start, p.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			isInt, err := p.number()
			if isInt {
				return kindInt, start, err
			}
			return kindFloat, start, err
		}
		return 0, start, p.syntax("unexpected character")
	}
}

func (p *scanner) literal(lit string) error {
	if len(p.buf)-p.pos < len(lit) || string(p.buf[p.pos:p.pos+len(lit)]) != lit {
		return p.syntax("invalid literal")
	}
	p.pos += len(lit)
	return nil
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *scanner) number() (isInt bool, err error) {
	b, i := p.buf, p.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return false, p.syntax("invalid number")
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		if i++; i >= len(b) || b[i] < '0' || b[i] > '9' {
			p.pos = i
			return false, p.syntax("invalid number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			p.pos = i
			return false, p.syntax("invalid number")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return isInt, nil
}

// plain marks the bytes a string may hold as they are: printable ASCII and
// DEL, but not the quote or the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// special8 reports whether any of eight bytes is a quote, a backslash, a
// control character or not ASCII: bytes str must look at one by one.
func special8(v uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := v ^ (ones * '"')
	slash := v ^ (ones * '\\')
	hasZero := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	below := (v - ones*0x20) & ^v & highs
	return (hasZero(quote) | hasZero(slash) | below | v&highs) != 0
}

// str reads the string whose opening quote is at p.pos and returns the
// bounds of its raw contents.
func (p *scanner) str() (start, end int, fl strFlags, err error) {
	b := p.buf
	i := p.pos + 1
	start = i
	for {
		// Eight bytes at a time while none is special, then one by one.
		for i+8 <= len(b) && !special8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			p.pos = i
			return 0, 0, 0, p.syntax("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			p.pos = i + 1
			return start, i, fl, nil
		case c == '\\':
			n, r, ok := escape(b[i:])
			if !ok {
				p.pos = i
				return 0, 0, 0, p.syntax("invalid escape or lone surrogate in string")
			}
			fl |= flagEscape
			if r >= utf8.RuneSelf {
				fl |= flagNonASCII
			} else if r == 0 {
				fl |= flagNUL
			}
			i += n
		case c < 0x20:
			p.pos = i
			return 0, 0, 0, p.syntax("control character in string")
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				p.pos = i
				return 0, 0, 0, p.syntax("invalid UTF-8")
			}
			fl |= flagNonASCII
			i += size
		}
	}
}
