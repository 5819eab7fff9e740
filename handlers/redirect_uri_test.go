package handlers

import (
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCheckRedirectURIAccepts(t *testing.T) {
	for _, raw := range []string{
		"https://app.example.com/callback",
		"https://app.example.com/oauth/callback?tenant=a&x=1",
		"https://app.example.com:8443/cb",
		"https://app.example.com",
		"https://app.example.com/cb?",
		"https://app.example.com/a%2Fb",
		"http://127.0.0.1:33418/callback",
		"http://127.0.0.1/cb",
		"http://127.5.6.7:8080/cb",
		"http://[::1]/cb",
		"http://[::1]:9999/cb",
		"http://localhost:3000/callback",
		"http://localhost/cb",
		"com.example.app:/cb",
		"com.example.app:cb",
		"com.example.app:/oauth2redirect/example-provider",
	} {
		if err := CheckRedirectURI(raw); err != nil {
			t.Errorf("CheckRedirectURI(%q) = %v, want nil", raw, err)
		}
	}
}

func TestCheckRedirectURIRefuses(t *testing.T) {
	tests := []struct {
		raw  string
		want string // in the error
	}{
		{"", "is empty"},
		{"https://app.example.com/" + strings.Repeat("a", maxRedirectURILen), "longer than 2048"},
		{"https://app.example.com/cb#frag", "fragment"},
		{"https://app.example.com/cb#", "fragment"},
		{"javascript:alert(1)", "must use https"},
		{"data:text/html,<script>alert(1)</script>", "must use https"},
		{"file:///etc/passwd", "must use https"},
		{"myapp:/cb", "must use https"},
		{"ftp://app.example.com/cb", "must use https"},
		{"http://example.com/cb", "only on a loopback"},
		{"http://127.0.0.1.evil.com/", "only on a loopback"},
		{"http://localhost.evil.com/cb", "only on a loopback"},
		{"http://127.1/cb", "only on a loopback"},
		{"http://LOCALHOST/cb", "only on a loopback"},
		{"http:/127.0.0.1/cb", "only on a loopback"},
		{"http:cb", "only on a loopback"},
		{"https://*.example.com/cb", "wildcards"},
		{"https://app.example.com/*", "wildcards"},
		{"https://a@b/", "user info"},
		{"https://user:pass@app.example.com/cb", "user info"},
		{"https://@app.example.com/cb", "user info"},
		{"HTTPS://x", "lowercase"},
		{"Com.Example.App:/cb", "lowercase"},
		{"https:///path", "no host"},
		{"https://:443/cb", "no host"},
		{"https:app.example.com/cb", "no host"},
		{"com.example.app://host/cb", "takes a path"},
		{"https://app.example.com/a b", "spaces"},
		{" https://app.example.com/cb", "spaces"},
		{"https://app.example.com/cb\n", "spaces"},
		{"https://app.example.com/\tcb", "spaces"},
		{"https://app.example.com/cb\x00", "control characters"},
		{"https://app.example.com/cb\x7f", "control characters"},
		{"https://app.example.com\\@evil.example/", "backslashes"},
		// Unicode kin of the above, which url.Parse lets through.
		{"http://127.0.0.1/cb\u0085", "control characters"},        // NEL
		{"https://app.example.com/\u00a0", "spaces"},               // no-break space
		{"https://app.example.com/\u2028", "spaces"},               // line separator
		{"https://evil.example\u202e.moc.elgoog/", "control"},      // right-to-left override
		{"https://app.example.com/\u200bcb", "control characters"}, // zero-width space
		{"https://app.example.com/\xff", "UTF-8"},
		{"https://app.example.com/%zz", "not a valid URL"},
		{"https://[::1/cb", "not a valid URL"},
		{"://app.example.com/cb", "not a valid URL"},
	}
	for _, tt := range tests {
		err := CheckRedirectURI(tt.raw)
		if err == nil {
			t.Errorf("CheckRedirectURI(%q) = nil, want an error saying %q", tt.raw, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckRedirectURI(%q) = %q, want it to say %q", tt.raw, err, tt.want)
		}
	}
}

func TestRedirectURIMatches(t *testing.T) {
	const app = "https://app.example.com/cb"
	tests := []struct {
		name       string
		registered []string
		presented  string
		want       bool
	}{
		{"exact", []string{app}, app, true},
		{"one of several", []string{"https://other.example/cb", app}, app, true},
		{"none registered", nil, app, false},
		{"one character differs", []string{app}, "https://app.example.com/cc", false},
		{"one character longer", []string{app}, app + "x", false},
		{"trailing slash", []string{app}, app + "/", false},
		{"trailing slash registered", []string{app + "/"}, app, false},
		{"https port added", []string{app}, "https://app.example.com:8443/cb", false},
		{"https default port spelled out", []string{app}, "https://app.example.com:443/cb", false},
		{"https port changed", []string{"https://app.example.com:8443/cb"}, "https://app.example.com:9443/cb", false},
		{"fragment", []string{app}, app + "#x", false},
		{"host case", []string{app}, "https://App.example.com/cb", false},
		{"path case", []string{app}, "https://app.example.com/CB", false},
		{"query added", []string{app}, app + "?x=1", false},
		{"query removed", []string{app + "?x=1"}, app, false},
		{"query changed", []string{app + "?x=1"}, app + "?x=2", false},
		{"empty query added", []string{app}, app + "?", false},
		{"percent-encoding differs", []string{"https://app.example.com/a%2Fb"}, "https://app.example.com/a/b", false},
		{"hex case of an escape", []string{"https://app.example.com/a%2fb"}, "https://app.example.com/a%2Fb", false},
		{"scheme", []string{app}, "http://app.example.com/cb", false},
		{"private-use scheme exact", []string{"com.example.app:/cb"}, "com.example.app:/cb", true},
		{"private-use scheme path", []string{"com.example.app:/cb"}, "com.example.app:/cb2", false},
		{"private-use scheme slashes", []string{"com.example.app:/cb"}, "com.example.app:cb", false},

		// RFC 8252 section 7.3: loopback http matches on any port.
		{"loopback port added", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:53682/cb", true},
		{"loopback port changed", []string{"http://127.0.0.1:8080/cb"}, "http://127.0.0.1:9090/cb", true},
		{"loopback port removed", []string{"http://127.0.0.1:8080/cb"}, "http://127.0.0.1/cb", true},
		{"loopback IPv6", []string{"http://[::1]/cb"}, "http://[::1]:1234/cb", true},
		{"loopback localhost", []string{"http://localhost:3000/callback"}, "http://localhost:4000/callback", true},
		{"loopback no path", []string{"http://127.0.0.1"}, "http://127.0.0.1:1234", true},
		{"loopback query kept", []string{"http://127.0.0.1/cb?a=1"}, "http://127.0.0.1:5/cb?a=1", true},
		{"loopback path differs", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:5/other", false},
		{"loopback trailing slash", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:5/cb/", false},
		{"loopback query differs", []string{"http://127.0.0.1/cb?a=1"}, "http://127.0.0.1:5/cb?a=2", false},
		// A fragment ends the authority, as url.Parse reads it: the
		// registered URI's path is empty, and "#/cb" is no path.
		{"loopback fragment read as a path", []string{"http://127.0.0.1:#/cb"}, "http://127.0.0.1:/cb", false},
		{"loopback empty query", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:5/cb?", false},
		{"loopback escape differs", []string{"http://127.0.0.1/a%7B"}, "http://127.0.0.1:5/a{", false},
		{"loopback escape case", []string{"http://127.0.0.1/a%7b"}, "http://127.0.0.1:5/a%7B", false},
		{"loopback 127.0.0.1 vs localhost", []string{"http://127.0.0.1/cb"}, "http://localhost:5/cb", false},
		{"loopback localhost vs 127.0.0.1", []string{"http://localhost/cb"}, "http://127.0.0.1/cb", false},
		{"loopback IPv4 vs IPv6", []string{"http://127.0.0.1/cb"}, "http://[::1]/cb", false},
		{"loopback other loopback address", []string{"http://127.0.0.1/cb"}, "http://127.0.0.2/cb", false},
		{"loopback port too big", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:65536/cb", false},
		{"loopback port padded", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:080/cb", false},
		{"loopback https does not float", []string{"https://localhost/cb"}, "https://localhost:8443/cb", false},
		{"loopback http to https", []string{"http://127.0.0.1/cb"}, "https://127.0.0.1/cb", false},
		{"loopback presented with user info", []string{"http://127.0.0.1/cb"}, "http://a@127.0.0.1:5/cb", false},
		{"loopback presented with fragment", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:5/cb#x", false},
		{"not loopback, http", []string{"http://app.example.com/cb"}, "http://app.example.com:81/cb", false},

		// A presented URI that could never be registered matches nothing,
		// even a bad value that found its way into the store.
		{"bad presented, stored equal", []string{"javascript:alert(1)"}, "javascript:alert(1)", false},
		{"empty", []string{""}, "", false},
	}
	for _, tt := range tests {
		if got := RedirectURIMatches(tt.registered, tt.presented); got != tt.want {
			t.Errorf("%s: RedirectURIMatches(%q, %q) = %v, want %v", tt.name, tt.registered, tt.presented, got, tt.want)
		}
	}
}

// redirectSeeds are the fuzzers' starting points: each kind of URI
// accepted, and near misses of each.
var redirectSeeds = []string{
	"https://app.example.com/cb",
	"https://app.example.com:8443/cb?x=1",
	"https://app.example.com/a%2Fb?",
	"http://127.0.0.1:33418/callback",
	"http://127.0.0.1/cb",
	"http://[::1]/cb",
	"http://[::1]:1/cb?a",
	"http://localhost:3000/callback",
	"http://localhost",
	"com.example.app:/cb",
	"com.example.app:cb",
	"http://127.0.0.1/a%7B",
	"http://127.0.0.1:5/a{",
	"https://app.example.com/cb#x",
	"javascript:alert(1)",
	"http://127.0.0.1.evil.com/",
	"https://a@b/",
	"HTTPS://x",
	"https:///path",
	"http://127.0.0.1:0/cb",
	"http://[::ffff:127.0.0.1]:80/cb",
	"http://127.0.0.1:/cb",
	"https://app.example.com\\@evil.example/",
	"https://evil.example\u202e.moc/",
}

func FuzzCheckRedirectURI(f *testing.F) {
	for _, s := range redirectSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if CheckRedirectURI(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q, which url.Parse refuses: %v", raw, err)
		}
		switch {
		case len(raw) > maxRedirectURILen:
			t.Errorf("accepted %d bytes", len(raw))
		case !utf8.ValidString(raw) || strings.ContainsFunc(raw, invisible):
			t.Errorf("accepted %q, with invisible characters", raw)
		case u.Fragment != "" || strings.Contains(raw, "#"):
			t.Errorf("accepted %q, with a fragment", raw)
		case u.User != nil:
			t.Errorf("accepted %q, with user info", raw)
		case !strings.HasPrefix(raw, u.Scheme+":"):
			t.Errorf("accepted %q, whose scheme is not lowercase", raw)
		case u.Scheme == "https":
			if u.Hostname() == "" {
				t.Errorf("accepted %q, https without a host", raw)
			}
		case u.Scheme == "http":
			if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
				t.Errorf("accepted %q, http off loopback", raw)
			}
		case !strings.Contains(u.Scheme, "."):
			t.Errorf("accepted %q, scheme %q has no dot", raw, u.Scheme)
		}
	})
}

// invisible reports characters no accepted URI may hold.
func invisible(r rune) bool {
	return r <= ' ' || r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
}

// loopbackParts splits an http URI into its host and what follows its
// port, independently of the code under test.
var loopbackParts = regexp.MustCompile(`^http://(\[[^\]]*\]|[^/?:\[\]]*)(?::([0-9]*))?([/?].*)?$`)

func FuzzRedirectURIMatches(f *testing.F) {
	for i, s := range redirectSeeds {
		f.Add(s, s)
		f.Add(s, redirectSeeds[(i+1)%len(redirectSeeds)])
	}
	f.Add("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb")
	f.Add("http://[::1]:80/cb", "http://[::1]:65535/cb")
	f.Add("http://127.0.0.1/a%7B", "http://127.0.0.1:1/a{")
	f.Fuzz(func(t *testing.T, registered, presented string) {
		if CheckRedirectURI(registered) == nil && !RedirectURIMatches([]string{registered}, registered) {
			t.Errorf("%q does not match itself", registered)
		}
		if !RedirectURIMatches([]string{registered}, presented) {
			return
		}
		if err := CheckRedirectURI(presented); err != nil {
			t.Fatalf("%q matched %q, but %v", presented, registered, err)
		}
		if presented == registered {
			return
		}
		// Only loopback http may differ, and only in its port.
		r, p := loopbackParts.FindStringSubmatch(registered), loopbackParts.FindStringSubmatch(presented)
		if r == nil || p == nil {
			t.Fatalf("%q matched %q, which is not byte-equal and not loopback http", presented, registered)
		}
		host := strings.Trim(r[1], "[]")
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			t.Fatalf("%q matched %q on a host that is not loopback", presented, registered)
		}
		if r[1] != p[1] || r[3] != p[3] {
			t.Fatalf("%q matched %q: they differ beyond the port", presented, registered)
		}
		if port := p[2]; port != "" && (len(port) > 5 || port[0] == '0' || port > "65535" && len(port) == 5) {
			t.Fatalf("%q matched %q with port %q", presented, registered, port)
		}
	})
}
