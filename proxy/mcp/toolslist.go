package mcp

import (
	"errors"
	"sync"
)

// toolsList is what FilterToolsList learns of a response.
type toolsList struct {
	jsonrpc, id, result, errObj span
	tools                       span // the tools array, when present
	elems                       []toolElem
	names                       []byte // the valid tool names, one after another
}

// toolElem is one element of a tools array, and whether it stays.
type toolElem struct {
	start, end         int
	nameStart, nameEnd int // its valid name is names[nameStart:nameEnd]; none when empty
	keep               bool
}

var toolsLists = sync.Pool{New: func() any { return new(toolsList) }}

func getToolsList() *toolsList {
	l := toolsLists.Get().(*toolsList)
	*l = toolsList{elems: l.elems[:0], names: l.names[:0]}
	return l
}

func putToolsList(l *toolsList) {
	if cap(l.elems) > 4096 || cap(l.names) > 64<<10 {
		return // do not pin the memory of one huge list
	}
	toolsLists.Put(l)
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
	l := getToolsList()
	defer putToolsList(l)
	if err := p.toolsResponse(l); err != nil {
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
	}
	removed := l.decide(allow)
	if removed == 0 {
		return body, 0, nil
	}
	return l.rebuild(body), removed, nil
}

// decide asks allow about each tool with a valid name, once the whole
// response is known to be well formed, and returns how many tools go.
// The names are made into one string, cut for each call: one allocation
// per list rather than one per tool (a name allow keeps holds them all).
func (l *toolsList) decide(allow func(string) bool) (removed int) {
	names := string(l.names)
	for i := range l.elems {
		e := &l.elems[i]
		e.keep = e.nameEnd > e.nameStart && allow(names[e.nameStart:e.nameEnd])
		if !e.keep {
			removed++
		}
	}
	return removed
}

// rebuild returns body without the tools that go: each kept one copied as
// the upstream sent it, with a comma between them.
func (l *toolsList) rebuild(body []byte) []byte {
	head := body[:l.tools.start+1] // up to the opening bracket
	tail := body[l.tools.end-1:]   // from the closing bracket on
	size := len(head) + len(tail)
	for _, e := range l.elems {
		if e.keep {
			size += 1 + e.end - e.start
		}
	}
	out := append(make([]byte, 0, size), head...)
	for _, e := range l.elems {
		if !e.keep {
			continue
		}
		if len(out) > len(head) {
			out = append(out, ',')
		}
		out = append(out, body[e.start:e.end]...)
	}
	return append(out, tail...)
}
