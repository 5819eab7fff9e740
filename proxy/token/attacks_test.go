package token

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestVerifyRefusesForgeries builds tokens the way an attacker would and
// checks each is refused for the right reason. The control rows, signed
// correctly by the same helpers, prove the refusals are not accidents of
// the test's own encoding.
func TestVerifyRefusesForgeries(t *testing.T) {
	key, attacker := newKey(t), newKey(t)
	ks := newKeySet(t, key)
	good := goodHeader(t, key)
	payload := goodPayload()
	kid := ks.KeyID()

	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	point, err := key.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := ks.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	hs := with(good, "alg", "HS256")
	valid := signES256(t, key, good, payload)
	validSig := valid[strings.LastIndexByte(valid, '.')+1:]
	attackerJWK := json.RawMessage(mustJWK(t, attacker))

	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"control: hand-signed token", valid, nil},
		{"control: typ application/at+jwt", signES256(t, key, with(good, "typ", "application/AT+JWT"), payload), nil},

		{"alg none, no signature", b64(with(good, "alg", "none")) + "." + b64(payload) + ".", ErrSignature},
		{"alg None", b64(with(good, "alg", "None")) + "." + b64(payload) + ".", ErrSignature},
		{"alg NONE with a real signature", b64(with(good, "alg", "NONE")) + "." + b64(payload) + "." + validSig, ErrSignature},
		{"alg missing", b64(with(good, "alg", nil)) + "." + b64(payload) + "." + validSig, ErrSignature},
		{"HS256 keyed with public key PEM", signHS256(hs, payload, pubPEM), ErrSignature},
		{"HS256 keyed with public key PEM, no newline", signHS256(hs, payload, []byte(strings.TrimSpace(string(pubPEM)))), ErrSignature},
		{"HS256 keyed with raw x||y", signHS256(hs, payload, point[1:]), ErrSignature},
		{"HS256 keyed with uncompressed point", signHS256(hs, payload, point), ErrSignature},
		{"HS256 keyed with public key DER", signHS256(hs, payload, pubDER), ErrSignature},
		{"HS256 keyed with the JWKS", signHS256(hs, payload, jwks), ErrSignature},
		{"RS256 header", b64(with(good, "alg", "RS256")) + "." + b64(payload) + "." + validSig, ErrSignature},
		{"ES384 header", b64(with(good, "alg", "ES384")) + "." + b64(payload) + "." + validSig, ErrSignature},
		{"PS256 header", b64(with(good, "alg", "PS256")) + "." + b64(payload) + "." + validSig, ErrSignature},
		{"EdDSA header", b64(with(good, "alg", "EdDSA")) + "." + b64(payload) + "." + validSig, ErrSignature},

		{"other key, forged kid", signES256(t, attacker, good, payload), ErrSignature},
		{"other key, its own kid", signES256(t, attacker, goodHeader(t, attacker), payload), ErrSignature},
		{"other key, no kid", signES256(t, attacker, with(good, "kid", nil), payload), ErrSignature},
		{"kid differs in case", signES256(t, key, with(good, "kid", strings.ToUpper(kid)), payload), ErrSignature},
		{"other key embedded as jwk, no kid", signES256(t, attacker, with(good, "kid", nil, "jwk", attackerJWK), payload), ErrSignature},
		{"other key embedded as jwk, forged kid", signES256(t, attacker, with(good, "jwk", attackerJWK), payload), ErrSignature},
		{"jku pointing elsewhere", signES256(t, attacker, with(good, "kid", nil, "jku", "https://evil.example/jwks.json"), payload), ErrSignature},

		{"tampered payload", splice(valid, 1, b64(with(payload, "sub", "1"))), ErrSignature},
		{"tampered audience", splice(valid, 1, b64(with(payload, "aud", routeB))), ErrSignature},
		{"tampered header", splice(valid, 0, b64(with(good, "typ", "application/at+jwt"))), ErrSignature},
		{"tampered signature", splice(valid, 2, flipByte(t, validSig, 10)), ErrSignature},
		{"truncated signature", splice(valid, 2, validSig[:len(validSig)-4]), ErrSignature},
		{"empty signature", splice(valid, 2, ""), ErrSignature},
		{"unknown critical header", signES256(t, key, with(good, "crit", []string{"exp"}, "exp", 1), payload), ErrSignature},

		{"typ missing", signES256(t, key, with(good, "typ", nil), payload), ErrMalformed},
		{"typ JWT", signES256(t, key, with(good, "typ", "JWT"), payload), ErrMalformed},
		{"typ not a string", signES256(t, key, with(good, "typ", 1), payload), ErrMalformed},
		{"oversize, validly signed", signES256(t, key, good, with(payload, "pad", strings.Repeat("x", MaxTokenSize))), ErrMalformed},
		{"JSON serialization", jsonSerialization(valid), ErrMalformed},
		{"five parts", valid + ".x.y", ErrMalformed},
		{"two parts", valid[:strings.LastIndexByte(valid, '.')], ErrMalformed},
		{"empty", "", ErrMalformed},
		{"garbage", "not a token", ErrMalformed},
		{"padding in base64", splice(valid, 2, validSig+"="), ErrMalformed},
		{"payload not JSON", splice(valid, 1, base64.RawURLEncoding.EncodeToString([]byte("hello"))), ErrSignature},

		{"aud array", signES256(t, key, good, with(payload, "aud", []string{routeA})), ErrMalformed},
		{"aud array of two", signES256(t, key, good, with(payload, "aud", []string{routeA, routeB})), ErrMalformed},
		{"aud missing", signES256(t, key, good, with(payload, "aud", nil)), ErrMalformed},
		{"sub missing", signES256(t, key, good, with(payload, "sub", nil)), ErrMalformed},
		{"client_id missing", signES256(t, key, good, with(payload, "client_id", nil)), ErrMalformed},
		{"jti missing", signES256(t, key, good, with(payload, "jti", nil)), ErrMalformed},
		{"jti too short", signES256(t, key, good, with(payload, "jti", "1")), ErrMalformed},
		{"exp missing", signES256(t, key, good, with(payload, "exp", nil)), ErrMalformed},
		{"nbf missing", signES256(t, key, good, with(payload, "nbf", nil)), ErrMalformed},
		{"iat missing", signES256(t, key, good, with(payload, "iat", nil)), ErrMalformed},
		{"exp a string", signES256(t, key, good, with(payload, "exp", "2100-01-01")), ErrMalformed},
		{"exp fractional", signES256(t, key, good, with(payload, "exp", float64(t0.Unix())+600.5)), ErrMalformed},
		{"lifetime of a day", signES256(t, key, good, with(payload, "exp", t0.Add(24*time.Hour).Unix())), ErrMalformed},
		{"exp before iat", signES256(t, key, good, with(payload, "iat", t0.Add(time.Hour).Unix(), "exp", t0.Add(time.Minute).Unix())), ErrMalformed},
		{"iat in the future", signES256(t, key, good, with(payload, "iat", t0.Add(5*time.Minute).Unix(), "exp", t0.Add(30*time.Minute).Unix())), ErrNotYetValid},
		{"iss missing", signES256(t, key, good, with(payload, "iss", nil)), ErrIssuer},
		{"iss differs in case", signES256(t, key, good, with(payload, "iss", strings.ToUpper(testIssuer))), ErrIssuer},
		{"iss with trailing slash", signES256(t, key, good, with(payload, "iss", testIssuer+"/")), ErrIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A verifier that has already cached the genuine token, so
			// that no forgery can ride on a cache entry either.
			v := newVerifierAt(ks, t0, VerifierOptions{})
			if _, err := v.Verify(valid, routeA, notRevoked); err != nil {
				t.Fatalf("genuine token refused: %v", err)
			}
			got, err := v.Verify(tt.raw, routeA, notRevoked)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("control token refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("forgery ACCEPTED: %+v", got)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("refused with %v, want %v", err, tt.want)
			}
		})
	}
}

// mustJWK returns key's public half as a JWK, for embedding in a header.
func mustJWK(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, Algorithm: "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splice replaces part i of a compact token.
func splice(raw string, i int, part string) string {
	p := strings.Split(raw, ".")
	p[i] = part
	return strings.Join(p, ".")
}

// flipByte flips one bit of byte i of a base64url value.
func flipByte(t *testing.T, s string, i int) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	b[i] ^= 1
	return base64.RawURLEncoding.EncodeToString(b)
}

// jsonSerialization rewrites a compact token in the flattened JSON form.
func jsonSerialization(raw string) string {
	p := strings.Split(raw, ".")
	b, _ := json.Marshal(map[string]string{"protected": p[0], "payload": p[1], "signature": p[2]})
	return string(b)
}
