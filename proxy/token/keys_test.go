package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func TestNewKeySetRefusesBadKeys(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	tests := []struct {
		name     string
		current  *ecdsa.PrivateKey
		previous []*ecdsa.PublicKey
	}{
		{"no current key", nil, nil},
		{"P-384 current key", p384, nil},
		{"P-384 previous key", newKey(t), []*ecdsa.PublicKey{&p384.PublicKey}},
		{"nil previous key", newKey(t), []*ecdsa.PublicKey{nil}},
		{"previous key off the curve", newKey(t), []*ecdsa.PublicKey{offCurve}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeySet(tt.current, tt.previous...); err == nil {
				t.Fatal("NewKeySet accepted it")
			}
		})
	}
}

// rfc7638 computes a P-256 key's JWK thumbprint by the letter of RFC 7638
// section 3: the required members, sorted, no whitespace, SHA-256.
func rfc7638(t *testing.T, pub *ecdsa.PublicKey) string {
	t.Helper()
	point, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	input := `{"crv":"P-256","kty":"EC","x":"` + enc(point[1:33]) + `","y":"` + enc(point[33:]) + `"}`
	sum := sha256.Sum256([]byte(input))
	return enc(sum[:])
}

type jwkJSON struct {
	Kty, Crv, X, Y, Kid, Use, Alg string
}

func TestJWKS(t *testing.T) {
	oldKey, key := newKey(t), newKey(t)
	ks := newKeySet(t, key, &oldKey.PublicKey, &key.PublicKey, &oldKey.PublicKey)
	if got, want := ks.KeyID(), rfc7638(t, &key.PublicKey); got != want {
		t.Fatalf("KeyID() = %q, want RFC 7638 thumbprint %q", got, want)
	}
	raw, err := ks.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []jwkJSON }
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2 (duplicates listed once): %s", len(set.Keys), raw)
	}
	for i, pub := range []*ecdsa.PublicKey{&key.PublicKey, &oldKey.PublicKey} {
		point, _ := pub.Bytes()
		want := jwkJSON{
			Kty: "EC", Crv: "P-256", Use: "sig", Alg: "ES256", Kid: rfc7638(t, pub),
			X: base64.RawURLEncoding.EncodeToString(point[1:33]),
			Y: base64.RawURLEncoding.EncodeToString(point[33:]),
		}
		if set.Keys[i] != want {
			t.Errorf("key %d = %+v, want %+v", i, set.Keys[i], want)
		}
	}
	if bytes.Contains(raw, []byte(`"d"`)) {
		t.Fatalf("JWKS leaks a private key: %s", raw)
	}
	raw[0] = 'X'
	if again, _ := ks.JWKS(); again[0] != '{' {
		t.Fatal("JWKS returned its internal slice")
	}
}

// TestJWKSVerifiesToken reads the published JWKS the way a relying party
// would, with a JOSE library and with the standard library alone, and
// checks an issued token against it.
func TestJWKSVerifiesToken(t *testing.T) {
	ks := newKeySet(t, newKey(t), &newKey(t).PublicKey)
	raw, _ := issue(t, newIssuerAt(t, ks, t0), routeA)
	published, err := ks.JWKS()
	if err != nil {
		t.Fatal(err)
	}

	var set jose.JSONWebKeySet
	if err := json.Unmarshal(published, &set); err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	kid := jws.Signatures[0].Protected.KeyID
	keys := set.Key(kid)
	if len(keys) != 1 || !keys[0].Valid() || !keys[0].IsPublic() {
		t.Fatalf("JWKS has no usable public key %q: %+v", kid, keys)
	}
	if _, err := jws.Verify(keys[0]); err != nil {
		t.Fatalf("go-jose: token does not verify with the published key: %v", err)
	}

	var plain struct{ Keys []jwkJSON }
	if err := json.Unmarshal(published, &plain); err != nil {
		t.Fatal(err)
	}
	x, _ := base64.RawURLEncoding.DecodeString(plain.Keys[0].X)
	y, _ := base64.RawURLEncoding.DecodeString(plain.Keys[0].Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatal(err)
	}
	dot := strings.LastIndexByte(raw, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(raw[dot+1:])
	sum := sha256.Sum256([]byte(raw[:dot]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, sum[:], r, s) {
		t.Fatal("standard library: token does not verify with the published key")
	}
}
