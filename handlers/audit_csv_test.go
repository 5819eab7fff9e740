package handlers

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

func TestCSVSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"echo":              "echo",
		"=1+1":              "'=1+1",
		"+1":                "'+1",
		"-32600":            "-32600", // a number, not a formula
		"-1+1":              "'-1+1",
		"-":                 "'-",
		"-1.5":              "'-1.5",
		"@SUM(A1)":          "'@SUM(A1)",
		"\t=1":              "'\t=1",
		"\r=1":              "'\r=1",
		"'quoted":           "''quoted",
		" =1":               " =1", // only the first character counts
		"a=1":               "a=1",
		"alice@example.com": "alice@example.com",
	} {
		if got := csvSafeCell(in); got != want {
			t.Errorf("csvSafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every cell of the CSV goes through the escape, and a reader who strips
// one leading quote from each cell that has one reads back exactly the
// event's values.
func TestAuditCSVWriterEscapesEveryCell(t *testing.T) {
	code, uid := -32600, uint(7)
	e := &models.AuditEvent{
		ID: 42, At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Kind: "mcp", RequestID: "\treq", Writer: "'gw", Seq: 3,
		UserID: &uid, UserEmail: "@alice", ServiceAccount: "+ci", ClientID: "=cmd|' /C calc'!A0", RouteName: "\rroute",
		MCPMethod: "tools/call", Tool: "-rm", Arguments: `{"a":"=1"}`, Decision: "allow", Reasons: "[]", RPCErrorCode: &code,
	}
	var buf bytes.Buffer
	w := newAuditCSVWriter(&buf)
	if err := w.WriteHeader(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(e); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(records) != 2 {
		t.Fatalf("the CSV reads back as %q, %v", records, err)
	}
	if !slices.Equal(records[0], auditCSVHeader) {
		t.Errorf("header = %q", records[0])
	}
	want := auditCSVRecord(e, nil)
	for i, cell := range records[1] {
		if strings.ContainsAny(cell[:min(len(cell), 1)], csvFormulaStarts[:len(csvFormulaStarts)-1]) && !negativeInteger(cell) {
			t.Errorf("%s = %q: a spreadsheet would read a formula", auditCSVHeader[i], cell)
		}
		if got := strings.TrimPrefix(cell, "'"); got != want[i] {
			t.Errorf("%s = %q, reads back as %q; want %q", auditCSVHeader[i], cell, got, want[i])
		}
	}
	for name, cell := range map[string]string{"tool": "'-rm", "rpc_error_code": "-32600", "writer": "''gw", "arguments": `{"a":"=1"}`} {
		if got := records[1][slices.Index(auditCSVHeader, name)]; got != cell {
			t.Errorf("%s = %q, want %q", name, got, cell)
		}
	}
}
