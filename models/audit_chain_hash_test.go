package models

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAuditChainHashEncoding pins the hash to the encoding the chain's
// documentation gives (version 1), written out here independently, and
// to a value computed when the encoding was released: a verifier must
// reach the same hashes for events written by any earlier build.
func TestAuditChainHashEncoding(t *testing.T) {
	user, route := uint(7), uint(12)
	e := &AuditEvent{
		Writer: "gw-1", Seq: 42, PrevHash: strings.Repeat("ab", 32),
		At:   time.Date(2026, 11, 30, 9, 15, 3, 123456789, time.FixedZone("CET", 3600)),
		Kind: "mcp", RequestID: "req-1", UserID: &user, UserEmail: "alice@example.com",
		ServiceAccount: "", ClientID: "client-9", RouteID: &route, RouteName: "GitHub",
		HTTPMethod: "POST", MCPMethod: "tools/call", Tool: "create_issue",
		Arguments: `{"title":"é\n"}`, Decision: "allow", Reasons: `["rule 1"]`,
		ConfigVersion: 31, SourceIP: "127.0.0.1",
	}
	var enc strings.Builder
	enc.WriteString("drawbridge-audit-v1\n")
	for _, f := range [][2]string{
		{"writer", "gw-1"}, {"seq", "42"}, {"prev_hash", e.PrevHash},
		{"at", "2026-11-30T08:15:03.123456Z"}, {"kind", "mcp"}, {"request_id", "req-1"},
		{"user_id", "7"}, {"user_email", "alice@example.com"}, {"service_account", ""},
		{"client_id", "client-9"}, {"route_id", "12"}, {"route_name", "GitHub"},
		{"http_method", "POST"}, {"mcp_method", "tools/call"}, {"tool", "create_issue"},
		{"arguments", e.Arguments}, {"decision", "allow"}, {"reasons", e.Reasons},
		{"config_version", "31"}, {"source_ip", "127.0.0.1"},
	} {
		fmt.Fprintf(&enc, "%s %d\n%s\n", f[0], len(f[1]), f[1])
	}
	sum := sha256.Sum256([]byte(enc.String()))
	want := hex.EncodeToString(sum[:])
	if got := e.chainHash(); got != want {
		t.Errorf("chainHash = %s, want %s (the documented encoding)", got, want)
	}
	if want != releasedHash {
		t.Errorf("the documented encoding hashes to %s, want %s (as released)", want, releasedHash)
	}
	e.UserID, e.RouteID = nil, nil
	if e.chainHash() == want {
		t.Error("a NULL user and route hash like set ones")
	}
}

const releasedHash = "400ab8e771e3db1e2995fc1152a6569405c52642550b9a50b305c349ed2eb392"
