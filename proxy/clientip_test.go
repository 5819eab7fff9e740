package proxy

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"no trusted proxies: the peer, whatever the header", nil, "10.1.2.3:5000", []string{"203.0.113.9"}, "10.1.2.3"},
		{"an untrusted peer's header is ignored", lb, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"through one trusted proxy", lb, "10.1.2.3:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"a client's own entries, left of the proxy's, are ignored", lb, "10.1.2.3:5000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"through two trusted proxies", lb, "10.1.2.3:5000", []string{"203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"across repeated headers", lb, "10.1.2.3:5000", []string{"1.1.1.1", "203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"a trusted peer without the header", lb, "10.1.2.3:5000", nil, "10.1.2.3"},
		{"every hop trusted: the leftmost", lb, "10.1.2.3:5000", []string{"10.7.7.7, 10.9.9.9"}, "10.7.7.7"},
		{"garbage stops at the last trusted hop", lb, "10.1.2.3:5000", []string{"203.0.113.9, not-an-ip"}, "10.1.2.3"},
		{"garbage after a trusted hop", lb, "10.1.2.3:5000", []string{"evil, 10.9.9.9"}, "10.9.9.9"},
		{"a port is not an address", lb, "10.1.2.3:5000", []string{"203.0.113.9:443"}, "10.1.2.3"},
		{"a zone is refused", lb, "[fd00::1]:5000", []string{"fe80::1%eth0"}, "fd00::1"},
		{"IPv6", lb, "[fd00::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped IPv6 is IPv4", lb, "[::ffff:10.1.2.3]:5000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"an empty entry is garbage", lb, "10.1.2.3:5000", []string{"203.0.113.9, "}, "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := NewClientIP(tt.trusted).Of(r); got.String() != tt.want {
				t.Errorf("Of = %s, want %s", got, tt.want)
			}
		})
	}
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.1.2.3:1", "203.0.113.9, 10.9.9.9")
	f.Add("[fd00::1]:1", "::ffff:1.2.3.4,,x")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		got := NewClientIP(trusted).Of(r)
		direct := NewClientIP(nil).Of(r)
		// Never an address from the header unless the peer is trusted.
		if !trusted[0].Contains(direct) && got != direct {
			t.Fatalf("untrusted peer %s: got %s", direct, got)
		}
	})
}
