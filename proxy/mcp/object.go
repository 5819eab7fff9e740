package mcp

// objFrame is the state of one object being read.
type objFrame struct {
	keyBase, arenaBase int    // where its keys start in p.keys and p.arena
	n                  int    // members read, by memberAt
	slots              uint64 // a bit for the foldSlot of each of its keys
	folded             int    // 1 + the index in p.folded of its folded keys; 0 before manyKeys
}

// openObject enters the object whose '{' is at p.pos.
func (p *scanner) openObject() (f objFrame, err error) {
	if !p.enter(&f) {
		err = p.syntax("nested too deeply")
	}
	p.pos++
	return f, err
}

// enter enters an object (or an array: f is then unused), or reports it
// nested too deeply. It is small enough to be inlined.
func (p *scanner) enter(f *objFrame) bool {
	p.depth++
	*f = objFrame{keyBase: len(p.keys), arenaBase: len(p.arena)}
	return p.depth <= maxDepth
}

// closeObject leaves the object of f, at its closing brace.
func (p *scanner) closeObject(f *objFrame) {
	p.depth--
	p.keys, p.arena = p.keys[:f.keyBase], p.arena[:f.arenaBase]
	if f.folded != 0 {
		p.folded[f.folded-1] = nil
		p.folded = p.folded[:f.folded-1]
	}
}

// next reads up to the next member's value and returns its decoded key, or
// done at the closing brace. The key is valid until the next call that
// reads a string.
func (p *scanner) next(f *objFrame) (key []byte, fl strFlags, done bool, err error) {
	key, fl, done, p.pos, err = p.memberAt(f, p.pos)
	return key, fl, done, err
}

// memberAt is next reading from i; end is where the member's value may
// start, or just past the closing brace.
func (p *scanner) memberAt(f *objFrame, i int) (key []byte, fl strFlags, done bool, end int, err error) {
	b := p.buf
	if i = wsEnd(b, i); i >= len(b) {
		return nil, 0, false, i, syntaxAt(i, "unexpected end of input in object")
	}
	if b[i] == '}' {
		p.closeObject(f)
		return nil, 0, true, i + 1, nil
	}
	if f.n > 0 {
		if b[i] != ',' {
			return nil, 0, false, i, syntaxAt(i, "expected ',' or '}' in object")
		}
		if i = wsEnd(b, i+1); i >= len(b) {
			return nil, 0, false, i, syntaxAt(i, "unexpected end of input in object")
		}
	}
	f.n++
	key, fl, end, err = p.keyAt(f, i)
	return key, fl, false, end, err
}

// invalid reports a structure no reader can be sure of (duplicate keys,
// keys whose meaning is in doubt): no id can be trusted after it either.
func (p *scanner) invalid(msg string) *Error {
	return &Error{Status: 400, Code: CodeInvalidRequest, Message: msg}
}

// openArray enters the array whose '[' is at p.pos.
func (p *scanner) openArray() error {
	err := p.enterArray(p.pos)
	p.pos++
	return err
}

// enterArray is openArray for the '[' at i.
func (p *scanner) enterArray(i int) error {
	if p.depth++; p.depth > maxDepth {
		return syntaxAt(i, "nested too deeply")
	}
	return nil
}

// nextElem moves to the next element of an array (n elements read so far),
// or reports done at the closing bracket.
func (p *scanner) nextElem(n int) (done bool, err error) {
	done, p.pos, err = p.nextElemAt(p.pos, n)
	return done, err
}

// nextElemAt is nextElem reading from i; end is where the element starts,
// or just past the closing bracket.
func (p *scanner) nextElemAt(i, n int) (done bool, end int, err error) {
	b := p.buf
	if i = wsEnd(b, i); i >= len(b) {
		return false, i, syntaxAt(i, "unexpected end of input in array")
	}
	switch c := b[i]; {
	case c == ']':
		p.depth--
		return true, i + 1, nil
	case n > 0 && c != ',':
		return false, i, syntaxAt(i, "expected ',' or ']' in array")
	case n > 0:
		if i = wsEnd(b, i+1); i >= len(b) {
			return false, i, syntaxAt(i, "unexpected end of input in array")
		}
	}
	return false, i, nil
}
