package handlers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	metadataFetchTimeout    = 5 * time.Second
	maxMetadataDocumentSize = 64 << 10
	maxMetadataProblems     = 5
	maxMetadataURILen       = 2048 // as the store keeps client_uri and logo_uri
)

// NewMetadataFetchClient returns the HTTP client that fetches client
// metadata documents: 5 seconds for the whole exchange, no proxy, no
// redirects, and, unless allowPrivate, no connection to any address that
// is not public (loopback, private, link-local such as the cloud metadata
// service at 169.254.169.254, CGNAT, multicast, and the like).
//
// The address check runs at dial time on the address actually dialled,
// after DNS, so a name that resolves to a public address when checked and
// a private one when used (DNS rebinding) gains nothing.
//
// Redirects are refused, all of them: the draft requires the document's
// client_id to be the URL it is served at, so a redirect means either a
// misconfigured publisher or a bounce towards somewhere else, and a
// client's own URL is in its publisher's hands.
func NewMetadataFetchClient(allowPrivate bool) *http.Client {
	return newMetadataFetchClient(allowPrivate, nil, metadataFetchTimeout)
}

// newMetadataFetchClient is NewMetadataFetchClient with the TLS settings
// (tests pass their server's root CAs) and the timeout given.
func newMetadataFetchClient(allowPrivate bool, tlsConfig *tls.Config, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			return checkMetadataDialAddress(address)
		}
	}
	tc := &tls.Config{}
	if tlsConfig != nil {
		tc = tlsConfig.Clone()
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                  nil, // never the environment's: it could reach what we refuse to
			DialContext:            dialer.DialContext,
			TLSClientConfig:        tc,
			TLSHandshakeTimeout:    timeout,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 16 << 10,
			MaxIdleConns:           16,
			IdleConnTimeout:        30 * time.Second,
			ForceAttemptHTTP2:      true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkMetadataDialAddress refuses to connect to address, an "ip:port"
// the dialer is about to connect to, unless the IP is a public one.
func checkMetadataDialAddress(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("refusing to connect to %q: not an IP address and port", address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("refusing to connect to %q: not an IP address", host)
	}
	if kind := blockedMetadataAddressKind(ip); kind != "" {
		article := "a"
		if strings.ContainsRune("aeiouAEIOU", rune(kind[0])) {
			article = "an"
		}
		return fmt.Errorf("refusing to connect to %s, %s %s address: metadata documents must be on public hosts", ip, article, kind)
	}
	return nil
}

// blockedMetadataRanges are the ranges netip's predicates leave out.
var blockedMetadataRanges = []struct {
	prefix netip.Prefix
	kind   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local NAT64"},
	{netip.MustParsePrefix("100::/64"), "discard"},
	{netip.MustParsePrefix("2001::/32"), "Teredo"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
}

// Prefixes of IPv6 addresses that carry an IPv4 address: the well-known
// NAT64 prefix (RFC 6052), in the last 32 bits, and 6to4 (RFC 3056),
// in bits 16 to 48.
var (
	nat64Prefix     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFourPrefix = netip.MustParsePrefix("2002::/16")
)

// blockedMetadataAddressKind names what kind of non-public address ip is, or
// returns "" for a public one. Addresses that embed an IPv4 address
// (IPv4-mapped, NAT64, 6to4) are judged by it.
func blockedMetadataAddressKind(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.Zone() != "":
		return "scoped"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	}
	if ip.Is6() {
		b := ip.As16()
		if nat64Prefix.Contains(ip) {
			return blockedMetadataAddressKind(netip.AddrFrom4([4]byte(b[12:16])))
		}
		if sixToFourPrefix.Contains(ip) {
			return blockedMetadataAddressKind(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	for _, r := range blockedMetadataRanges {
		if r.prefix.Contains(ip) {
			return r.kind
		}
	}
	return ""
}

// fetchMetadataDocument GETs the document at rawURL and returns its body
// and the max-age its Cache-Control header gives (negative when none).
// Its errors complete "the client's metadata document at <URL> …".
func fetchMetadataDocument(ctx context.Context, client *http.Client, rawURL string) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, -1, fmt.Errorf("could not be fetched: %s", metadataSanitize(err.Error(), 300))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Drawbridge (client ID metadata document fetcher)")
	resp, err := client.Do(req)
	if err != nil {
		return nil, -1, fmt.Errorf("could not be fetched: %s", describeMetadataFetchError(err, client.Timeout))
	}
	defer resp.Body.Close()
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, -1, fmt.Errorf("could not be fetched: the server answered %s, redirecting to %s; the document must be served at its own URL, without redirects",
			status, metadataQuote(loc))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, -1, fmt.Errorf("could not be fetched: the server answered %s, not 200 OK", status)
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		if ct == "" {
			return nil, -1, errors.New("was served without a Content-Type; it must be application/json")
		}
		return nil, -1, fmt.Errorf("was served as %s; it must be application/json", metadataQuote(ct))
	}
	const tooLarge = "is larger than 64 KiB"
	if resp.ContentLength > maxMetadataDocumentSize {
		return nil, -1, errors.New(tooLarge)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataDocumentSize+1))
	if err != nil {
		return nil, -1, fmt.Errorf("could not be fetched: %s", describeMetadataFetchError(err, client.Timeout))
	}
	if len(body) > maxMetadataDocumentSize {
		return nil, -1, errors.New(tooLarge)
	}
	return body, metadataMaxAge(resp.Header), nil
}

// describeMetadataFetchError says why a fetch failed, without repeating the URL.
func describeMetadataFetchError(err error, timeout time.Duration) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("the server did not answer in full within %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	// Some transport errors quote what the server sent.
	return metadataSanitize(err.Error(), 300)
}

// metadataMaxAge returns the max-age of a Cache-Control header, zero for
// no-store and no-cache, and a negative duration when it has neither.
func metadataMaxAge(h http.Header) time.Duration {
	age := time.Duration(-1)
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			if d == "no-store" || d == "no-cache" {
				return 0
			}
			if s, ok := strings.CutPrefix(d, "max-age="); ok {
				if n, err := strconv.Atoi(strings.Trim(s, `"`)); err == nil && n >= 0 {
					age = time.Duration(min(n, 1<<20)) * time.Second
				}
			}
		}
	}
	return age
}
