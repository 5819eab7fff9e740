package token

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Issuer signs access tokens with the current key of its KeySource. It is
// safe for concurrent use.
type Issuer struct {
	keys   KeySource
	issuer string
	ttl    time.Duration
	now    func() time.Time // tests move the clock
}

// NewIssuer returns an Issuer that names issuer (the console URL, exactly
// as published in the authorization server metadata) in iss and makes
// tokens that live for ttl, which must be positive and at most MaxTTL.
func NewIssuer(keys KeySource, issuer string, ttl time.Duration) (*Issuer, error) {
	switch {
	case !canSign(keys):
		return nil, errors.New("token: issuer needs a key set")
	case issuer == "":
		return nil, errors.New("token: empty issuer")
	case ttl <= 0 || ttl > MaxTTL:
		return nil, fmt.Errorf("token: access token lifetime %s is outside (0, %s]", ttl, MaxTTL)
	}
	return &Issuer{keys: keys, issuer: issuer, ttl: ttl, now: time.Now}, nil
}

// canSign reports whether keys holds a current key to sign with.
func canSign(keys KeySource) bool {
	if keys == nil {
		return false
	}
	ks := keys.Load()
	return ks != nil && ks.current != nil
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
	raw, err := i.keys.Load().sign(accessTokenType, payload)
	if err != nil {
		return "", Claims{}, fmt.Errorf("token: issue: %w", err)
	}
	if len(raw) > MaxTokenSize {
		// Verify would refuse it; better to fail here, where the cause
		// (an enormous scope or email) is visible.
		return "", Claims{}, fmt.Errorf("token: issue: token of %d bytes exceeds %d", len(raw), MaxTokenSize)
	}
	return raw, c, nil
}

// newID returns a 128-bit random jti, base64url-encoded.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
