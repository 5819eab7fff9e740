package policy

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"time"
)

// Input is what a policy decides on: who is calling, and what one message
// asks for. Fill it once per JSON-RPC message. An Input caches the decoded
// tool arguments on first use, so it must not be evaluated from several
// goroutines at once; evaluating it against many policies is fine.
type Input struct {
	// Authenticated is true for a signed-in user, and for a service account
	// acting for one. Identity criteria (email, domain, user, groups,
	// claim/…, service_account) never match when it is false.
	Authenticated bool
	// UserID is the user's stable id.
	UserID string
	// Email is the user's email address.
	Email string
	// Groups are the user's groups, as the identity provider names them.
	Groups []string
	// Claims are the identity's claims. Values may be strings, booleans,
	// numbers (float64, json.Number, ints), []string or []any.
	Claims map[string]any
	// ServiceAccount is the name of the service account making the call,
	// or "" when a person makes it.
	ServiceAccount string
	// ClientID and ClientName identify the registered OAuth client.
	ClientID, ClientName string
	// SourceIP is the caller's address; the zero Addr matches no source_ip.
	SourceIP netip.Addr

	// HTTPMethod and HTTPPath are the request's method ("POST") and path.
	HTTPMethod, HTTPPath string
	// MCPMethod is the JSON-RPC method, e.g. "tools/call"; "" outside MCP.
	MCPMethod string
	// MCPTool is the tool name of a tools/call, "" for any other message.
	MCPTool string
	// Arguments are the raw arguments of a tools/call (a JSON object), or
	// empty. They are decoded once, on the first mcp_argument rule that
	// needs them, and decoded again only if Arguments is set to another
	// slice: do not overwrite its bytes in place between evaluations.
	Arguments json.RawMessage

	// Now is the time the message arrived; the zero Time means time.Now().
	Now time.Time

	args argCache
}

// argCache holds the decoded Arguments and the slice they came from.
type argCache struct {
	raw     []byte
	done    bool
	present bool
	root    any
	err     error
}

// arguments decodes Arguments once. present is false when there are none
// (empty, or JSON null).
func (in *Input) arguments() (root any, present bool, err error) {
	c := &in.args
	if !c.done || !sameSlice(c.raw, in.Arguments) {
		*c = argCache{raw: in.Arguments, done: true}
		if len(bytes.TrimSpace(in.Arguments)) > 0 {
			c.root, c.err = decodeArguments(in.Arguments)
			c.present = c.err == nil && c.root != nil
		}
	}
	return c.root, c.present, c.err
}

// sameSlice reports whether a and b are the same bytes in memory, so that
// an Input copied and given new Arguments does not reuse a stale cache.
func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// now returns Now, or the current time when it is unset.
func (in *Input) now() time.Time {
	if in.Now.IsZero() {
		return time.Now()
	}
	return in.Now
}
