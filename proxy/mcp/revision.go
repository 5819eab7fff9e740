package mcp

import "net/http"

// The MCP revisions the reader knows.
const (
	// Revision20260728 is the latest: no sessions, and the Mcp-Method and
	// Mcp-Name headers mirror the body.
	Revision20260728 = "2026-07-28"
	Revision20251125 = "2025-11-25"
	Revision20250618 = "2025-06-18"
	// Revision20250326 is the only revision that allows JSON-RPC batches.
	Revision20250326 = "2025-03-26"

	// DefaultRevision is assumed when a request has no MCP-Protocol-Version
	// header, as the specification tells servers to. The upstream assumes
	// the same, so the batches this allows are batches the upstream reads;
	// and every message of a batch is exposed to policy anyway.
	DefaultRevision = Revision20250326
)

// Header names, in canonical form.
const (
	headerVersion = "Mcp-Protocol-Version"
	headerMethod  = "Mcp-Method"
	headerName    = "Mcp-Name"
)

// revision returns the request's revision and whether a header named it.
// A header naming a revision we do not know is refused: we could not tell
// which rules the upstream applies.
func revision(h http.Header) (rev string, explicit bool, e *Error) {
	vs := h.Values(headerVersion)
	switch len(vs) {
	case 0:
		return DefaultRevision, false, nil
	case 1:
	default:
		return "", false, errStatus(400, CodeInvalidRequest, "more than one MCP-Protocol-Version header")
	}
	switch vs[0] {
	case Revision20260728, Revision20251125, Revision20250618, Revision20250326:
		return vs[0], true, nil
	}
	return "", false, errStatus(400, CodeInvalidRequest, "unsupported MCP-Protocol-Version "+quoteExcerpt([]byte(vs[0])))
}

// mirrorsRequired reports whether the revision requires Mcp-Method (and,
// for named methods, Mcp-Name) on every request.
func mirrorsRequired(rev string) bool { return rev == Revision20260728 }
