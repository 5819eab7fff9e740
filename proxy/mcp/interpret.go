package mcp

import (
	"bytes"
	"strconv"
)

// interpret checks the meaning of a message's members, fills m, and reports
// whether m.ID was read for sure. Its refusals are soft: the JSON is sound,
// so a reply can name the id.
func (p *scanner) interpret(env *envelope, m *Message) (idOK bool) {
	if env.jsonrpc.kind != kindString || string(p.stringAt(env.jsonrpc.start)) != "2.0" {
		p.fail(400, CodeInvalidRequest, `"jsonrpc" must be "2.0"`)
	}
	switch env.id.kind {
	case 0:
	case kindString:
		idOK = true
	case kindInt:
		_, err := strconv.ParseInt(string(p.buf[env.id.start:env.id.end]), 10, 64)
		idOK = err == nil
	}
	if env.id.kind != 0 && !idOK {
		p.fail(400, CodeInvalidRequest, "id must be a string or an integer that fits in 64 bits")
	}
	if idOK {
		m.ID = p.buf[env.id.start:env.id.end]
	}
	if env.method.kind == 0 {
		p.response(env, m)
		return idOK
	}
	if env.method.kind != kindString {
		p.fail(400, CodeInvalidRequest, "method must be a string")
		return idOK
	}
	method := p.stringAt(env.method.start)
	if !validMethod(method) {
		p.fail(400, CodeInvalidRequest, "method "+quoteExcerpt(method)+" is not printable ASCII without spaces")
		return idOK
	}
	if known := caseVariantOf(method); known != "" {
		p.fail(400, CodeInvalidRequest, "method "+quoteExcerpt(method)+" differs from "+known+" only in case")
		return idOK
	}
	m.Method = internMethod(method)
	m.IsNotification = env.id.kind == 0
	if env.result.kind != 0 || env.errObj.kind != 0 {
		p.fail(400, CodeInvalidRequest, "a request cannot carry result or error")
	}
	if env.params.kind != 0 && env.params.kind != kindObject {
		p.fail(400, CodeInvalidRequest, "params must be an object")
		return idOK
	}
	if env.metaVersion.kind != 0 && (!p.explicit || env.metaVersion.kind != kindString ||
		string(p.stringAt(env.metaVersion.start)) != p.rev) {
		p.fail(400, CodeHeaderMismatch, "params._meta protocolVersion differs from the MCP-Protocol-Version header")
	}
	p.named(env, m)
	return idOK
}

// response checks a message without a method: a client's answer to a
// server request (sampling, elicitation, roots, ping).
func (p *scanner) response(env *envelope, m *Message) {
	switch {
	case env.result.kind == 0 && env.errObj.kind == 0:
		p.fail(400, CodeInvalidRequest, "a message needs a method, a result or an error")
	case env.result.kind != 0 && env.errObj.kind != 0:
		p.fail(400, CodeInvalidRequest, "a response cannot carry both result and error")
	case env.id.kind == 0:
		p.fail(400, CodeInvalidRequest, "a response needs an id")
	case env.params.kind != 0:
		p.fail(400, CodeInvalidRequest, "a response cannot carry params")
	case env.result.kind != 0 && env.result.kind != kindObject:
		p.fail(400, CodeInvalidRequest, "result must be an object")
	case env.errObj.kind != 0 && env.errObj.kind != kindObject:
		p.fail(400, CodeInvalidRequest, "error must be an object")
	}
	m.IsResponse = true
}

