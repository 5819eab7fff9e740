package handlers

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxRedirectURILen caps one redirect URI, as the store does.
const maxRedirectURILen = 2048

// CheckRedirectURI reports why raw cannot be registered as an OAuth
// redirect URI, or nil. Accepted, after OAuth 2.1 and RFC 8252:
//
//   - https://host[:port]/path[?query]
//   - http on a loopback host (127.0.0.0/8, [::1], localhost): native
//     apps and CLIs listen there on a port of their choosing
//   - a private-use scheme with a dot in it (com.example.app:/callback),
//     the reverse domain name of the app that owns it
//
// Refused: fragments, user info, wildcards, control characters, any other
// http host, and the schemes a browser would run or read locally
// (javascript:, data:, file:, and every other scheme without a dot).
func CheckRedirectURI(raw string) error {
	switch {
	case raw == "":
		return errors.New("is empty")
	case len(raw) > maxRedirectURILen:
		return errors.New("is longer than 2048 bytes")
	case !utf8.ValidString(raw):
		return errors.New("is not valid UTF-8")
	case strings.ContainsFunc(raw, invisibleOrBackslash):
		return errors.New("contains spaces, backslashes or control characters")
	case strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	case strings.Contains(raw, "*"):
		return errors.New("must not contain wildcards")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a valid URL")
	}
	if u.User != nil {
		return errors.New("must not carry user info")
	}
	// url.Parse lowercases the scheme; a redirect URI is compared exactly,
	// so a registered one must already be in canonical case.
	if !strings.HasPrefix(raw, u.Scheme+":") {
		return errors.New("scheme must be lowercase")
	}
	switch {
	case u.Scheme == "https":
		if u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
			return errors.New("https URI has no host")
		}
		return nil
	case u.Scheme == "http":
		if u.Opaque != "" || !isLoopbackRedirectHost(u.Hostname()) {
			return errors.New("http is allowed only on a loopback address (127.0.0.1, [::1] or localhost); use https")
		}
		return nil
	case strings.Contains(u.Scheme, "."):
		// A private-use scheme: the app owns it, the browser hands it over.
		if u.Host != "" {
			return errors.New("a private-use scheme takes a path (com.example.app:/callback), not a host")
		}
		return nil
	default:
		return errors.New("must use https, http on a loopback address, or a private-use scheme such as com.example.app")
	}
}

// invisibleOrBackslash reports the characters a redirect URI must not
// hold: ASCII controls, the space and the backslash, and their Unicode
// kin (C1 controls such as NEL, no-break and line separators, bidi
// overrides and other format characters), which url.Parse lets through
// and which would make a URI shown to a person read as another.
func invisibleOrBackslash(r rune) bool {
	return r <= ' ' || r == 0x7f || r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
}

// isLoopbackRedirectHost reports whether host is a loopback name or literal.
func isLoopbackRedirectHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RedirectURIMatches reports whether presented, sent with an authorization
// request, is one of registered. The comparison is exact, byte for byte,
// with the one exception RFC 8252 section 7.3 makes: a loopback http
// redirect URI matches on any port, since a native app takes whichever
// port is free when it runs.
func RedirectURIMatches(registered []string, presented string) bool {
	if CheckRedirectURI(presented) != nil {
		return false
	}
	for _, r := range registered {
		if r == presented || loopbackMatch(r, presented) {
			return true
		}
	}
	return false
}

// loopbackMatch compares two http loopback URIs ignoring only the port:
// everything else, host, path and query, must be the same bytes. (Parsed
// paths would not do: url.URL.EscapedPath spells "/a{" and "/a%7B" alike.)
func loopbackMatch(registered, presented string) bool {
	r, err1 := url.Parse(registered)
	p, err2 := url.Parse(presented)
	if err1 != nil || err2 != nil || r.Scheme != "http" || p.Scheme != "http" || r.User != nil || p.User != nil ||
		!isLoopbackRedirectHost(r.Hostname()) || !validPort(r.Port()) || !validPort(p.Port()) {
		return false
	}
	rest1, ok1 := withoutPort(registered)
	rest2, ok2 := withoutPort(presented)
	return ok1 && ok2 && rest1 == rest2
}

// withoutPort returns raw, an http URI without user info, as written but
// for "http://" and the port: "http://127.0.0.1:8080/cb?x" gives
// "127.0.0.1/cb?x". Like url.Parse, it ends the authority at the first
// "/", "?" or "#".
func withoutPort(raw string) (string, bool) {
	rest, ok := strings.CutPrefix(raw, "http://")
	if !ok {
		return "", false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host, tail := rest[:end], rest[end:]
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return host + tail, true
}

// validPort reports whether p is empty or a port number without padding.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := range len(p) {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}
