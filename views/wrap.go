package views

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// Long values (paths, URLs, email addresses) have no spaces to wrap at, so
// in a narrow column the browser would cut them at any letter. These helpers
// split them at the places a reader expects a break, and wrapAt puts a <wbr>
// between the parts; CSS still breaks anywhere as a last resort.

// wrapAt renders parts as escaped text with a <wbr> between each two. It is
// written in Go rather than templ because templ would put whitespace
// between the parts, and that whitespace would show.
func wrapAt(parts []string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		for i, part := range parts {
			if i > 0 {
				if _, err := io.WriteString(w, "<wbr>"); err != nil {
					return err
				}
			}
			if _, err := io.WriteString(w, templ.EscapeString(part)); err != nil {
				return err
			}
		}
		return nil
	})
}

// pathParts splits a path or URL after each slash, but not inside "//".
func pathParts(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && (i+1 == len(s) || s[i+1] != '/') {
			parts = append(parts, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		parts = append(parts, s[start:])
	}
	return parts
}

// emailParts splits an email address before its "@" and before each dot,
// the places a typesetter breaks an address.
func emailParts(s string) []string {
	var parts []string
	start := 0
	for i := 1; i < len(s); i++ {
		if s[i] == '@' || s[i] == '.' {
			parts = append(parts, s[start:i])
			start = i
		}
	}
	return append(parts, s[start:])
}
