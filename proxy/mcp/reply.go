package mcp

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ErrorResponse returns the bytes of a JSON-RPC error reply addressed to id
// (null when id is nil or not a JSON string or integer), with data when it
// is not nil and can be encoded. The proxy uses it for policy denials too.
func ErrorResponse(id json.RawMessage, code int, message string, data any) []byte {
	out := make([]byte, 0, 64+len(id)+len(message))
	out = append(out, `{"jsonrpc":"2.0","id":`...)
	if validID(id) {
		out = append(out, id...)
	} else {
		out = append(out, "null"...)
	}
	out = append(out, `,"error":{"code":`...)
	out = strconv.AppendInt(out, int64(code), 10)
	out = append(out, `,"message":`...)
	msg, _ := json.Marshal(message) // a string always encodes
	out = append(out, msg...)
	if data != nil {
		if d, err := json.Marshal(data); err == nil {
			out = append(out, `,"data":`...)
			out = append(out, d...)
		}
	}
	return append(out, "}}\n"...)
}

// WriteError answers a refused request: e's status and a JSON-RPC error
// reply addressed to e.ID (or null).
func WriteError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	_, _ = w.Write(ErrorResponse(e.ID, e.Code, e.Message, nil))
}

// validID reports whether id is exactly one JSON string or integer.
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	p := getScanner(id)
	defer putScanner(p)
	kind, start, err := p.value()
	return err == nil && start == 0 && p.pos == len(id) && (kind == kindString || kind == kindInt)
}
