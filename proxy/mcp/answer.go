package mcp

import (
	"encoding/json"
	"errors"
)

// FilterAnswer filters an upstream answer to a request body: a JSON
// response, or the data of one SSE event. data is one JSON-RPC message or a
// batch of them (2025-03-26); every response whose id is one of
// toolsListIDs goes through FilterToolsList, everything else is kept as it
// is. It returns data itself when nothing is removed, and an error when data
// is not JSON-RPC it can read for sure (the proxy then refuses the answer).
// Empty data (an SSE priming event) passes.
//
// Ids match as in a batch: "1" and 1 are one id.
func FilterAnswer(data []byte, toolsListIDs []json.RawMessage, allow func(tool string) bool) ([]byte, int, error) {
	p := getScanner(data)
	defer putScanner(p)
	if p.skipWS(); p.pos == len(data) {
		return data, 0, nil
	}
	if len(toolsListIDs) == 0 {
		// Nothing to filter, but still refuse what cannot be read.
		if _, _, err := p.value(); err != nil {
			return nil, 0, errors.New("mcp: answer: " + err.Error())
		}
		if p.skipWS(); p.pos != len(data) {
			return nil, 0, errors.New("mcp: answer: data after the JSON value")
		}
		return data, 0, nil
	}
	ids := make(map[string]struct{}, len(toolsListIDs))
	for _, id := range toolsListIDs {
		if validID(id) {
			ids[idKey(id)] = struct{}{}
		}
	}
	if data[p.pos] != '[' {
		return filterOne(data, ids, allow)
	}
	// A batch answer: filter each element, splice the changed ones.
	var out []byte
	last, removed := 0, 0
	if err := p.openArray(); err != nil {
		return nil, 0, err
	}
	for n := 0; ; n++ {
		done, err := p.nextElem(n)
		if err != nil {
			return nil, 0, errors.New("mcp: answer: " + err.Error())
		}
		if done {
			break
		}
		start := p.pos
		if _, _, err := p.value(); err != nil {
			return nil, 0, errors.New("mcp: answer: " + err.Error())
		}
		elem := data[start:p.pos]
		f, k, err := filterOne(elem, ids, allow)
		if err != nil {
			return nil, 0, err
		}
		if k > 0 {
			out = append(append(out, data[last:start]...), f...)
			last, removed = p.pos, removed+k
		}
	}
	if p.skipWS(); p.pos != len(data) {
		return nil, 0, errors.New("mcp: answer: data after the JSON value")
	}
	if removed == 0 {
		return data, 0, nil
	}
	return append(out, data[last:]...), removed, nil
}

// filterOne filters one message when it is a response to a tools/list id.
//
// A list of hundreds of tools is mostly schemas, and reading it strictly
// is the cost; so when the id comes before the result, as every SDK
// writes it, the id is peeked and the strict read of FilterToolsList is
// the only one. Should that read refuse the message, the full path below
// decides, exactly as if there had been no peek: the message may still be
// something else that happens to share the id (a server's request).
func filterOne(msg []byte, ids map[string]struct{}, allow func(string) bool) ([]byte, int, error) {
	if id := peekID(msg); id != nil {
		if _, ok := ids[idKey(id)]; ok {
			if out, n, err := FilterToolsList(msg, allow); err == nil {
				return out, n, nil
			}
		}
	}
	id, isResponse, err := responseID(msg)
	if err != nil {
		return nil, 0, errors.New("mcp: answer: " + err.Error())
	}
	if !isResponse || id == nil {
		return msg, 0, nil
	}
	if _, ok := ids[idKey(id)]; !ok {
		return msg, 0, nil
	}
	return FilterToolsList(msg, allow)
}

// responseID reads a whole message and returns its id and whether it is a
// response (no method). Members spelt like JSON-RPC ones but not exactly
// ("ID", "Result") are refused: a lenient client could take them for the
// real ones and so receive an unfiltered list.
func responseID(msg []byte) (id []byte, isResponse bool, err error) {
	p := getScanner(msg)
	defer putScanner(p)
	if p.skipWS(); p.pos >= len(msg) || msg[p.pos] != '{' {
		return nil, false, p.syntax("not a JSON-RPC message object")
	}
	f, err := p.openObject()
	if err != nil {
		return nil, false, err
	}
	isResponse = true
	for {
		key, _, done, err := p.next(&f)
		if err != nil {
			return nil, false, err
		}
		if done {
			break
		}
		switch string(key) {
		case "id", "jsonrpc", "method", "params", "result", "error":
			isResponse = isResponse && string(key) != "method"
		default:
			if looksLike(key, envelopeNames) {
				return nil, false, p.invalid("member " + quoteExcerpt(key) + " looks like a JSON-RPC member")
			}
		}
		kind, start, err := p.value()
		if err != nil {
			return nil, false, err
		}
		if string(key) == "id" && (kind == kindString || kind == kindInt) {
			id = msg[start:p.pos]
		}
	}
	if p.skipWS(); p.pos != len(msg) {
		return nil, false, p.syntax("data after the JSON value")
	}
	return id, isResponse, nil
}

// peekID returns the id of the message object msg when the id comes
// before any member that is not a short scalar, reading no further; nil
// when it does not, or on anything unexpected. It decides nothing: the
// caller still reads the whole message strictly.
func peekID(msg []byte) []byte {
	p := getScanner(msg)
	defer putScanner(p)
	if p.skipWS(); p.pos >= len(msg) || msg[p.pos] != '{' {
		return nil
	}
	f, err := p.openObject()
	if err != nil {
		return nil
	}
	for {
		key, _, done, err := p.next(&f)
		if err != nil || done {
			return nil
		}
		if p.skipWS(); p.pos >= len(msg) || msg[p.pos] == '{' || msg[p.pos] == '[' {
			return nil
		}
		kind, start, err := p.value()
		if err != nil {
			return nil
		}
		if string(key) == "id" {
			if kind == kindString || kind == kindInt {
				return msg[start:p.pos]
			}
			return nil
		}
	}
}
