package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Service-account tokens are long-lived JWTs, signed like access tokens
// but of their own "typ", that name a service account (sub) of this
// Drawbridge (iss). The gateway does not trust them for their signature:
// the store keeps the SHA-256 of each token it issued, and a token is
// good only while its hash is a live account's. So revocation and expiry
// act at once, and rotating the signing key never breaks an account. The
// signature is what lets anyone holding the JWKS see that the token is
// Drawbridge's.
const (
	// ServiceAccountPrefix marks a service-account token in an
	// Authorization header: "Bearer Drawbridge-<jwt>".
	ServiceAccountPrefix = "Drawbridge-"
	serviceAccountType   = "drawbridge-sa+jwt"
)

// ErrNotServiceAccount: the bearer is not shaped like one of our
// service-account tokens (it may be an access token).
var ErrNotServiceAccount = errors.New("token: not a service-account token")

// ServiceAccountClaims are what a service-account token says.
type ServiceAccountClaims struct {
	Issuer    string
	AccountID uint // sub
	ID        string
	IssuedAt  time.Time
	ExpiresAt time.Time // zero: never
}

type wireServiceAccount struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	ID        string `json:"jti"`
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp,omitempty"`
}

// ServiceAccountIssuer signs service-account tokens.
type ServiceAccountIssuer struct {
	keys   KeySource
	issuer string
	now    func() time.Time
}

// NewServiceAccountIssuer signs with keys' current key, as issuer.
func NewServiceAccountIssuer(keys KeySource, issuer string) (*ServiceAccountIssuer, error) {
	if !canSign(keys) || issuer == "" {
		return nil, errors.New("token: a service-account issuer needs a key set and an issuer")
	}
	return &ServiceAccountIssuer{keys: keys, issuer: issuer, now: time.Now}, nil
}

// Issue signs a token for account id, expiring at expires (zero: never).
func (i *ServiceAccountIssuer) Issue(id uint, expires time.Time) (string, ServiceAccountClaims, error) {
	jti, err := newID()
	if err != nil {
		return "", ServiceAccountClaims{}, fmt.Errorf("token: issue service-account token: %w", err)
	}
	now := time.Unix(i.now().Unix(), 0)
	w := wireServiceAccount{Issuer: i.issuer, Subject: strconv.FormatUint(uint64(id), 10), ID: jti, IssuedAt: now.Unix()}
	c := ServiceAccountClaims{Issuer: i.issuer, AccountID: id, ID: jti, IssuedAt: now}
	if !expires.IsZero() {
		if !expires.After(now) {
			return "", ServiceAccountClaims{}, errors.New("token: issue service-account token: expiry is not in the future")
		}
		w.ExpiresAt = expires.Unix()
		c.ExpiresAt = time.Unix(w.ExpiresAt, 0)
	}
	payload, err := json.Marshal(w)
	if err != nil {
		return "", ServiceAccountClaims{}, err
	}
	raw, err := i.keys.Load().sign(serviceAccountType, payload)
	if err != nil {
		return "", ServiceAccountClaims{}, fmt.Errorf("token: service-account token: %w", err)
	}
	return raw, c, nil
}

// ParseServiceAccount reads raw, with or without the "Drawbridge-"
// prefix, as a service-account token of issuer, strictly: three base64url
// parts, a protected header of exactly ES256 and our "typ", and claims of
// the right types. It does not check the signature, nor whether the
// account is live: the caller compares the token's hash with the
// account's. It returns the bare JWT too, whose hash that is.
// ErrNotServiceAccount means raw is not shaped like one (it may be an
// access token); ErrMalformed, that it claims to be one but is not well
// formed; ErrIssuer, that it names another issuer than issuer (not
// checked when issuer is "").
func ParseServiceAccount(raw, issuer string) (jwt string, c ServiceAccountClaims, err error) {
	jwt = strings.TrimPrefix(raw, ServiceAccountPrefix)
	if jwt == "" || len(jwt) > MaxTokenSize {
		return "", c, ErrNotServiceAccount
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", c, ErrNotServiceAccount
	}
	var h struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid"`
	}
	if err := strictJSON(parts[0], &h); err != nil || !strings.EqualFold(h.Typ, serviceAccountType) {
		return "", c, ErrNotServiceAccount
	}
	if h.Alg != string(jose.ES256) || h.Kid == "" || parts[2] == "" {
		return "", c, fmt.Errorf("%w: a service-account token is signed ES256 with a key id", ErrMalformed)
	}
	var w wireServiceAccount
	if err := strictJSON(parts[1], &w); err != nil {
		return "", c, fmt.Errorf("%w: service-account claims are not a JSON object of the expected types", ErrMalformed)
	}
	id, err := strconv.ParseUint(w.Subject, 10, 32)
	switch {
	case err != nil || id == 0 || strconv.FormatUint(id, 10) != w.Subject:
		return "", c, fmt.Errorf("%w: sub is not an account id", ErrMalformed)
	case len(w.ID) < 16 || w.IssuedAt <= 0 || w.ExpiresAt < 0:
		return "", c, fmt.Errorf("%w: jti or iat missing", ErrMalformed)
	case issuer != "" && w.Issuer != issuer:
		return "", c, ErrIssuer
	}
	c = ServiceAccountClaims{Issuer: w.Issuer, AccountID: uint(id), ID: w.ID, IssuedAt: time.Unix(w.IssuedAt, 0)}
	if w.ExpiresAt > 0 {
		c.ExpiresAt = time.Unix(w.ExpiresAt, 0)
	}
	return jwt, c, nil
}

// strictJSON decodes one base64url (unpadded) JSON object into v,
// refusing unknown fields and trailing data.
func strictJSON(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
