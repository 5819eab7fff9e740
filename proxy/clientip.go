package proxy

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP finds the address a request came from. Without trusted
// proxies it is the connection's peer: a header is anyone's to write.
// Behind load balancers or reverse proxies whose addresses are trusted,
// it reads X-Forwarded-For from the right, past every trusted hop, and
// takes the first address no trusted proxy is at: the one the nearest
// trusted proxy saw connect. Everything to the left of that was written
// by the client and is ignored. An entry that does not parse as an
// address stops the walk at the last trusted hop (fail closed: the
// answer is never an address a client chose).
//
// Sign-in throttling and registration rate limits key on this address,
// policies match source_ip on it, and audit events record it.
type ClientIP struct {
	trusted []netip.Prefix
}

// NewClientIP trusts X-Forwarded-For from peers in trusted.
func NewClientIP(trusted []netip.Prefix) ClientIP {
	return ClientIP{trusted: trusted}
}

// Of returns r's client address; the zero Addr when even the peer's
// address cannot be read.
func (c ClientIP) Of(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap()
	if !c.trusts(addr) {
		return addr
	}
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil || hop.Zone() != "" {
				return addr
			}
			addr = hop.Unmap()
			if !c.trusts(addr) {
				return addr
			}
		}
	}
	return addr
}

func (c ClientIP) trusts(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
