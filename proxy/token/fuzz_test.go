package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzKeySeed derives the fuzz key, which also signed the valid tokens
// committed under testdata/fuzz/FuzzVerify.
const fuzzKeySeed = "drawbridge token fuzz key"

var sentinels = []error{ErrMalformed, ErrSignature, ErrExpired, ErrNotYetValid, ErrAudience, ErrRevoked, ErrIssuer}

// FuzzVerify feeds arbitrary strings to Verify. It must never panic, must
// refuse with one of the package's errors, must accept only claims that
// were actually signed, and must answer the same with and without cache.
func FuzzVerify(f *testing.F) {
	key := fixedKey(f, fuzzKeySeed)
	ks := newKeySet(f, key)
	header := goodHeader(f, key)

	// Every token the fuzz key signed, by jti: an accepted token must
	// carry exactly one of these claim sets. They are fixed, not issued
	// with a random jti, because each fuzz worker process runs this setup
	// afresh and must know the tokens in the shared corpus.
	signed := map[string]Claims{}
	handSigned := goodPayload()
	signed[handSigned["jti"].(string)] = Claims{
		Issuer: testIssuer, Subject: "42", Audience: routeA, ClientID: "client-1", Scope: "mcp",
		ID: handSigned["jti"].(string), IssuedAt: t0, NotBefore: t0, ExpiresAt: t0.Add(10 * time.Minute),
	}

	valid := signES256(f, key, header, handSigned)
	point, _ := key.PublicKey.Bytes()
	for _, seed := range []string{
		valid,
		b64(with(header, "alg", "none")) + "." + b64(handSigned) + ".",
		signHS256(with(header, "alg", "HS256"), handSigned, point[1:]),
		signES256(f, key, with(header, "typ", nil), handSigned),
		signES256(f, key, header, with(handSigned, "aud", []string{routeA})),
		jsonSerialization(valid),
		strings.Repeat("A", MaxTokenSize+1),
		"a.b.c",
		"",
	} {
		f.Add(seed)
	}

	now := func() time.Time { return t0.Add(time.Minute) }
	cached := NewVerifier(ks, testIssuer, VerifierOptions{Now: now, CacheSize: 16})
	cold := NewVerifier(ks, testIssuer, VerifierOptions{Now: now, CacheSize: -1})

	f.Fuzz(func(t *testing.T, raw string) {
		got, err := cached.Verify(raw, routeA, notRevoked)
		_, coldErr := cold.Verify(raw, routeA, notRevoked)
		if kind(err) != kind(coldErr) {
			t.Fatalf("cached says %v, uncached says %v", err, coldErr)
		}
		if err != nil {
			if kind(err) == nil {
				t.Fatalf("refused with an untyped error: %v", err)
			}
			return
		}
		if want, ok := signed[got.ID]; !ok || *got != want {
			t.Fatalf("accepted claims nobody signed: %+v", *got)
		}
	})
}

// kind returns the sentinel err wraps, or nil.
func kind(err error) error {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}
