package models

import (
	"context"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestPolicySnapshotShowsSourceAsWritten(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	source := "# Staff, and only from our domain.\nallow:\n  and:\n    - email: {ends_with: \"@example.com\"}\n    - mcp_tool: {starts_with: 'search_'}\n"
	p := &Policy{Name: "staff", Description: "Staff only", Source: strings.ReplaceAll(source, "\n", "\r\n")}
	if err := s.CreatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	want := `name: staff
description: Staff only
source: |
  # Staff, and only from our domain.
  allow:
    and:
      - email: {ends_with: "@example.com"}
      - mcp_tool: {starts_with: 'search_'}
`
	if c := lastChange(t, s); c.After != want {
		t.Errorf("policy snapshot:\n%s\nwant:\n%s", c.After, want)
	}

	p.Source = strings.Replace(source, "@example.com", "@example.org", 1)
	if err := s.UpdatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	c := lastChange(t, s)
	if c.Before != want {
		t.Errorf("before:\n%s\nwant:\n%s", c.Before, want)
	}
	if removed, added := changedLines(c.Before, c.After); len(removed) != 1 || len(added) != 1 ||
		removed[0] != `      - email: {ends_with: "@example.com"}` || added[0] != `      - email: {ends_with: "@example.org"}` {
		t.Errorf("editing one line of the source changed %q to %q", removed, added)
	}
}

// changedLines returns the lines only before has and the lines only after
// has, which for snapshots that differ in one line is that line.
func changedLines(before, after string) (removed, added []string) {
	count := map[string]int{}
	for _, l := range strings.Split(before, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(after, "\n") {
		count[l]--
	}
	for _, l := range strings.Split(before, "\n") {
		if count[l] > 0 {
			removed = append(removed, l)
		}
	}
	for _, l := range strings.Split(after, "\n") {
		if count[l] < 0 {
			added = append(added, l)
		}
	}
	return removed, added
}

func TestSnapshotTextKeepsMultiLineTextVerbatim(t *testing.T) {
	tests := []struct {
		name, source string
		literal      bool // shown as a literal block, not a quoted string
	}{
		{"common", "allow:\n  email: {is: a@example.com}\n", true},
		{"no final newline", "allow:\n  accept: true", true},
		{"blank lines at the end", "allow:\n  accept: true\n\n\n", true},
		{"blank lines inside", "allow:\n\n  accept: true\n", true},
		{"first line indented", "  allow:\n    accept: true\n", true},
		{"leading blank line", "\nallow:\n  accept: true\n", true},
		{"leading blank line, then indented", "\n  allow:\n    accept: true\n", true},
		{"trailing spaces", "allow:   \n  accept: true\n", true},
		{"trailing space at the end", "allow:\n  accept: true ", true},
		{"line of spaces", "allow:\n   \n  accept: true\n", true},
		{"tabs", "allow:\n\taccept: true\t\n", true},
		{"emoji and accents", "# 🔒 Équipe\nallow:\n  accept: true\n", true},
		{"markers and indicators", "---\n...\n# c\n|\n- x: \"y\" # z\n", true},
		{"carriage return", "allow:\r  accept: true\n", false},
		{"control character", "allow:\n  accept: \x1btrue\n", false},
		{"byte order mark", "\ufeffallow:\n  accept: true\n", false},
		{"only newlines", "\n\n", true},
		{"one newline", "\n", true},
		{"one line", "allow: {accept: true}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := policySnapshot{Name: "p", Description: "d", Source: tt.source}
			text, err := snapshotText(in)
			if err != nil {
				t.Fatal(err)
			}
			var out policySnapshot
			if err := yaml.Unmarshal([]byte(text), &out); err != nil || out != in {
				t.Errorf("snapshot\n%s\nreads back as %+v (%v), want %+v", text, out, err, in)
			}
			if literal := strings.Contains(text, "\nsource: |"); literal != tt.literal {
				t.Errorf("snapshot\n%s\nliteral block = %v, want %v", text, literal, tt.literal)
			}
		})
	}
}
