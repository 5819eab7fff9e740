package token

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer signs access tokens with a KeySet's current key. It is safe for
// concurrent use.
type Issuer struct {
	keys   *KeySet
	issuer string
	ttl    time.Duration
	signer jose.Signer
	now    func() time.Time // tests move the clock
}

// NewIssuer returns an Issuer that names issuer (the console URL, exactly
// as published in the authorization server metadata) in iss and makes
// tokens that live for ttl, which must be positive and at most MaxTTL.
func NewIssuer(keys *KeySet, issuer string, ttl time.Duration) (*Issuer, error) {
	switch {
	case keys == nil || keys.current == nil:
		return nil, errors.New("token: issuer needs a key set")
	case issuer == "":
		return nil, errors.New("token: empty issuer")
	case ttl <= 0 || ttl > MaxTTL:
		return nil, fmt.Errorf("token: access token lifetime %s is outside (0, %s]", ttl, MaxTTL)
	}
	signer, err := newSigner(keys, accessTokenType)
	if err != nil {
		return nil, err
	}
	return &Issuer{keys: keys, issuer: issuer, ttl: ttl, signer: signer, now: time.Now}, nil
}

// Issue signs an access token for c. Subject, Audience and ClientID are
// required; Issuer, IssuedAt, NotBefore, ExpiresAt and ID are overwritten.
// It returns the compact JWT and the claims exactly as signed.
func (i *Issuer) Issue(c Claims) (string, Claims, error) {
	switch {
	case c.Subject == "":
		return "", Claims{}, errors.New("token: issue: empty subject")
	case c.Audience == "":
		return "", Claims{}, errors.New("token: issue: empty audience")
	case c.ClientID == "":
		return "", Claims{}, errors.New("token: issue: empty client_id")
	}
	jti, err := newID()
	if err != nil {
		return "", Claims{}, fmt.Errorf("token: issue: %w", err)
	}
	// Whole seconds, without a monotonic reading, so the returned claims
	// compare equal to what Verify decodes.
	now := time.Unix(i.now().Unix(), 0)
	c.Issuer = i.issuer
	c.ID = jti
	c.IssuedAt, c.NotBefore, c.ExpiresAt = now, now, now.Add(i.ttl)

	payload, err := json.Marshal(c.wire())
	if err != nil {
		return "", Claims{}, fmt.Errorf("token: issue: %w", err)
	}
	jws, err := i.signer.Sign(payload)
	if err != nil {
		return "", Claims{}, fmt.Errorf("token: issue: sign: %w", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return "", Claims{}, fmt.Errorf("token: issue: serialize: %w", err)
	}
	if len(raw) > MaxTokenSize {
		// Verify would refuse it; better to fail here, where the cause
		// (an enormous scope or email) is visible.
		return "", Claims{}, fmt.Errorf("token: issue: token of %d bytes exceeds %d", len(raw), MaxTokenSize)
	}
	return raw, c, nil
}

// newSigner signs ES256 with keys' current key, naming it by its kid, with
// typ in the header so that no kind of token passes for another.
func newSigner(keys *KeySet, typ string) (jose.Signer, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: keys.current, KeyID: keys.currentKID}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)),
	)
	if err != nil {
		return nil, fmt.Errorf("token: signer: %w", err)
	}
	return signer, nil
}

// newID returns a 128-bit random jti, base64url-encoded.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
