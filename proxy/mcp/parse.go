package mcp

import (
	"net/http"
	"strconv"
)

// Request is a POST body read for sure: every message it holds, in order.
type Request struct {
	Messages []Message
	Batch    bool   // the body was a JSON array (only on 2025-03-26)
	Revision string // from MCP-Protocol-Version, or DefaultRevision
	// Body is the whole body as read: what the upstream must receive,
	// byte for byte, since it is what was decided on.
	Body []byte
}

// Parse reads and checks a POST body and its headers, the pure part of
// Read. It returns an *Error for anything refused. The messages share
// body's bytes: body must not change while they are in use.
func Parse(body []byte, h http.Header) (*Request, error) {
	if e := checkContentType(h); e != nil {
		return nil, e
	}
	rev, explicit, e := revision(h)
	if e != nil {
		return nil, e
	}
	req, e := parseBody(body, rev, explicit)
	if e != nil {
		return nil, e
	}
	if e := checkMirrors(h, req); e != nil {
		return nil, e
	}
	req.Body = body
	return req, nil
}

func parseBody(body []byte, rev string, explicit bool) (*Request, *Error) {
	p := getScanner(body)
	defer putScanner(p)
	p.rev, p.explicit = rev, explicit
	p.skipWS()
	if p.pos >= len(body) {
		return nil, errStatus(400, CodeParseError, "empty body")
	}
	req := &Request{Revision: rev}
	idOK, err := false, error(nil)
	switch body[p.pos] {
	case '{':
		req.Messages = make([]Message, 1)
		idOK, err = p.message(&req.Messages[0])
	case '[':
		req.Batch = true
		err = p.batch(req)
	default:
		if _, _, err = p.value(); err == nil {
			p.fail(400, CodeInvalidRequest, "the body must be a JSON-RPC message object or a batch array")
		}
	}
	if err != nil {
		return nil, err.(*Error)
	}
	if p.skipWS(); p.pos != len(body) {
		return nil, p.syntax("data after the JSON value")
	}
	if e := p.soft; e != nil {
		if idOK { // only ever set for a single message
			e.ID = req.Messages[0].ID
		}
		return nil, e
	}
	if req.Batch {
		if e := checkBatch(req); e != nil {
			return nil, e
		}
	}
	return req, nil
}

// batch reads a JSON array of messages.
func (p *scanner) batch(req *Request) error {
	if err := p.openArray(); err != nil {
		return err
	}
	for n := 0; ; n++ {
		done, err := p.nextElem(n)
		if err != nil || done {
			return err
		}
		if p.pos >= len(p.buf) || p.buf[p.pos] != '{' {
			if _, _, err := p.value(); err != nil {
				return err
			}
			p.fail(400, CodeInvalidRequest, "every element of a batch must be a message object")
			continue
		}
		req.Messages = append(req.Messages, Message{})
		if _, err := p.message(&req.Messages[len(req.Messages)-1]); err != nil {
			return err
		}
	}
}

// checkBatch applies the rules of batches: only on 2025-03-26, never empty,
// and no id twice, since answers and denials are matched to requests by id.
func checkBatch(req *Request) *Error {
	if req.Revision != Revision20250326 {
		return errStatus(400, CodeInvalidRequest, "JSON-RPC batches are not allowed on revision "+req.Revision)
	}
	if len(req.Messages) == 0 {
		return errStatus(400, CodeInvalidRequest, "empty batch")
	}
	seen := make(map[string]struct{}, len(req.Messages))
	for i := range req.Messages {
		id := req.Messages[i].ID
		if id == nil {
			continue
		}
		k := idKey(id)
		if _, dup := seen[k]; dup {
			return errStatus(400, CodeInvalidRequest, "the same id appears twice in a batch")
		}
		seen[k] = struct{}{}
	}
	return nil
}

// idKey returns the identity of an id as upstreams may see it: a string's
// decoded text, an integer's decimal form. So "1" and 1 are one id, and two
// integers a float64 cannot tell apart (JavaScript) are one id too.
func idKey(id []byte) string {
	if id[0] == '"' {
		return string(unquote(nil, id[1:len(id)-1]))
	}
	n, err := strconv.ParseInt(string(id), 10, 64)
	if err != nil {
		return string(id)
	}
	if -1<<53 < n && n < 1<<53 {
		return strconv.FormatInt(n, 10)
	}
	return "~" + strconv.FormatFloat(float64(n), 'g', -1, 64)
}
