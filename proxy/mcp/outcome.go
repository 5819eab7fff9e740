package mcp

import "strconv"

// Outcome is what a JSON-RPC response says of the request it answers, for
// the audit log: a 200 can carry a failed call, and a failed tool is not a
// failed request.
type Outcome struct {
	// ID is the response's id as it appears in the message: a JSON
	// string, quotes and all, or an integer. Nil when it has neither.
	ID []byte
	// ErrorCode is error.code, when the response is a JSON-RPC error
	// with an integer code.
	ErrorCode *int
	// IsError is result.isError, when the result is an object holding a
	// boolean isError: a tool result.
	IsError *bool
}

// ReadOutcome reads one JSON-RPC response as strictly as requests are
// read: one object, member names spelt exactly, none twice, nothing after
// it. ok is false for anything else (a batch, a request, broken JSON);
// the outcome then says nothing. A response is the upstream's word about
// itself and only goes into the log, so members it does not know are
// passed over, not refused.
func ReadOutcome(msg []byte) (o Outcome, ok bool) {
	p := getScanner(msg)
	defer putScanner(p)
	if p.skipWS(); p.pos >= len(msg) || msg[p.pos] != '{' {
		return Outcome{}, false
	}
	f, err := p.openObject()
	if err != nil {
		return Outcome{}, false
	}
	for {
		key, _, done, err := p.next(&f)
		if err != nil {
			return Outcome{}, false
		}
		if done {
			break
		}
		switch string(key) {
		case "method":
			return Outcome{}, false // a request or notification
		case "error":
			o.ErrorCode, err = outcomeMember(p, "code", p.intValue)
		case "result":
			o.IsError, err = outcomeMember(p, "isError", p.boolValue)
		default:
			var kind byte
			var start int
			kind, start, err = p.value()
			if string(key) == "id" && (kind == kindString || kind == kindInt) {
				o.ID = msg[start:p.pos]
			}
		}
		if err != nil {
			return Outcome{}, false
		}
	}
	if p.skipWS(); p.pos != len(msg) {
		return Outcome{}, false
	}
	return o, true
}

// outcomeMember reads the value at p.pos and, when it is an object,
// returns what read makes of its member name; nil when the value is not
// an object, has no such member, or read makes nothing of it.
func outcomeMember[T any](p *scanner, name string, read func(kind byte, start int) *T) (*T, error) {
	if p.skipWS(); p.pos >= len(p.buf) || p.buf[p.pos] != '{' {
		_, _, err := p.value()
		return nil, err
	}
	f, err := p.openObject()
	if err != nil {
		return nil, err
	}
	var v *T
	for {
		key, _, done, err := p.next(&f)
		if err != nil || done {
			return v, err
		}
		kind, start, err := p.value()
		if err != nil {
			return nil, err
		}
		if string(key) == name {
			v = read(kind, start)
		}
	}
}

// intValue is the integer value at p.buf[start:p.pos] of kind, or nil
// when it is not one that fits an int.
func (p *scanner) intValue(kind byte, start int) *int {
	if kind != kindInt {
		return nil
	}
	n, err := strconv.Atoi(string(p.buf[start:p.pos]))
	if err != nil {
		return nil
	}
	return &n
}

// boolValue is the boolean of kind, or nil when it is not one.
func (p *scanner) boolValue(kind byte, _ int) *bool {
	if kind != kindTrue && kind != kindFalse {
		return nil
	}
	b := kind == kindTrue
	return &b
}
