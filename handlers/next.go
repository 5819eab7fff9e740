package handlers

import (
	"net/url"
	"strings"
)

const maxNextLen = 4096

// SafeNext returns raw when it is a path on this origin that is safe to
// redirect to after sign-in, and "" otherwise. It fails closed: anything a
// browser could read as another origin is refused, in plain or
// percent-encoded form, including the tricks browsers forgive
// (backslashes for slashes, tabs and newlines that they strip).
func SafeNext(raw string) string {
	if raw == "" || len(raw) > maxNextLen || !strings.HasPrefix(raw, "/") {
		return ""
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || r == '\\' {
			return ""
		}
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		return ""
	}
	for _, s := range []string{raw, decoded} {
		if strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || strings.ContainsAny(s, "\\\x00\r\n\t") {
			return ""
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return raw
}

// withNext appends a validated next path to a sign-in URL.
func withNext(u, next string) string {
	if next == "" {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "next=" + url.QueryEscape(next)
}
