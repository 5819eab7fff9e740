package models

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits shared by the configuration resources.
const (
	maxURLLen           = 2048
	maxDescriptionChars = 1000
	maxSlugLen          = 64
)

// slugPattern is the shape of policy and upstream app names: safe in URLs,
// YAML and log lines without quoting, and unambiguous to type.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// validateSlug reports a problem with a policy or app name.
func validateSlug(v *ValidationError, field, value string) {
	switch {
	case value == "":
		v.Add(field, "is required")
	case !slugPattern.MatchString(value):
		v.Add(field, fmt.Sprintf("must be 1 to %d lowercase letters, digits, - or _, starting with a letter or digit", maxSlugLen))
	}
}

// validateMaxChars reports value if it is longer than max characters.
func validateMaxChars(v *ValidationError, field, value string, max int) {
	if utf8.RuneCountInString(value) > max {
		v.Add(field, fmt.Sprintf("must be at most %d characters", max))
	}
}

// parseHTTPURL parses raw, already trimmed, as an absolute http or https
// URL with a host and neither user info nor a fragment, with its host
// lowercased. On failure it returns a message for the form instead.
func parseHTTPURL(raw string) (*url.URL, string) {
	if raw == "" {
		return nil, "is required"
	}
	if len(raw) > maxURLLen {
		return nil, fmt.Sprintf("must be at most %d bytes", maxURLLen)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, "must be a URL like https://example.com/path"
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, "must start with http:// or https://"
	case u.Opaque != "" || u.Hostname() == "":
		return nil, "must name a host, as in https://example.com"
	case u.User != nil:
		return nil, "must not contain a user name or password"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, "must not have a #fragment"
	}
	u.Host = strings.ToLower(u.Host)
	return u, ""
}

// isLoopbackHost reports whether hostname (from url.URL.Hostname) can only
// reach this machine: localhost, *.localhost (RFC 6761) or a loopback IP.
// Plain http to such a host never crosses a network.
func isLoopbackHost(hostname string) bool {
	h := strings.TrimSuffix(strings.ToLower(hostname), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// CanonicalHost returns hostname (from url.URL.Hostname, so without
// brackets or port) in the one spelling routes store: lowercase, IP
// addresses in their canonical form, IPv6 in brackets. It reports false
// for anything that is not a plain DNS name or IP address, including
// forms browsers would read as an IPv4 number (127.1, 0x7f.1), which
// would let one host hide behind two spellings.
func CanonicalHost(hostname string) (string, bool) {
	h := strings.ToLower(hostname)
	if ip, err := netip.ParseAddr(h); err == nil {
		if ip.Zone() != "" {
			return "", false
		}
		if ip.Is4() {
			return ip.String(), true
		}
		return "[" + ip.String() + "]", true
	}
	if h == "" || len(h) > 253 {
		return "", false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for _, r := range l {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' && r != '_' {
				return "", false
			}
		}
	}
	if last := labels[len(labels)-1]; isNumericLabel(last) {
		return "", false
	}
	return h, true
}

// isNumericLabel reports whether a URL parser (WHATWG) would take label,
// as the last of a host, for part of an IPv4 address.
func isNumericLabel(l string) bool {
	if hex, ok := strings.CutPrefix(l, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return strings.Trim(l, "0123456789") == ""
}

// reservedHostname reduces an Options.ReservedHosts entry (host, host:port
// or a URL) to the hostname it reserves, spelled as canonicalHost spells
// it, or "" if it names none.
func reservedHostname(entry string) string {
	entry = strings.TrimSpace(entry)
	if strings.Contains(entry, "://") {
		if u, err := url.Parse(entry); err == nil {
			entry = u.Host
		}
	}
	if host, _, err := net.SplitHostPort(entry); err == nil {
		entry = host
	}
	entry = strings.TrimSuffix(strings.Trim(entry, "[]"), ".")
	if h, ok := CanonicalHost(entry); ok {
		return h
	}
	return strings.ToLower(entry)
}