// named reads the name a named method addresses.
func (p *scanner) named(env *envelope, m *Message) {
	var sp span
	var field string
	switch m.Method {
	case "tools/call", "prompts/get":
		sp, field = env.name, "params.name"
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		sp, field = env.uri, "params.uri"
	default:
		return
	}
	if sp.kind != kindString {
		p.fail(400, CodeInvalidParams, m.Method+" needs "+field+" as a string")
		return
	}
	name := p.stringAt(sp.start)
	if m.Method == "tools/call" {
		if !validToolName(name) {
			p.fail(400, CodeInvalidParams, "tool name "+quoteExcerpt(name)+" is not 1-128 of A-Z a-z 0-9 _ . -")
			return
		}
		m.Tool = string(name)
		m.Name = m.Tool
	} else {
		if !validLabel(name) {
			p.fail(400, CodeInvalidParams, field+" must be non-empty and hold no control characters")
			return
		}
		m.Name = string(name)
	}
	if env.arguments.kind != 0 && m.Method != "resources/read" {
		if env.arguments.kind != kindObject {
			p.fail(400, CodeInvalidParams, "params.arguments must be an object")
			return
		}
		if m.Method == "tools/call" {
			m.Arguments = p.buf[env.arguments.start:env.arguments.end]
		}
	}
}

// ValidToolName reports whether s is a tool name as the specification
// defines them: 1 to 128 of A-Z a-z 0-9 '_' '.' '-'. Anything else (a
// trailing space, a look-alike letter, a NUL) could name one tool to the
// policy and another to the upstream.
func ValidToolName(s string) bool {
	return validToolName(s)
}

// validToolName is ValidToolName for a name still in the body's bytes too.
func validToolName[T string | []byte](s T) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !toolNameByte[s[i]] {
			return false
		}
	}
	return true
}

// toolNameByte marks the bytes a tool name may hold.
var toolNameByte = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
	}
	return t
}()

// validMethod: printable ASCII without spaces, so "tools/call " is no method.
func validMethod(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// knownMethods are the methods of the MCP specification, requests and
// notifications, of every revision Drawbridge reads.
var knownMethods = func() [][]byte {
	var out [][]byte
	for _, m := range []string{
		"initialize", "ping",
		"tools/call", "tools/list",
		"prompts/get", "prompts/list",
		"resources/read", "resources/list", "resources/templates/list", "resources/subscribe", "resources/unsubscribe",
		"completion/complete", "logging/setLevel",
		"sampling/createMessage", "elicitation/create", "roots/list",
		"tasks/get", "tasks/result", "tasks/list", "tasks/cancel",
		"notifications/initialized", "notifications/cancelled", "notifications/progress", "notifications/message",
		"notifications/roots/list_changed", "notifications/resources/updated", "notifications/resources/list_changed",
		"notifications/tools/list_changed", "notifications/prompts/list_changed", "notifications/elicitation/complete",
		"notifications/tasks/status",
	} {
		out = append(out, []byte(m))
	}
	return out
}()

// caseVariantOf returns the method of knownMethods that method spells in
// other letter case, or "". JSON-RPC method names are case-sensitive, so
// to policy "Tools/call" is no call of a tool, and "Logging/SetLevel"
// matches no rule about logging/setLevel; an upstream that matched
// methods without regard to case would run them as those, undecided.
func caseVariantOf(method []byte) string {
	for _, m := range knownMethods {
		if !bytes.Equal(method, m) && asciiEqualFold(method, m) {
			return string(m)
		}
	}
	return ""
}

// validLabel: a prompt name or resource URI, non-empty, without C0, DEL or
// C1 control characters (a NUL ends a string in some upstreams).
func validLabel(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return false
		}
	}
	return true
}

// internMethod avoids an allocation for the methods of every session.
func internMethod(b []byte) string {
	switch string(b) {
	case "tools/call":
		return "tools/call"
	case "tools/list":
		return "tools/list"
	case "initialize":
		return "initialize"
	case "notifications/initialized":
		return "notifications/initialized"
	case "ping":
		return "ping"
	case "prompts/get":
		return "prompts/get"
	case "prompts/list":
		return "prompts/list"
	case "resources/read":
		return "resources/read"
	case "resources/list":
		return "resources/list"
	}
	return string(b)
}
