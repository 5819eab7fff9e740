package handlers

import (
	"strings"
	"testing"
)

func TestLineDiff(t *testing.T) {
	render := func(before, after string) string {
		var sb strings.Builder
		for _, l := range lineDiff(before, after) {
			sb.WriteString(l.Op + l.Text + "\n")
		}
		return sb.String()
	}
	cases := []struct{ before, after, want string }{
		{"", "a\nb", "+a\n+b\n"},
		{"a\nb", "", "-a\n-b\n"},
		{"a\nb\nc", "a\nB\nc", " a\n-b\n+B\n c\n"},
		{"{\n  \"name\": \"x\",\n  \"to\": \"y\"\n}", "{\n  \"name\": \"x\",\n  \"to\": \"z\"\n}",
			" {\n   \"name\": \"x\",\n-  \"to\": \"y\"\n+  \"to\": \"z\"\n }\n"},
	}
	for _, tc := range cases {
		if got := render(tc.before, tc.after); got != tc.want {
			t.Errorf("diff(%q, %q):\n%s\nwant:\n%s", tc.before, tc.after, got, tc.want)
		}
	}
}
