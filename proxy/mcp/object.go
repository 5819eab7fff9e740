package mcp

// keyRef locates a decoded key: in the body, or in the arena when the key
// held escapes.
type keyRef struct {
	start, end int
	inArena    bool
	ascii      bool
}

// manyKeys is where an object switches from pairwise comparison of its keys
// to a set of their folded forms, so that a huge object is not quadratic.
const manyKeys = 16

// objFrame is the state of one object being read.
type objFrame struct {
	keyBase, arenaBase int
	n                  int
	seen               map[string]struct{}
}

// openObject enters the object whose '{' is at p.pos.
func (p *scanner) openObject() (objFrame, error) {
	if p.depth++; p.depth > maxDepth {
		return objFrame{}, p.syntax("nested too deeply")
	}
	p.pos++
	return objFrame{keyBase: len(p.keys), arenaBase: len(p.arena)}, nil
}

// next reads up to the next member's value and returns its decoded key, or
// done at the closing brace. The key is valid until the next call that
// reads a string.
func (p *scanner) next(f *objFrame) (key []byte, fl strFlags, done bool, err error) {
	p.skipWS()
	if p.pos >= len(p.buf) {
		return nil, 0, false, p.syntax("unexpected end of input in object")
	}
	c := p.buf[p.pos]
	if c == '}' {
		p.pos++
		p.depth--
		p.keys, p.arena = p.keys[:f.keyBase], p.arena[:f.arenaBase]
		return nil, 0, true, nil
	}
	if f.n > 0 {
		if c != ',' {
			return nil, 0, false, p.syntax("expected ',' or '}' in object")
		}
		p.pos++
		p.skipWS()
		if p.pos >= len(p.buf) {
			return nil, 0, false, p.syntax("unexpected end of input in object")
		}
		c = p.buf[p.pos]
	}
	if c != '"' {
		return nil, 0, false, p.syntax("expected a string key in object")
	}
	start, end, fl, err := p.str()
	if err != nil {
		return nil, 0, false, err
	}
	ref := keyRef{start: start, end: end, ascii: fl&flagNonASCII == 0}
	key = p.buf[start:end]
	if fl&flagEscape != 0 {
		a := len(p.arena)
		p.arena = unquote(p.arena, key)
		ref = keyRef{start: a, end: len(p.arena), inArena: true, ascii: ref.ascii}
		key = p.arena[a:]
	}
	if fl&flagNUL != 0 {
		return nil, 0, false, p.invalid("object key holds U+0000")
	}
	if err := p.addKey(f, key, ref); err != nil {
		return nil, 0, false, err
	}
	p.skipWS()
	if p.pos >= len(p.buf) || p.buf[p.pos] != ':' {
		return nil, 0, false, p.syntax("expected ':' after object key")
	}
	p.pos++
	f.n++
	return key, fl, false, nil
}

func (p *scanner) keyBytes(k keyRef) []byte {
	if k.inArena {
		return p.arena[k.start:k.end]
	}
	return p.buf[k.start:k.end]
}

// addKey refuses a key equal, under case folding, to one already in the
// object: parsers keep the first, the last, or match either.
func (p *scanner) addKey(f *objFrame, key []byte, ref keyRef) error {
	if f.seen != nil {
		p.fold = appendFold(p.fold[:0], key, false)
		if _, dup := f.seen[string(p.fold)]; dup {
			return p.invalid("duplicate object key " + quoteExcerpt(key) + " (compared ignoring case)")
		}
		f.seen[string(p.fold)] = struct{}{}
		return nil
	}
	keys := p.keys[f.keyBase:]
	for i := range keys {
		k := &keys[i]
		if k.ascii && ref.ascii && k.end-k.start != len(key) {
			continue // ASCII keys of different lengths never fold together
		}
		other := p.keyBytes(*k)
		if sameKey(other, k.ascii, key, ref.ascii) {
			if string(other) == string(key) {
				return p.invalid("duplicate object key " + quoteExcerpt(key))
			}
			return p.invalid("object keys " + quoteExcerpt(other) + " and " + quoteExcerpt(key) + " differ only in case")
		}
	}
	p.keys = append(p.keys, ref)
	if len(p.keys)-f.keyBase >= manyKeys {
		f.seen = make(map[string]struct{}, 2*manyKeys)
		for _, k := range p.keys[f.keyBase:] {
			p.fold = appendFold(p.fold[:0], p.keyBytes(k), false)
			f.seen[string(p.fold)] = struct{}{}
		}
	}
	return nil
}

// invalid reports a structure no reader can be sure of (duplicate keys,
// keys whose meaning is in doubt): no id can be trusted after it either.
func (p *scanner) invalid(msg string) *Error {
	return &Error{Status: 400, Code: CodeInvalidRequest, Message: msg}
}

// skipObject reads an object no member of which the reader gives meaning to.
func (p *scanner) skipObject() error {
	f, err := p.openObject()
	if err != nil {
		return err
	}
	for {
		_, _, done, err := p.next(&f)
		if err != nil || done {
			return err
		}
		if _, _, err := p.value(); err != nil {
			return err
		}
	}
}

// openArray enters the array whose '[' is at p.pos.
func (p *scanner) openArray() error {
	if p.depth++; p.depth > maxDepth {
		return p.syntax("nested too deeply")
	}
	p.pos++
	return nil
}

// nextElem moves to the next element of an array (n elements read so far),
// or reports done at the closing bracket.
func (p *scanner) nextElem(n int) (done bool, err error) {
	p.skipWS()
	if p.pos >= len(p.buf) {
		return false, p.syntax("unexpected end of input in array")
	}
	switch c := p.buf[p.pos]; {
	case c == ']':
		p.pos++
		p.depth--
		return true, nil
	case n > 0 && c != ',':
		return false, p.syntax("expected ',' or ']' in array")
	case n > 0:
		p.pos++
		if p.skipWS(); p.pos >= len(p.buf) {
			return false, p.syntax("unexpected end of input in array")
		}
	}
	return false, nil
}

func (p *scanner) skipArray() error {
	if err := p.openArray(); err != nil {
		return err
	}
	for n := 0; ; n++ {
		done, err := p.nextElem(n)
		if err != nil || done {
			return err
		}
		if _, _, err := p.value(); err != nil {
			return err
		}
	}
}
