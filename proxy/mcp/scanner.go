package mcp

import (
	"strconv"
	"sync"
)

// maxDepth bounds nesting. Parsers disagree on their own limits (Python's
// recursion, the Go SDK's 1000); MCP messages nest a handful of levels, so a
// low bound costs nothing and keeps the scanner small.
const maxDepth = 128

// scanner is a strict JSON reader over a byte slice. It accepts exactly RFC
// 8259 JSON, and refuses what parsers read differently: invalid UTF-8, lone
// surrogate escapes, and object keys equal under Unicode case folding (which
// covers exact duplicates). It never builds a tree: callers walk objects with
// openObject/next and skip what they do not need with value.
//
// Those methods read and move p.pos. Beneath them, the methods ending in At
// take the position as an argument and return where they ended (where they
// stopped, on error), so that it stays in a register rather than memory;
// skipNestedAt reads what nothing is given meaning to, most of a large
// body, in one loop.
type scanner struct {
	buf    []byte
	pos    int
	depth  int
	keys   []keyRef              // keys of the objects being read, innermost last
	folded []map[string]struct{} // folded keys of the objects of manyKeys keys or more
	open   [maxDepth]openFrame   // objects and arrays skipNestedAt is inside of
	arena  []byte                // decoded keys that held escapes
	tmp    []byte                // scratch for decoded values
	fold   []byte                // scratch for folded keys
	soft   *Error                // first refusal that leaves the JSON itself readable

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
	clear(p.folded[:cap(p.folded)]) // left by a refused body
	p.folded = p.folded[:0]
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
	return syntaxAt(p.pos, msg)
}

// syntaxAt is syntax for the byte at i.
func syntaxAt(i int, msg string) *Error {
	return &Error{Status: 400, Code: CodeParseError,
		Message: "invalid JSON at byte " + strconv.Itoa(i) + ": " + msg}
}

// fail records a refusal that leaves the JSON readable; reading goes on so
// that a later syntax error still wins and the id is only used when sure.
func (p *scanner) fail(status, code int, msg string) {
	if p.soft == nil {
		p.soft = &Error{Status: status, Code: code, Message: msg}
	}
}

func (p *scanner) skipWS() {
	p.pos = wsEnd(p.buf, p.pos)
}

// wsEnd returns the index of the first byte from i on that is not
// whitespace. Most JSON has none, so one comparison usually decides.
func wsEnd(b []byte, i int) int {
	const ws = uint64(1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r') // typed: 1<<' ' overflows a 32-bit int
	for i < len(b) && b[i] <= ' ' && ws>>b[i]&1 != 0 {
		i++
	}
	return i
}

// value reads any JSON value at p.pos (after whitespace) and returns its
// kind and start; it ends at p.pos.
func (p *scanner) value() (kind byte, start int, err error) {
	start = wsEnd(p.buf, p.pos)
	kind, p.pos, err = p.valueAt(start)
	return kind, start, err
}
