package proxy

import "testing"

// Policies decide on the path a request names; a path an upstream could
// resolve to another one (nginx and most servers resolve dot segments,
// some decode %2F) is refused before anything is decided.
func TestAmbiguousPaths(t *testing.T) {
	for _, p := range []string{
		"/public/../admin", "/public/..", "/./admin", "/public/%2e%2e/admin", "/public/.%2E/admin",
		"/public/%2E/admin", "/public%2f..%2fadmin", "/public%2Fadmin", "/a%5cb", "/a\\b", "//admin", "/a//b",
	} {
		if !ambiguousPath(p) {
			t.Errorf("%q passes", p)
		}
	}
	for _, p := range []string{"", "/", "/mcp", "/a/b.c", "/a/..b", "/a/b../c", "/.well-known/x", "/a%20b", "/%2e%2ex"} {
		if ambiguousPath(p) {
			t.Errorf("%q refused", p)
		}
	}
}
