package mcp

import (
	"encoding/json"
	"strconv"
)

// JSON-RPC and MCP error codes used in replies.
const (
	CodeParseError     = -32700 // the body is not JSON this reader can be sure of
	CodeInvalidRequest = -32600 // JSON, but not an acceptable JSON-RPC message
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602 // params of a known method are malformed
	CodeInternalError  = -32603
	CodeHeaderMismatch = -32020 // MCP: mirrored headers missing or unlike the body
)

// Error is a refused request: the HTTP status and the JSON-RPC error to
// answer with. Message is safe to send: it quotes at most a short,
// sanitised excerpt of the client's bytes.
type Error struct {
	Status  int             // 400, 413 or 415
	Code    int             // JSON-RPC error code, one of the Code constants
	Message string          // safe to show the client
	ID      json.RawMessage // the request's id when it was read for sure, else nil
}

// Error implements error.
func (e *Error) Error() string {
	return "mcp: " + strconv.Itoa(e.Status) + ": " + e.Message
}

func errStatus(status, code int, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

// maxExcerpt bounds how much of a client's text an error message quotes.
const maxExcerpt = 40

// quoteExcerpt quotes at most maxExcerpt bytes of b, every byte outside
// printable ASCII (and the quote, backslash and angle brackets) shown as '?',
// so that a reply never carries markup, control bytes or a long echo.
func quoteExcerpt(b []byte) string {
	n := min(len(b), maxExcerpt)
	out := make([]byte, 0, n+5)
	out = append(out, '"')
	for _, c := range b[:n] {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			c = '?'
		}
		out = append(out, c)
	}
	if n < len(b) {
		out = append(out, "..."...)
	}
	return string(append(out, '"'))
}
