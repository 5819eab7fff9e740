package views

import (
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// Messages from the policy parser quote names in backticks, as Markdown
// does: "unknown criterion `emial`". The console shows those names in
// <code> rather than printing the backticks.

// textPart is a run of a message: plain text, or a name to show as code.
type textPart struct {
	Text string
	Code bool
}

// backtickParts splits s at its backticks into plain and code runs. A
// backtick with no partner is kept as text, and so is an empty pair.
func backtickParts(s string) []textPart {
	var parts []textPart
	add := func(text string, code bool) {
		if text == "" {
			return
		}
		if n := len(parts); n > 0 && !code && !parts[n-1].Code {
			parts[n-1].Text += text
			return
		}
		parts = append(parts, textPart{Text: text, Code: code})
	}
	for {
		open := strings.IndexByte(s, '`')
		if open < 0 {
			break
		}
		length := strings.IndexByte(s[open+1:], '`')
		if length < 0 {
			break
		}
		add(s[:open], false)
		if length == 0 {
			add("``", false)
		} else {
			add(s[open+1:open+1+length], true)
		}
		s = s[open+1+length+1:]
	}
	add(s, false)
	return parts
}

// codeText renders s with its backtick-quoted names in <code>, everything
// escaped. It is written in Go, like wrapAt, so that no whitespace slips
// in between the runs.
func codeText(s string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b strings.Builder
		for _, p := range backtickParts(s) {
			if p.Code {
				b.WriteString("<code>" + templ.EscapeString(p.Text) + "</code>")
			} else {
				b.WriteString(templ.EscapeString(p.Text))
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	})
}
