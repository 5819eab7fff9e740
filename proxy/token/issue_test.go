package token

import (
	"strings"
	"testing"
	"time"
)

func TestNewIssuer(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	tests := []struct {
		name   string
		keys   *KeySet
		issuer string
		ttl    time.Duration
		ok     bool
	}{
		{"one hour", ks, testIssuer, time.Hour, true},
		{"five minutes", ks, testIssuer, 5 * time.Minute, true},
		{"over an hour", ks, testIssuer, time.Hour + time.Second, false},
		{"a day", ks, testIssuer, 24 * time.Hour, false},
		{"zero", ks, testIssuer, 0, false},
		{"negative", ks, testIssuer, -time.Minute, false},
		{"no keys", nil, testIssuer, time.Hour, false},
		{"no issuer", ks, "", time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewIssuer(tt.keys, tt.issuer, tt.ttl)
			if (err == nil) != tt.ok {
				t.Fatalf("NewIssuer() error = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestIssue(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	iss := newIssuerAt(t, ks, t0.Add(700*time.Millisecond))
	in := Claims{
		Subject: "42", Audience: routeA, ClientID: "client-1", Scope: "mcp",
		Email: "alice@example.com", ServiceAccount: "ci",
		Issuer: "ignored", ID: "ignored", ExpiresAt: t0.Add(100 * time.Hour),
	}
	raw, got, err := iss.Issue(in)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Issuer, want.IssuedAt, want.NotBefore, want.ExpiresAt = testIssuer, t0, t0, t0.Add(15*time.Minute)
	want.ID = got.ID
	if got != want {
		t.Fatalf("Issue() claims = %+v, want %+v", got, want)
	}
	if len(got.ID) < 22 {
		t.Fatalf("jti %q carries under 128 bits", got.ID)
	}

	h := decodePart(t, raw, 0)
	if h["alg"] != "ES256" || h["typ"] != "at+jwt" || h["kid"] != ks.KeyID() || len(h) != 3 {
		t.Fatalf("header = %v", h)
	}
	p := decodePart(t, raw, 1)
	for k, v := range map[string]any{
		"iss": testIssuer, "sub": "42", "aud": routeA, "client_id": "client-1", "scope": "mcp",
		"email": "alice@example.com", "sa": "ci", "jti": got.ID,
		"iat": float64(t0.Unix()), "nbf": float64(t0.Unix()), "exp": float64(t0.Add(15 * time.Minute).Unix()),
	} {
		if p[k] != v {
			t.Errorf("claim %s = %v, want %v", k, p[k], v)
		}
	}

	c, err := newVerifierAt(ks, t0, VerifierOptions{}).Verify(raw, routeA, notRevoked)
	if err != nil || *c != got {
		t.Fatalf("Verify() = %+v, %v; want %+v", c, err, got)
	}

	_, again, _ := iss.Issue(in)
	if again.ID == got.ID {
		t.Fatal("two tokens share a jti")
	}
}

func TestIssueRefuses(t *testing.T) {
	iss := newIssuerAt(t, newKeySet(t, newKey(t)), t0)
	ok := Claims{Subject: "42", Audience: routeA, ClientID: "client-1"}
	tests := []struct {
		name string
		c    Claims
	}{
		{"no subject", Claims{Audience: routeA, ClientID: "client-1"}},
		{"no audience", Claims{Subject: "42", ClientID: "client-1"}},
		{"no client", Claims{Subject: "42", Audience: routeA}},
		{"too large to verify", func() Claims { c := ok; c.Scope = strings.Repeat("s ", MaxTokenSize); return c }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raw, _, err := iss.Issue(tt.c); err == nil {
				t.Fatalf("Issue() = %q, want an error", raw)
			}
		})
	}
	if _, _, err := iss.Issue(ok); err != nil {
		t.Fatalf("control: Issue() error = %v", err)
	}
}
