package token

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// KeySet is the signing key and every public key Drawbridge still accepts.
// It is immutable: rotating keys means building a new KeySet (the new
// current key, the old current key among previous) and swapping it into
// the process's [Keyring], and dropping an old public key once the last
// token it signed has expired.
type KeySet struct {
	current    *ecdsa.PrivateKey
	currentKID string
	public     map[string]*ecdsa.PublicKey // kid → key, current included
	jwks       []byte
	signers    map[string]jose.Signer // typ → a signer with the current key
}

// signedTypes are the JOSE "typ" values Drawbridge signs, each with a
// signer of its own so that no kind of token passes for another.
var signedTypes = []string{accessTokenType, assertionType, serviceAccountType}

// NewKeySet builds a KeySet that signs with current and verifies with
// current and previous. All keys must be valid P-256 keys; a previous key
// equal to another key in the set is listed once.
func NewKeySet(current *ecdsa.PrivateKey, previous ...*ecdsa.PublicKey) (*KeySet, error) {
	if current == nil {
		return nil, errors.New("token: no current signing key")
	}
	k := &KeySet{public: make(map[string]*ecdsa.PublicKey, 1+len(previous))}
	var set jose.JSONWebKeySet
	for i, pub := range append([]*ecdsa.PublicKey{&current.PublicKey}, previous...) {
		kid, err := thumbprint(pub)
		if err != nil {
			return nil, fmt.Errorf("token: key %d: %w", i, err)
		}
		if i == 0 {
			k.currentKID = kid
		}
		if _, dup := k.public[kid]; dup {
			continue
		}
		k.public[kid] = pub
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: pub, KeyID: kid, Use: "sig", Algorithm: string(jose.ES256),
		})
	}
	if _, err := current.ECDH(); err != nil {
		return nil, fmt.Errorf("token: current key: %w", err)
	}
	k.current = current
	k.signers = make(map[string]jose.Signer, len(signedTypes))
	for _, typ := range signedTypes {
		signer, err := newSigner(current, k.currentKID, typ)
		if err != nil {
			return nil, err
		}
		k.signers[typ] = signer
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("token: marshal jwks: %w", err)
	}
	k.jwks = jwks
	return k, nil
}

// thumbprint checks that pub is a usable P-256 key and returns its RFC 7638
// JWK thumbprint (SHA-256, base64url), which serves as its kid.
func thumbprint(pub *ecdsa.PublicKey) (string, error) {
	if pub == nil {
		return "", errors.New("nil key")
	}
	if pub.Curve != elliptic.P256() {
		return "", errors.New("not a P-256 key")
	}
	// ECDH validates the point: a key built by hand off the curve would
	// otherwise make every signature check fail in confusing ways.
	if _, err := pub.ECDH(); err != nil {
		return "", fmt.Errorf("invalid P-256 point: %w", err)
	}
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// KeyID is the kid of the current signing key, the one new tokens name.
func (k *KeySet) KeyID() string { return k.currentKID }

// JWKS returns the public keys as an RFC 7517 JWK Set, current key first,
// ready to serve at /.well-known/jwks.json. The caller may keep or change
// the returned slice.
func (k *KeySet) JWKS() ([]byte, error) {
	if k == nil || k.jwks == nil {
		return nil, errors.New("token: empty key set")
	}
	return append([]byte(nil), k.jwks...), nil
}

// publicKey returns the key named kid, or nil. A nil KeySet knows no keys,
// so a Verifier built without one refuses everything.
func (k *KeySet) publicKey(kid string) *ecdsa.PublicKey {
	if k == nil {
		return nil
	}
	return k.public[kid]
}

// Load returns k itself: a KeySet is a KeySource whose keys never change.
func (k *KeySet) Load() *KeySet { return k }

// find is publicKey: a fixed KeySet has nothing to re-read.
func (k *KeySet) find(kid string) *ecdsa.PublicKey { return k.publicKey(kid) }

// sign signs payload with the current key as a token of type typ (one of
// signedTypes).
func (k *KeySet) sign(typ string, payload []byte) (string, error) {
	signer := k.signers[typ]
	if signer == nil {
		return "", fmt.Errorf("token: no signer for %q", typ)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serialize: %w", err)
	}
	return raw, nil
}

// same reports whether k and o hold the same keys, current key alike.
func (k *KeySet) same(o *KeySet) bool {
	return k != nil && o != nil && k.currentKID == o.currentKID && bytes.Equal(k.jwks, o.jwks)
}

// newSigner signs ES256 with key, naming it kid, with typ in the header.
func newSigner(key *ecdsa.PrivateKey, kid, typ string) (jose.Signer, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)),
	)
	if err != nil {
		return nil, fmt.Errorf("token: signer: %w", err)
	}
	return signer, nil
}
