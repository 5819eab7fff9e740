package mcp

// toolsResponse reads a response object, strictly: only the four JSON-RPC
// members, each spelt exactly, and nothing after it.
func (p *scanner) toolsResponse(l *toolsList) error {
	if p.skipWS(); p.pos >= len(p.buf) || p.buf[p.pos] != '{' {
		return p.syntax("not a JSON object")
	}
	f, err := p.openObject()
	if err != nil {
		return err
	}
	for {
		key, _, done, err := p.next(&f)
		if err != nil {
			return err
		}
		if done {
			break
		}
		var sp *span
		switch string(key) {
		case "jsonrpc":
			sp = &l.jsonrpc
		case "id":
			sp = &l.id
		case "error":
			sp = &l.errObj
		case "result":
			if p.skipWS(); p.pos < len(p.buf) && p.buf[p.pos] == '{' {
				start := p.pos
				if err := p.toolsResult(l); err != nil {
					return err
				}
				l.result = span{kind: kindObject, start: start, end: p.pos}
				continue
			}
			sp = &l.result
		default:
			return p.invalid("unexpected member " + quoteExcerpt(key))
		}
		if *sp, err = p.span(); err != nil {
			return err
		}
	}
	if p.skipWS(); p.pos != len(p.buf) {
		return p.syntax("data after the JSON value")
	}
	return nil
}

var (
	toolsNames = []string{"TOOLS"}
	nameNames  = []string{"NAME"}
)

// toolsResult reads the result object and its tools array.
func (p *scanner) toolsResult(l *toolsList) error {
	f, err := p.openObject()
	if err != nil {
		return err
	}
	for {
		key, _, done, err := p.next(&f)
		if err != nil || done {
			return err
		}
		if string(key) != "tools" {
			if looksLike(key, toolsNames) {
				return p.invalid("member " + quoteExcerpt(key) + " looks like \"tools\"")
			}
			if _, _, err := p.value(); err != nil {
				return err
			}
			continue
		}
		if p.skipWS(); p.pos >= len(p.buf) || p.buf[p.pos] != '[' {
			if l.tools, err = p.span(); err != nil {
				return err
			}
			continue
		}
		start := p.pos
		if err := p.toolsArray(l); err != nil {
			return err
		}
		l.tools = span{kind: kindArray, start: start, end: p.pos}
	}
}

// toolsArray reads the tools array into l.elems, and the valid names of
// its tools into l.names.
func (p *scanner) toolsArray(l *toolsList) error {
	if err := p.openArray(); err != nil {
		return err
	}
	i := p.pos
	for n := 0; ; n++ {
		done, start, err := p.nextElemAt(i, n)
		if err != nil || done {
			p.pos = start
			return err
		}
		var name span
		if p.buf[start] == '{' {
			name, i, err = p.toolObjectAt(start)
		} else {
			_, i, err = p.valueAt(start)
		}
		if err != nil {
			p.pos = i
			return err
		}
		// Appended empty and then filled: an element built whole is
		// built on the stack and then copied.
		l.elems = append(l.elems, toolElem{})
		e := &l.elems[len(l.elems)-1]
		e.start, e.end = start, i
		if s := p.toolName(name); s != nil {
			e.nameStart = len(l.names)
			l.names = append(l.names, s...)
			e.nameEnd = len(l.names)
		}
	}
}

// toolName returns the decoded name a tool's name member holds, or nil
// when it holds none that is valid.
func (p *scanner) toolName(name span) []byte {
	if name.kind != kindString {
		return nil
	}
	// A valid name holds no backslash, so is decoded only when invalid
	// as it stands.
	s := p.buf[name.start+1 : name.end-1]
	if !validToolName(s) {
		if s = p.strValue(name.start+1, name.end-1); !validToolName(s) {
			return nil
		}
	}
	return s
}

// toolObjectAt reads the tool whose '{' is at i and returns its name
// member and its end.
func (p *scanner) toolObjectAt(i int) (name span, end int, err error) {
	var f objFrame
	if !p.enter(&f) {
		return span{}, i, syntaxAt(i, "nested too deeply")
	}
	for i++; ; {
		key, _, done, end, err := p.memberAt(&f, i)
		if err != nil || done {
			return name, end, err
		}
		isName := false
		switch string(key) {
		case "name":
			isName = true
		case "title", "description", "inputSchema", "outputSchema", "annotations", "icons", "_meta":
			// The specification's other members, none like "name".
		default:
			if looksLike(key, nameNames) {
				return name, end, p.invalid("member " + quoteExcerpt(key) + " looks like \"name\"")
			}
		}
		start := wsEnd(p.buf, end)
		kind, end, err := p.valueAt(start)
		if err != nil {
			return name, end, err
		}
		if isName {
			name = span{kind: kind, start: start, end: end}
		}
		i = end
	}
}
