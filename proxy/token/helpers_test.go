package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// t0 is the test clock's "now": tokens are issued at t0 unless a test says
// otherwise.
var t0 = time.Unix(1_800_000_000, 0)

const (
	testIssuer = "https://console.example.com"
	routeA     = "https://github.example.com"
	routeB     = "https://jira.example.com"
)

// fixedKey derives a P-256 key from seed, so fuzz seeds committed under
// testdata stay valid from run to run.
func fixedKey(tb testing.TB, seed string) *ecdsa.PrivateKey {
	tb.Helper()
	d := sha256.Sum256([]byte(seed))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func newKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func newKeySet(tb testing.TB, current *ecdsa.PrivateKey, previous ...*ecdsa.PublicKey) *KeySet {
	tb.Helper()
	ks, err := NewKeySet(current, previous...)
	if err != nil {
		tb.Fatal(err)
	}
	return ks
}

// newIssuerAt returns an Issuer whose clock stands still at now.
func newIssuerAt(tb testing.TB, ks KeySource, now time.Time) *Issuer {
	tb.Helper()
	iss, err := NewIssuer(ks, testIssuer, 15*time.Minute)
	if err != nil {
		tb.Fatal(err)
	}
	iss.now = func() time.Time { return now }
	return iss
}

// newVerifierAt returns a Verifier whose clock stands still at now.
func newVerifierAt(ks KeySource, now time.Time, opts VerifierOptions) *Verifier {
	opts.Now = func() time.Time { return now }
	return NewVerifier(ks, testIssuer, opts)
}

func issue(tb testing.TB, iss *Issuer, aud string) (string, Claims) {
	tb.Helper()
	raw, c, err := iss.Issue(Claims{Subject: "42", Audience: aud, ClientID: "client-1", Scope: "mcp"})
	if err != nil {
		tb.Fatal(err)
	}
	return raw, c
}

func notRevoked(string) bool { return false }

// header and payload of hand-made tokens: plain maps, so tests can put
// anything in them, including what Issue never would.
type jsonObject = map[string]any

func b64(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// goodHeader is the header Issue writes for key.
func goodHeader(tb testing.TB, key *ecdsa.PrivateKey) jsonObject {
	tb.Helper()
	kid, err := thumbprint(&key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return jsonObject{"alg": "ES256", "typ": "at+jwt", "kid": kid}
}

// goodPayload is a payload Verify accepts at t0 for routeA.
func goodPayload() jsonObject {
	return jsonObject{
		"iss": testIssuer, "sub": "42", "aud": routeA, "client_id": "client-1",
		"scope": "mcp", "jti": "jti-0123456789abcdef",
		"iat": t0.Unix(), "nbf": t0.Unix(), "exp": t0.Add(10 * time.Minute).Unix(),
	}
}

// signES256 signs header.payload with key using only the standard library,
// independently of the JOSE library under test.
func signES256(tb testing.TB, key *ecdsa.PrivateKey, header, payload jsonObject) string {
	tb.Helper()
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// signHS256 makes an HMAC-SHA256 token with secret as the key.
func signHS256(header, payload jsonObject, secret []byte) string {
	input := b64(header) + "." + b64(payload)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// with returns a copy of o with the given changes; a nil value deletes.
func with(o jsonObject, kv ...any) jsonObject {
	c := make(jsonObject, len(o))
	for k, v := range o {
		c[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// decodePart decodes part i (0 header, 1 payload) of a compact token.
func decodePart(tb testing.TB, raw string, i int) jsonObject {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[i])
	if err != nil {
		tb.Fatal(err)
	}
	var o jsonObject
	if err := json.Unmarshal(b, &o); err != nil {
		tb.Fatal(err)
	}
	return o
}
