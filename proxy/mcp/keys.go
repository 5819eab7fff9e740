package mcp

// Two keys of one object that some parser reads as one are refused: keys
// equal under Unicode case folding, of which exact duplicates are the
// simplest case (see fold.go). The keys of the objects open are kept in
// p.keys, each object's after its parent's.

// keyRef locates a decoded key: in the body, or in the arena when the key
// held escapes (fl has flagEscape).
type keyRef struct {
	start, end int
	fl         strFlags
	slot       uint8 // see foldSlot
}

func (k keyRef) ascii() bool { return k.fl&flagNonASCII == 0 }

func (p *scanner) keyBytes(k keyRef) []byte {
	if k.fl&flagEscape != 0 {
		return p.arena[k.start:k.end]
	}
	return p.buf[k.start:k.end]
}

// manyKeys is where an object switches from comparing each key with those
// of its slot to a set of their folded forms, so that a huge object is
// not quadratic.
const manyKeys = 16

// anySlot is the slot of a key that is not ASCII.
const anySlot = 64

// foldSlot returns the slot, one of 64, of the key of n bytes whose first
// byte is first: keys equal under case folding have one slot, when ASCII
// (first&31 is a letter's either case); a key that is not may fold like
// any other. Most keys of an object are told apart by slot alone.
func foldSlot(n int, first byte, fl strFlags) uint8 {
	if fl&flagNonASCII != 0 {
		return anySlot
	}
	return uint8(n*8+int(first&31)) & 63
}

// slotBit is k's bit in objFrame.slots.
func (k keyRef) slotBit() uint64 {
	if k.slot == anySlot {
		return ^uint64(0)
	}
	return 1 << (k.slot & 63)
}

// keyAt reads the key that starts at i, refusing it if the object has it
// already, and the colon after it. It returns the key, decoded, and where
// the member's value may start.
func (p *scanner) keyAt(f *objFrame, i int) (key []byte, fl strFlags, end int, err error) {
	b := p.buf
	if b[i] != '"' {
		return nil, 0, i, syntaxAt(i, "expected a string key in object")
	}
	k := keyRef{start: i + 1}
	if end = shortStrAt(b, i); end == 0 {
		if end, k.fl, err = strRest(b, i+1); err != nil {
			return nil, 0, end, err
		}
	}
	// b[k.start] is in the body even for the empty key: its closing quote.
	k.end, k.slot = end-1, foldSlot(end-2-i, b[k.start], k.fl)
	key = b[k.start:k.end]
	if k.fl != 0 || !p.addPlainKey(f, k) {
		if k, err = p.addKey(f, k); err != nil {
			return nil, 0, end, err
		}
		key = p.keyBytes(k)
	}
	if i = wsEnd(b, end); i >= len(b) || b[i] != ':' {
		return nil, 0, i, syntaxAt(i, "expected ':' after object key")
	}
	return key, k.fl, i + 1, nil
}

// addPlainKey adds k when it needs no comparison with the object's other
// keys, none of which has its slot, as most keys. It does so without a
// call, and is small enough to be inlined: around a call, every value
// live in the caller is saved and loaded again.
func (p *scanner) addPlainKey(f *objFrame, k keyRef) bool {
	bit, n := k.slotBit(), len(p.keys)
	if f.slots&bit != 0 || n-f.keyBase >= manyKeys-1 || n == cap(p.keys) {
		return false
	}
	f.slots |= bit
	p.keys = p.keys[:n+1]
	p.keys[n] = k
	return true
}

// addKey is addPlainKey for any key: it decodes k, then compares it with
// the object's keys of its slot, or with its set of folded keys. It
// returns k decoded.
func (p *scanner) addKey(f *objFrame, k keyRef) (keyRef, error) {
	if k.fl != 0 {
		var err error
		if k, err = p.decodeKey(k); err != nil {
			return k, err
		}
		if key := p.keyBytes(k); len(key) > 0 {
			k.slot = foldSlot(len(key), key[0], k.fl)
		}
	}
	return k, p.compareKey(f, k)
}

// compareKey is addKey for a decoded key.
func (p *scanner) compareKey(f *objFrame, k keyRef) error {
	if f.folded != 0 {
		return p.addFoldedKey(f, k)
	}
	bit := k.slotBit()
	if f.slots&bit != 0 {
		for _, other := range p.keys[f.keyBase:] {
			if other.slotBit()&bit == 0 {
				continue
			}
			if err := p.sameKeys(other, k); err != nil {
				return err
			}
		}
	}
	f.slots |= bit
	p.keys = append(p.keys, k)
	if len(p.keys)-f.keyBase >= manyKeys {
		seen := make(map[string]struct{}, 2*manyKeys)
		for _, k := range p.keys[f.keyBase:] {
			p.fold = appendFold(p.fold[:0], p.keyBytes(k), false)
			seen[string(p.fold)] = struct{}{}
		}
		p.folded = append(p.folded, seen)
		f.folded = len(p.folded)
	}
	return nil
}

// decodeKey moves a key that holds escapes to the arena, decoded, and
// refuses one that holds U+0000.
func (p *scanner) decodeKey(k keyRef) (keyRef, error) {
	if k.fl&flagNUL != 0 {
		return k, p.invalid("object key holds U+0000")
	}
	if k.fl&flagEscape != 0 {
		a := len(p.arena)
		p.arena = unquote(p.arena, p.buf[k.start:k.end])
		k.start, k.end = a, len(p.arena)
	}
	return k, nil
}

// sameKeys refuses two keys of one object that are equal under case
// folding.
func (p *scanner) sameKeys(a, b keyRef) error {
	ka, kb := p.keyBytes(a), p.keyBytes(b)
	if !sameKey(ka, a.ascii(), kb, b.ascii()) {
		return nil
	}
	if string(ka) == string(kb) {
		return p.invalid("duplicate object key " + quoteExcerpt(kb))
	}
	return p.invalid("object keys " + quoteExcerpt(ka) + " and " + quoteExcerpt(kb) + " differ only in case")
}

// addFoldedKey is addKey for an object of manyKeys keys or more.
func (p *scanner) addFoldedKey(f *objFrame, k keyRef) error {
	key := p.keyBytes(k)
	p.fold = appendFold(p.fold[:0], key, false)
	seen := p.folded[f.folded-1]
	if _, dup := seen[string(p.fold)]; dup {
		return p.invalid("duplicate object key " + quoteExcerpt(key) + " (compared ignoring case)")
	}
	seen[string(p.fold)] = struct{}{}
	return nil
}
