package mcp

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// checkMirrors compares the Mcp-Method and Mcp-Name headers with the body.
// 2026-07-28 requires them; on every revision, a header that is present
// must agree with the body, or a middlebox routing on the header and the
// upstream reading the body would see two different requests.
func checkMirrors(h http.Header, req *Request) *Error {
	methods, names := h.Values(headerMethod), h.Values(headerName)
	if len(methods) > 1 || len(names) > 1 {
		return mismatch(nil, "Mcp-Method and Mcp-Name may appear at most once")
	}
	if req.Batch {
		if len(methods)+len(names) > 0 {
			return mismatch(nil, "Mcp-Method and Mcp-Name cannot describe a batch")
		}
		return nil
	}
	m := &req.Messages[0]
	if mirrorsRequired(req.Revision) && m.Method != "" {
		if len(methods) == 0 {
			return mismatch(m.ID, "missing Mcp-Method header")
		}
		if len(names) == 0 && nameRequired(m.Method) {
			return mismatch(m.ID, "missing Mcp-Name header for "+m.Method)
		}
	}
	if len(methods) == 1 && methods[0] != m.Method {
		return mismatch(m.ID, "the Mcp-Method header differs from the body's method")
	}
	if len(names) == 1 {
		if !hasName(m.Method) {
			return mismatch(m.ID, "Mcp-Name given for a message that names nothing")
		}
		if !mirrors(names[0], m.Name) {
			return mismatch(m.ID, "the Mcp-Name header differs from the body's name")
		}
	}
	return nil
}

func mismatch(id []byte, msg string) *Error {
	return &Error{Status: 400, Code: CodeHeaderMismatch, Message: msg, ID: id}
}

// nameRequired: the methods 2026-07-28 requires Mcp-Name for.
func nameRequired(method string) bool {
	return method == "tools/call" || method == "prompts/get" || method == "resources/read"
}

// hasName: the methods whose Message.Name Mcp-Name may mirror.
func hasName(method string) bool {
	return nameRequired(method) || method == "resources/subscribe" || method == "resources/unsubscribe"
}

// mirrors reports whether header is the canonical mirror of value: the
// value itself when it is safe printable ASCII, else "=?base64?…?=" of it
// (SEP-2243). Only one spelling is accepted, so that a middlebox reading
// the header and the upstream reading the body see the same name.
func mirrors(header, value string) bool {
	if !needsBase64(value) {
		return header == value
	}
	enc, ok := strings.CutPrefix(header, base64Prefix)
	if enc, ok2 := strings.CutSuffix(enc, base64Suffix); ok && ok2 {
		dec, err := base64.StdEncoding.Strict().DecodeString(enc)
		return err == nil && string(dec) == value
	}
	return false
}

const (
	base64Prefix = "=?base64?"
	base64Suffix = "?="
)

// needsBase64: leading or trailing blanks, bytes outside printable ASCII, or
// a value that already looks encoded.
func needsBase64(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' || s[len(s)-1] == '\t' {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return true
		}
	}
	return strings.HasPrefix(s, base64Prefix) && strings.HasSuffix(s, base64Suffix)
}
