package mcp

import (
	"encoding/json"
	"slices"
)

// Message is one JSON-RPC message of a request body, as the upstream will
// read it. Raw, ID and Arguments share the body's bytes.
type Message struct {
	Raw            []byte          // the message's exact bytes
	ID             json.RawMessage // nil for notifications; a JSON string or integer
	Method         string          // "" for responses
	IsNotification bool            // a method without an id
	IsResponse     bool            // a result or error the client answers a server request with

	// Tool and Arguments are set for tools/call: params.name, and
	// params.arguments as a raw JSON object (nil when absent).
	Tool      string
	Arguments json.RawMessage

	// Name is what a named method addresses: params.name for tools/call and
	// prompts/get, params.uri for resources/read, resources/subscribe and
	// resources/unsubscribe. It is what Mcp-Name must equal.
	Name string
}

// span is a member value's kind and bounds in the body (kind 0: absent).
type span struct {
	kind       byte
	start, end int
}

// envelope holds the members of one message the reader gives meaning to.
type envelope struct {
	jsonrpc, id, method, params, result, errObj span
	name, arguments, uri, metaVersion           span
}

// Member names whose loose fold (case and '_' '-' ignored) is one of these
// must be spelt exactly: some decoders would read "ID", "Params" or
// "na_me" as the real member while this reader would not.
var (
	envelopeNames = []string{"JSONRPC", "ID", "METHOD", "PARAMS", "RESULT", "ERROR"}
	paramsNames   = []string{"NAME", "ARGUMENTS", "URI", "META"}
)

// metaVersionKey is where 2026-07-28 requests repeat their revision.
const metaVersionKey = "io.modelcontextprotocol/protocolVersion"

func looksLike(key []byte, names []string) bool {
	// The loose fold keeps a byte for each ASCII byte but '_' and '-': a
	// key with more of those than the longest name has, as most keys do,
	// or an ASCII key with as many as no name has, is told apart without
	// folding.
	longest := 0
	for _, s := range names {
		longest = max(longest, len(s))
	}
	n := 0
	for _, c := range key {
		if c >= 0x80 {
			n = -1
			break
		}
		if c != '_' && c != '-' {
			if n++; n > longest {
				return false
			}
		}
	}
	if n >= 0 && !slices.ContainsFunc(names, func(s string) bool { return len(s) == n }) {
		return false
	}
	var buf [16]byte
	lk := looseName(&buf, key)
	for _, s := range names {
		if string(lk) == s {
			return true
		}
	}
	return false
}

func (p *scanner) span() (span, error) {
	kind, start, err := p.value()
	return span{kind: kind, start: start, end: p.pos}, err
}

// message reads the JSON-RPC message object at p.pos into m and reports
// whether its id was read for sure. Envelope and params keys must be plain
// ASCII without escapes: no client needs more, and it leaves no doubt about
// which member a key names, whatever the upstream's parser.
func (p *scanner) message(m *Message) (idOK bool, err error) {
	start := p.pos
	f, err := p.openObject()
	if err != nil {
		return false, err
	}
	var env envelope
	for {
		key, fl, done, err := p.next(&f)
		if err != nil {
			return false, err
		}
		if done {
			break
		}
		if fl&(flagEscape|flagNonASCII) != 0 {
			return false, p.invalid("message member names must be plain ASCII, without escapes")
		}
		var sp *span
		switch string(key) {
		case "jsonrpc":
			sp = &env.jsonrpc
		case "id":
			sp = &env.id
		case "method":
			sp = &env.method
		case "result":
			sp = &env.result
		case "error":
			sp = &env.errObj
		case "params":
			if err := p.params(&env); err != nil {
				return false, err
			}
			continue
		default:
			if looksLike(key, envelopeNames) {
				return false, p.invalid("member " + quoteExcerpt(key) + " looks like a JSON-RPC member but is not spelt as one")
			}
			p.fail(400, CodeInvalidRequest, "unknown member "+quoteExcerpt(key)+" in a JSON-RPC message")
			if _, _, err := p.value(); err != nil {
				return false, err
			}
			continue
		}
		if *sp, err = p.span(); err != nil {
			return false, err
		}
	}
	m.Raw = p.buf[start:p.pos]
	return p.interpret(&env, m), nil
}

// params reads the params member, remembering the members named methods use.
func (p *scanner) params(env *envelope) error {
	p.skipWS()
	if p.pos >= len(p.buf) || p.buf[p.pos] != '{' {
		sp, err := p.span() // interpret refuses params that are not an object
		env.params = sp
		return err
	}
	start := p.pos
	f, err := p.openObject()
	if err != nil {
		return err
	}
	for {
		key, fl, done, err := p.next(&f)
		if err != nil {
			return err
		}
		if done {
			break
		}
		if fl&(flagEscape|flagNonASCII) != 0 {
			return p.invalid("params member names must be plain ASCII, without escapes")
		}
		var sp *span
		switch string(key) {
		case "name":
			sp = &env.name
		case "arguments":
			sp = &env.arguments
		case "uri":
			sp = &env.uri
		case "_meta":
			if err := p.meta(env); err != nil {
				return err
			}
			continue
		default:
			if looksLike(key, paramsNames) {
				return p.invalid("params member " + quoteExcerpt(key) + " looks like a member MCP uses but is not spelt as one")
			}
			if _, _, err := p.value(); err != nil {
				return err
			}
			continue
		}
		if *sp, err = p.span(); err != nil {
			return err
		}
	}
	env.params = span{kind: kindObject, start: start, end: p.pos}
	return nil
}

// meta reads params._meta, remembering the revision it may name.
func (p *scanner) meta(env *envelope) error {
	p.skipWS()
	if p.pos >= len(p.buf) || p.buf[p.pos] != '{' {
		p.fail(400, CodeInvalidParams, "params._meta must be an object")
		_, _, err := p.value()
		return err
	}
	f, err := p.openObject()
	if err != nil {
		return err
	}
	for {
		key, _, done, err := p.next(&f)
		if err != nil || done {
			return err
		}
		if string(key) == metaVersionKey {
			if env.metaVersion, err = p.span(); err != nil {
				return err
			}
			continue
		}
		if _, _, err := p.value(); err != nil {
			return err
		}
	}
}
