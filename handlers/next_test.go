package handlers

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	ok := []string{"/", "/admin", "/admin/users?q=a%20b", "/a/b#frag", "/%E2%9C%93"}
	refused := []string{
		"", "admin", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
		"https://evil.example", "http:/evil.example", "javascript:alert(1)", "/%2F%2Fevil.example",
		"/%2f/evil.example", "/%5Cevil.example", "/%5C%5Cevil.example", "/\t/evil.example",
		"/\n/evil.example", "/\r\n/evil.example", "/ /evil.example", "/%09/evil.example",
		"/%0a/evil.example", "/%00", "/%zz", "/" + strings.Repeat("a", maxNextLen),
	}
	for _, s := range ok {
		if got := SafeNext(s); got != s {
			t.Errorf("SafeNext(%q) = %q, want it kept", s, got)
		}
	}
	for _, s := range refused {
		if got := SafeNext(s); got != "" {
			t.Errorf("SafeNext(%q) = %q, want it refused", s, got)
		}
	}
}

// FuzzSafeNext checks that whatever SafeNext accepts resolves, against
// our origin, to our origin.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/admin", "//evil", "/\\evil", "/%2F%2Fevil", "/\t/evil", "https://evil", "/a?next=//evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://console.example:8443/login")
	f.Fuzz(func(t *testing.T, s string) {
		got := SafeNext(s)
		if got == "" {
			return
		}
		if got != s {
			t.Fatalf("SafeNext(%q) rewrote it to %q", s, got)
		}
		ref, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted %q that does not parse: %v", got, err)
		}
		if u := base.ResolveReference(ref); u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("accepted %q, which leaves the origin: %s", got, u)
		}
		if strings.ContainsAny(got, "\\\t\r\n") || strings.HasPrefix(got, "//") {
			t.Fatalf("accepted %q, which a browser may read as another origin", got)
		}
	})
}
