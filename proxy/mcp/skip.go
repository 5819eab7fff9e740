package mcp

// openFrame is an object or array skipNestedAt is inside of.
type openFrame struct {
	obj    objFrame // an object's state
	closer byte     // '}' or ']'
}

// valueAt reads the value that starts at i and returns its kind and end.
func (p *scanner) valueAt(i int) (kind byte, end int, err error) {
	b := p.buf
	if i >= len(b) {
		return 0, i, syntaxAt(i, "unexpected end of input")
	}
	switch c := b[i]; c {
	case '"':
		if end = shortStrAt(b, i); end == 0 {
			end, _, err = strRest(b, i+1)
		}
		return kindString, end, err
	case '{', '[':
		end, err = p.skipNestedAt(i)
		return c, end, err // kindObject and kindArray are the openers
	default:
		return scalarAt(b, i)
	}
}

// skipNestedAt reads the object or array that opens at i, to which the
// reader gives no meaning, and returns its end.
//
// Most of a large body is such values, so this is one loop rather than
// calls that recurse for each member and element: around a Go call, every
// value live in the caller is saved and loaded again. The objects and
// arrays open are kept in p.open (none of the calls here reads a nested
// value itself), and short strings are read without a call.
func (p *scanner) skipNestedAt(i int) (end int, err error) {
	b := p.buf
	open := 0          // objects and arrays open, in p.open
	var top *openFrame // the innermost
	atKey := false     // whether i is at a member's key, or at a value
	for {
		if atKey {
			// keyAt, written out: a call here would cost as much as
			// reading most keys. TestObjectKeys holds the two to agree.
			if b[i] != '"' {
				return i, syntaxAt(i, "expected a string key in object")
			}
			k := keyRef{start: i + 1}
			if end = shortStrAt(b, i); end == 0 {
				if end, k.fl, err = strRest(b, i+1); err != nil {
					return end, err
				}
			}
			k.end, k.slot = end-1, foldSlot(end-2-i, b[k.start], k.fl)
			if k.fl != 0 || !p.addPlainKey(&top.obj, k) {
				if _, err = p.addKey(&top.obj, k); err != nil {
					return end, err
				}
			}
			if i = wsEnd(b, end); i >= len(b) || b[i] != ':' {
				return i, syntaxAt(i, "expected ':' after object key")
			}
			if i = wsEnd(b, i+1); i >= len(b) {
				return i, syntaxAt(i, "unexpected end of input")
			}
		}
		// i is at a value: enter it if it is an object or array, going
		// on to its first member or element, else read it whole.
		switch c := b[i]; c {
		case '{', '[':
			if p.depth >= maxDepth { // and so open < len(p.open)
				return i, syntaxAt(i, "nested too deeply")
			}
			top, open = &p.open[open], open+1
			p.enter(&top.obj)
			top.closer = c + 2 // '{'+2 is '}', '['+2 is ']'
			if i = wsEnd(b, i+1); i >= len(b) {
				return i, top.syntaxAt(i, "unexpected end of input in ")
			}
			if b[i] != top.closer {
				atKey = c == '{'
				continue
			}
			// Empty: closed below, as any other.
		case '"':
			if end = shortStrAt(b, i); end == 0 {
				if end, _, err = strRest(b, i+1); err != nil {
					return end, err
				}
			}
			i = end
		default:
			if _, i, err = scalarAt(b, i); err != nil {
				return i, err
			}
		}
		// i is past a value, or at the end of an empty object or array:
		// go on to the next member or element, leaving the objects and
		// arrays that end on the way.
		for {
			if i = wsEnd(b, i); i >= len(b) {
				return i, top.syntaxAt(i, "unexpected end of input in ")
			}
			if c := b[i]; c == top.closer {
				p.closeObject(&top.obj) // for an array, only the depth
				if open, i = open-1, i+1; open == 0 {
					return i, nil
				}
				top = &p.open[open-1]
				continue
			} else if c != ',' {
				return i, top.syntaxAt(i, "expected ',' or '"+string(top.closer)+"' in ")
			}
			if i = wsEnd(b, i+1); i >= len(b) {
				return i, top.syntaxAt(i, "unexpected end of input in ")
			}
			atKey = top.closer == '}'
			break
		}
	}
}

// syntaxAt is syntaxAt inside the object or array of f: msg is to end
// with what it is.
func (f *openFrame) syntaxAt(i int, msg string) *Error {
	if f.closer == ']' {
		return syntaxAt(i, msg+"array")
	}
	return syntaxAt(i, msg+"object")
}

// scalarAt reads the number, true, false or null at i.
func scalarAt(b []byte, i int) (kind byte, end int, err error) {
	switch c := b[i]; c {
	case 't':
		end, err = literalAt(b, i, "true")
		return kindTrue, end, err
	case 'f':
		end, err = literalAt(b, i, "false")
		return kindFalse, end, err
	case 'n':
		end, err = literalAt(b, i, "null")
		return kindNull, end, err
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			isInt, end, err := numberAt(b, i)
			if isInt {
				return kindInt, end, err
			}
			return kindFloat, end, err
		}
		return 0, i, syntaxAt(i, "unexpected character")
	}
}

func literalAt(b []byte, i int, lit string) (end int, err error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, syntaxAt(i, "invalid literal")
	}
	return i + len(lit), nil
}

// numberAt reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberAt(b []byte, i int) (isInt bool, end int, err error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digitsEnd(b, i)
	default:
		return false, i, syntaxAt(i, "invalid number")
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		if i++; i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false, i, syntaxAt(i, "invalid number")
		}
		i = digitsEnd(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false, i, syntaxAt(i, "invalid number")
		}
		i = digitsEnd(b, i)
	}
	return isInt, i, nil
}

func digitsEnd(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
