package token

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestServiceAccountTokenRoundTrip(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	iss, err := NewServiceAccountIssuer(ks, testIssuer)
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(90 * 24 * time.Hour)
	raw, issued, err := iss.Issue(42, expires)
	if err != nil {
		t.Fatal(err)
	}
	for _, presented := range []string{raw, ServiceAccountPrefix + raw} {
		jwt, c, err := ParseServiceAccount(presented, testIssuer)
		if err != nil {
			t.Fatalf("parse %.20s…: %v", presented, err)
		}
		if jwt != raw || c != issued || c.AccountID != 42 || c.ExpiresAt.Unix() != expires.Unix() {
			t.Fatalf("parsed %+v from %q, issued %+v", c, jwt, issued)
		}
	}
	never, c, err := iss.Issue(7, time.Time{})
	if err != nil || !c.ExpiresAt.IsZero() || strings.Contains(payloadOf(t, never), `"exp"`) {
		t.Fatalf("a token that never expires: %+v %v", c, err)
	}
	if _, _, err := iss.Issue(7, time.Now().Add(-time.Minute)); err == nil {
		t.Fatal("issued a token expired from the start")
	}
	// Neither kind of token passes for the other.
	at, _ := issue(t, newIssuerAt(t, ks, t0), routeA)
	if _, _, err := ParseServiceAccount(at, testIssuer); !errors.Is(err, ErrNotServiceAccount) {
		t.Errorf("an access token parsed as a service-account token: %v", err)
	}
	if _, err := newVerifierAt(ks, time.Now(), VerifierOptions{}).Verify(raw, routeA, notRevoked); !errors.Is(err, ErrMalformed) {
		t.Errorf("a service-account token verified as an access token: %v", err)
	}
}

// Hand-made tokens that claim to be service-account tokens but are not
// well formed are refused by the parser; the ones that are well formed
// but forged (another key, no signature) are refused by the gateway's
// hash check, which proxy tests cover.
func TestServiceAccountTokenParseRefuses(t *testing.T) {
	key := newKey(t)
	header := with(goodHeader(t, key), "typ", "drawbridge-sa+jwt")
	payload := jsonObject{"iss": testIssuer, "sub": "42", "jti": "jti-0123456789abcdef", "iat": t0.Unix()}
	good := signES256(t, key, header, payload)
	if _, _, err := ParseServiceAccount(good, testIssuer); err != nil {
		t.Fatalf("a well-formed token: %v", err)
	}
	tests := map[string]struct {
		raw  string
		want error
	}{
		"alg none":             {b64(with(header, "alg", "none")) + "." + b64(payload) + ".", ErrMalformed},
		"HS256":                {signHS256(with(header, "alg", "HS256"), payload, []byte("public key")), ErrMalformed},
		"no kid":               {signES256(t, key, with(header, "kid", nil), payload), ErrMalformed},
		"unsigned":             {strings.Join(strings.Split(good, ".")[:2], ".") + ".", ErrMalformed},
		"future nbf":           {signES256(t, key, header, with(payload, "nbf", t0.Add(time.Hour).Unix())), ErrMalformed},
		"extra claim":          {signES256(t, key, header, with(payload, "admin", true)), ErrMalformed},
		"sub not a number":     {signES256(t, key, header, with(payload, "sub", "alice")), ErrMalformed},
		"sub with a zero":      {signES256(t, key, header, with(payload, "sub", "042")), ErrMalformed},
		"sub zero":             {signES256(t, key, header, with(payload, "sub", "0")), ErrMalformed},
		"sub as a number":      {signES256(t, key, header, with(payload, "sub", 42)), ErrMalformed},
		"short jti":            {signES256(t, key, header, with(payload, "jti", "x")), ErrMalformed},
		"negative exp":         {signES256(t, key, header, with(payload, "exp", -1)), ErrMalformed},
		"another issuer":       {signES256(t, key, header, with(payload, "iss", "https://other.example")), ErrIssuer},
		"access token typ":     {signES256(t, key, with(header, "typ", "at+jwt"), payload), ErrNotServiceAccount},
		"two parts":            {"a.b", ErrNotServiceAccount},
		"empty":                {"", ErrNotServiceAccount},
		"prefix only":          {ServiceAccountPrefix, ErrNotServiceAccount},
		"oversized":            {strings.Repeat("a", MaxTokenSize+1), ErrNotServiceAccount},
		"trailing header data": {b64(header) + "e30" + "." + b64(payload) + ".sig", ErrNotServiceAccount},
	}
	for name, tt := range tests {
		if _, _, err := ParseServiceAccount(tt.raw, testIssuer); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
	}
}

func payloadOf(t *testing.T, raw string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
