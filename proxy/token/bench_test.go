package token

import (
	"testing"
	"time"
)

func benchSetup(b *testing.B, cacheSize int) (*Verifier, string) {
	b.Helper()
	ks := newKeySet(b, newKey(b))
	raw, _ := issue(b, newIssuerAt(b, ks, t0), routeA)
	return newVerifierAt(ks, t0.Add(time.Minute), VerifierOptions{CacheSize: cacheSize}), raw
}

// BenchmarkVerifyCold is a first sight of a token: parse, ECDSA verify,
// decode, check.
func BenchmarkVerifyCold(b *testing.B) {
	v, raw := benchSetup(b, -1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(raw, routeA, notRevoked); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCached is the hot path: a token seen before.
func BenchmarkVerifyCached(b *testing.B) {
	v, raw := benchSetup(b, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(raw, routeA, notRevoked); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCachedParallel is the hot path under load from all cores.
func BenchmarkVerifyCachedParallel(b *testing.B) {
	v, raw := benchSetup(b, 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(raw, routeA, notRevoked); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkIssue is the cost of minting one access token.
func BenchmarkIssue(b *testing.B) {
	iss := newIssuerAt(b, newKeySet(b, newKey(b)), t0)
	c := Claims{Subject: "42", Audience: routeA, ClientID: "client-1", Scope: "mcp", Email: "alice@example.com"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := iss.Issue(c); err != nil {
			b.Fatal(err)
		}
	}
}
