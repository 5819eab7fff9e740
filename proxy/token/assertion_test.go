package token

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestAssertions(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	a, err := NewAsserter(ks, testIssuer, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	a.now = func() time.Time { return now }
	who := Assertion{Subject: "42", Email: "ada@example.com", Groups: []string{"eng"}, Audience: routeA, ClientID: "c"}
	raw, err := a.Sign(who)
	if err != nil {
		t.Fatal(err)
	}

	// The upstream verifies it with the published keys.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(mustJWKS(t, ks), &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatal("the assertion's key is not in the JWKS")
	}
	payload, err := jws.Verify(keys[0].Public())
	if err != nil {
		t.Fatal(err)
	}
	var got Assertion
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "42" || got.Email != who.Email || got.Audience != routeA || got.Issuer != testIssuer ||
		got.ExpiresAt-got.IssuedAt != 300 || len(got.Groups) != 1 {
		t.Errorf("assertion says %+v", got)
	}

	// It can never pass for an access token.
	if _, err := newVerifierAt(ks, now, VerifierOptions{}).Verify(raw, routeA, func(string) bool { return false }); !errors.Is(err, ErrMalformed) {
		t.Errorf("an assertion verified as an access token: %v", err)
	}

	// Reused while fresh, renewed after half its life, never shared
	// between identities.
	if again, _ := a.Sign(who); again != raw {
		t.Error("a fresh assertion was signed again")
	}
	other := who
	other.Audience = routeB
	if o, _ := a.Sign(other); o == raw {
		t.Error("an assertion for route A was reused for route B")
	}
	now = now.Add(151 * time.Second)
	if renewed, _ := a.Sign(who); renewed == raw {
		t.Error("an assertion past half its life was reused")
	}
}

func mustJWKS(t *testing.T, ks *KeySet) []byte {
	t.Helper()
	b, err := ks.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
