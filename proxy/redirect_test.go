package proxy

import (
	"errors"
	"strings"
	"testing"
)

// redirectSnapshot has an MCP server route, an mcp_client route and an
// http route, and a console at http://console.localhost:8080.
func redirectSnapshot() (*Snapshot, *Route, string) {
	server := &Route{ID: 1, Name: "GitHub", From: "http://github.localhost:8080", Host: "github.localhost:8080", Kind: "mcp_server"}
	chat := &Route{ID: 2, Name: "Chat", From: "https://chat.localhost", Host: "chat.localhost", Kind: "mcp_client"}
	wiki := &Route{ID: 3, Name: "Wiki", From: "http://wiki.localhost:8080", Host: "wiki.localhost:8080", Kind: "http"}
	s := &Snapshot{}
	s.index([]*Route{server, chat, wiki})
	return s, server, "http://console.localhost:8080"
}

func TestRedirectAllowsOnlyTheRouteTheConsoleAndClientRoutes(t *testing.T) {
	snap, route, console := redirectSnapshot()
	allowed := map[string]string{
		"http://github.localhost:8080/":                                 "http://github.localhost:8080/",
		"http://github.localhost:8080":                                  "http://github.localhost:8080",
		"http://GitHub.LOCALHOST:8080/Back?x=1#f":                       "http://github.localhost:8080/Back?x=1#f",
		"http://console.localhost:8080/":                                "http://console.localhost:8080/",
		"http://console.localhost:8080/oauth/authorize?client_id=a%20b": "http://console.localhost:8080/oauth/authorize?client_id=a%20b",
		"https://chat.localhost/after":                                  "https://chat.localhost/after",
		"https://chat.localhost:443/after":                              "https://chat.localhost/after",
	}
	for raw, want := range allowed {
		u, origin, err := ParseRedirect(raw)
		if err != nil {
			t.Errorf("ParseRedirect(%q): %v", raw, err)
			continue
		}
		if !snap.RedirectAllowed(route, origin, console) {
			t.Errorf("%q (origin %s) refused", raw, origin)
		}
		if u.String() != want {
			t.Errorf("%q became %q, want %q", raw, u.String(), want)
		}
	}
}

// TestRedirectTricks is the catalogue of redirect_url tricks: every one
// must be refused, by the parser or by the origin rule.
func TestRedirectTricks(t *testing.T) {
	snap, route, console := redirectSnapshot()
	tricks := []string{
		"http://evil.example/",                                      // another host
		"//evil.example/",                                           // scheme-relative
		"/\\evil.example/",                                          // relative with a backslash
		"/relative/path",                                            // relative at all
		"http://github.localhost:8080@evil.example/",                // userinfo
		"http://user:pw@github.localhost:8080/",                     // userinfo on an allowed host
		"http://github.localhost:9090/",                             // another port
		"https://github.localhost:8080/",                            // https where the route is http
		"http://chat.localhost/",                                    // http where the client route is https
		"http://github.localhost:8080%2F@evil.example/",             // encoded slash in the authority
		"http://github.localhost:8080/%2F%2Fevil.example",           // encoded slashes in the path
		"http://github.localhost:8080/%5Cevil.example",              // encoded backslash
		"http://github.localhost:8080\\@evil.example/",              // backslash
		"http:\\\\evil.example\\",                                   // backslashes for slashes
		"javascript:alert(document.domain)",                         // script
		"JavaScript://github.localhost:8080/%0Aalert(1)",            // script spelled as a URL
		"data:text/html,<script>alert(1)</script>",                  // data
		"http://github.localhost.:8080/",                            // trailing dot
		"http://console.localhost.:8080/",                           // trailing dot on the console
		"http://wiki.localhost:8080/",                               // an http route is not a client route
		"http://github.localhost:08080/",                            // leading zero port
		"http://github.localhost:65536/",                            // port out of range
		"http://github.localhost:8080 /",                            // space
		"http://github.localhost:8080/\tpath",                       // control character
		"http://github.localhost:8080/\x00",                         // NUL
		"http:github.localhost:8080/",                               // opaque
		"http:///github.localhost:8080/",                            // empty host
		"ftp://github.localhost:8080/",                              // another scheme
		"",                                                          // nothing
		"http://github.localhost:8080/" + strings.Repeat("a", 2048), // too long
		"http://[::1]:8080/",                                        // loopback, but not configured
		"http://github.localhost%2e:8080/",                          // encoded dot
	}
	for _, raw := range tricks {
		_, origin, err := ParseRedirect(raw)
		if err == nil && snap.RedirectAllowed(route, origin, console) {
			t.Errorf("%q allowed (origin %s)", raw, origin)
		} else if err != nil && !errors.Is(err, ErrRedirect) {
			t.Errorf("%q: error %v is not ErrRedirect", raw, err)
		}
	}
}

func FuzzParseRedirect(f *testing.F) {
	for _, s := range []string{"http://github.localhost:8080/x", "//evil", "http://a@b/", "https://chat.localhost:443/", "http://[::1]:1/"} {
		f.Add(s)
	}
	snap, route, console := redirectSnapshot()
	f.Fuzz(func(t *testing.T, raw string) {
		u, origin, err := ParseRedirect(raw)
		if err != nil {
			return
		}
		// Whatever passes must read back as the same origin, with no
		// userinfo, and only over http(s).
		again, origin2, err := ParseRedirect(u.String())
		if err != nil || origin2 != origin || again.User != nil {
			t.Fatalf("%q → %q does not read back the same (%v, %s vs %s)", raw, u, err, origin, origin2)
		}
		if !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") {
			t.Fatalf("%q: origin %q", raw, origin)
		}
		if snap.RedirectAllowed(route, origin, console) && !strings.HasPrefix(u.String(), origin) {
			t.Fatalf("%q allowed but %q does not start with %q", raw, u, origin)
		}
	})
}

// TestRedirectHosts: a host is a DNS name or an IP address, spelt as
// routes store them. Other bytes could be read as another host (url.URL
// escapes them, browsers map them through IDNA), so they are refused
// before any origin is compared.
func TestRedirectHosts(t *testing.T) {
	for raw, want := range map[string]string{
		"http://a-b.localhost:8080/": "http://a-b.localhost:8080", "http://127.0.0.1:9/": "http://127.0.0.1:9",
		"http://[::1]:8080/": "http://[::1]:8080", "http://[0:0::1]/": "http://[::1]", "https://X9.example/": "https://x9.example",
	} {
		if _, origin, err := ParseRedirect(raw); err != nil || origin != want {
			t.Errorf("%q: origin %q, %v; want %q", raw, origin, err, want)
		}
	}
	for _, raw := range []string{
		"http://g\u00efthub.localhost:8080/", "http://\xb90/", "http://a..b/", "http://.a/",
		"http://127.1/", "http://0x7f.0.0.1/", "http://[fe80::1%25eth0]/", "http://a%2eb/", "http://a%41b/",
	} {
		if _, _, err := ParseRedirect(raw); !errors.Is(err, ErrRedirect) {
			t.Errorf("%q: %v, want ErrRedirect", raw, err)
		}
	}
}
