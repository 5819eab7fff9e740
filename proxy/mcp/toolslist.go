package mcp

import "errors"

// toolElem is one element of a tools array and whether it stays.
type toolElem struct {
	start, end int
	keep       bool
}

// toolsList is what FilterToolsList learns of a response.
type toolsList struct {
	jsonrpc, id, result, errObj span
	tools                       span // the tools array, when present
	elems                       []toolElem
	removed                     int
}

// FilterToolsList rewrites a tools/list response, keeping only the tools
// allow accepts, and returns the new bytes and how many tools it removed.
// body is one JSON-RPC response object; nothing removed returns body
// itself. A tool without a valid name is removed (fail closed); an error
// response passes unchanged. Anything else not a well-formed tools/list
// response is an error, and the proxy then refuses the answer.
func FilterToolsList(body []byte, allow func(tool string) bool) ([]byte, int, error) {
	p := getScanner(body)
	defer putScanner(p)
	var l toolsList
	if err := p.toolsResponse(&l, allow); err != nil {
		return nil, 0, errors.New("mcp: tools/list answer: " + err.Error())
	}
	switch {
	case l.result.kind == 0 && l.errObj.kind == kindObject:
		return body, 0, nil
	case l.result.kind != kindObject || l.errObj.kind != 0:
		return nil, 0, errors.New("mcp: tools/list answer: not one result object")
	case l.tools.kind != kindArray:
		return nil, 0, errors.New("mcp: tools/list answer: result.tools is not an array")
	case l.jsonrpc.kind != kindString || string(p.stringAt(l.jsonrpc.start)) != "2.0":
		return nil, 0, errors.New(`mcp: tools/list answer: "jsonrpc" is not "2.0"`)
	case l.removed == 0:
		return body, 0, nil
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:l.tools.start+1]...)
	n := 0
	for _, e := range l.elems {
		if !e.keep {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, body[e.start:e.end]...)
		n++
	}
	out = append(out, body[l.tools.end-1:]...) // from the closing bracket on
	return out, l.removed, nil
}

// toolsResponse reads a response object, strictly: only the four JSON-RPC
// members, each spelt exactly, and nothing after it.
func (p *scanner) toolsResponse(l *toolsList, allow func(string) bool) error {
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
				if err := p.toolsResult(l, allow); err != nil {
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
func (p *scanner) toolsResult(l *toolsList, allow func(string) bool) error {
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
		if err := p.toolsArray(l, allow); err != nil {
			return err
		}
		l.tools = span{kind: kindArray, start: start, end: p.pos}
	}
}

func (p *scanner) toolsArray(l *toolsList, allow func(string) bool) error {
	if err := p.openArray(); err != nil {
		return err
	}
	for n := 0; ; n++ {
		done, err := p.nextElem(n)
		if err != nil || done {
			return err
		}
		e := toolElem{start: p.pos}
		var name span
		if p.buf[p.pos] == '{' {
			name, err = p.toolObject()
		} else {
			_, _, err = p.value()
		}
		if err != nil {
			return err
		}
		e.end = p.pos
		if name.kind == kindString {
			s := string(p.stringAt(name.start))
			e.keep = ValidToolName(s) && allow(s)
		}
		if !e.keep {
			l.removed++
		}
		l.elems = append(l.elems, e)
	}
}

// toolObject reads one tool and returns its name member.
func (p *scanner) toolObject() (name span, err error) {
	f, err := p.openObject()
	if err != nil {
		return span{}, err
	}
	for {
		key, _, done, err := p.next(&f)
		if err != nil || done {
			return name, err
		}
		if string(key) == "name" {
			if name, err = p.span(); err != nil {
				return name, err
			}
			continue
		}
		if looksLike(key, nameNames) {
			return name, p.invalid("member " + quoteExcerpt(key) + " looks like \"name\"")
		}
		if _, _, err := p.value(); err != nil {
			return name, err
		}
	}
}
