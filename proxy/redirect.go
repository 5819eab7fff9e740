package proxy

import (
	"errors"
	"net/url"
	"strings"

	"github.com/drawbridge/drawbridge/models"
)

// ErrRedirect is why a redirect_url was refused. Its text is written for
// the person whose browser followed the link.
var ErrRedirect = errors.New("the address to return to is not one this Drawbridge sends browsers to")

// maxRedirectLen bounds a redirect_url, as the store keeps it.
const maxRedirectLen = 2048

// ParseRedirect reads a redirect_url strictly and returns it in canonical
// form with its origin (scheme://host[:port], lowercase, without the
// scheme's default port). It refuses anything a browser might read
// otherwise than we do: relative and scheme-relative URLs, schemes other
// than http and https, userinfo, backslashes, encoded slashes and
// backslashes, control characters and spaces, hosts that are not plain
// DNS names or IP addresses as routes take them (models.CanonicalHost: no
// trailing dot, no non-ASCII bytes, no numeric forms like 127.1), and bad
// ports. Which origins are allowed is the caller's to decide.
func ParseRedirect(raw string) (u *url.URL, origin string, err error) {
	if raw == "" || len(raw) > maxRedirectLen {
		return nil, "", ErrRedirect
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return nil, "", ErrRedirect
		}
	}
	if encodedSlash(raw) {
		return nil, "", ErrRedirect
	}
	u, err = url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" || encodedHost(raw) {
		return nil, "", ErrRedirect
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return nil, "", ErrRedirect
	}
	host, port := u.Hostname(), u.Port()
	// Spelt as routes store their hosts, so that origins compare exactly.
	hostport, ok := models.CanonicalHost(host)
	if !ok {
		return nil, "", ErrRedirect
	}
	if port != "" && !validPort(port) {
		return nil, "", ErrRedirect
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		hostport += ":" + port
	}
	u.Scheme, u.Host = scheme, hostport
	if u.Path != "" && u.Path[0] != '/' {
		return nil, "", ErrRedirect
	}
	return u, scheme + "://" + hostport, nil
}

// encodedSlash reports whether the part of raw before its query or
// fragment holds an encoded slash or backslash, which some browsers and
// servers decode into a path separator. The query may: it is where an
// authorization request carries its redirect_uri.
func encodedSlash(raw string) bool {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	lower := strings.ToLower(raw)
	return strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c")
}

// encodedHost reports whether the authority of raw, which url.Parse found
// to have one, holds percent-encoding: url.Parse decodes it, so the host
// compared would not be the host written.
func encodedHost(raw string) bool {
	_, rest, _ := strings.Cut(raw, "//")
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return strings.Contains(rest, "%")
}

// validPort is a decimal port, 1 to 65535, without leading zeros.
func validPort(p string) bool {
	if len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n >= 1 && n <= 65535
}

// RedirectAllowed reports whether a browser may be sent, after Connect
// or sign-in on route, to an address of origin: the route's own host,
// the console, or the host of an mcp_client route, exactly.
func (s *Snapshot) RedirectAllowed(route *Route, origin, console string) bool {
	if origin == console || (route != nil && origin == routeOrigin(route)) {
		return true
	}
	_, ok := s.clientOrigins[origin]
	return ok
}

// CheckRedirect reads raw as a redirect_url for Connect or sign-in on
// route (nil: from the console) and returns where to send the browser,
// or ErrRedirect.
func (e *Engine) CheckRedirect(snap *Snapshot, route *Route, raw string) (string, error) {
	u, origin, err := ParseRedirect(raw)
	if err != nil || e.consoleOrigin == "" || !snap.RedirectAllowed(route, origin, e.consoleOrigin) {
		return "", ErrRedirect
	}
	return u.String(), nil
}
