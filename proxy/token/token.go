// Package token issues and verifies the access tokens ("TE" in the design)
// that Drawbridge's OAuth 2.1 authorization server hands to MCP clients, and
// makes the opaque secrets (authorization codes, refresh tokens, client
// secrets) that the server stores only as hashes.
//
// Access tokens are ES256-signed JWTs of the RFC 9068 shape ("typ": "at+jwt"),
// bound to exactly one resource (the route URL, RFC 8707) and valid for at
// most an hour. A [KeySet] holds the current signing key and the older public
// keys still accepted while their tokens live out; each key is named by its
// RFC 7638 thumbprint. A [Keyring] holds the process's current KeySet and
// swaps in a new one when the keys are rotated, so everything built on it
// signs, verifies and publishes with the new keys at once. An [Issuer]
// signs, a [Verifier] checks, and a Verifier caches successful signature
// checks so that a token seen again costs a hash and a map lookup instead
// of an ECDSA verification, while the expiry, audience and revocation
// checks still run on every call.
//
// Every refusal wraps one of the sentinel errors below, so the proxy can
// answer 401 with error="invalid_token" and use err.Error() as the
// description: the messages never repeat bytes taken from the token.
package token

import (
	"errors"
	"time"
)

// Limits that hold whatever the configuration says.
const (
	// MaxTTL is the longest lifetime an access token may have.
	MaxTTL = time.Hour
	// MaxTokenSize is the longest raw token Verify will parse. Tokens we
	// issue are well under 1 KiB; the cap keeps a hostile header from
	// costing more than a few microseconds of base64 and JSON work.
	MaxTokenSize = 4 << 10
	// DefaultLeeway is the clock skew tolerated when VerifierOptions
	// leaves Leeway at zero.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway caps VerifierOptions.Leeway.
	MaxLeeway = 2 * time.Minute
	// DefaultCacheSize is the number of verified tokens a Verifier
	// remembers when VerifierOptions leaves CacheSize at zero.
	DefaultCacheSize = 10000

	// accessTokenType is the JOSE "typ" of RFC 9068 access tokens. Checking
	// it keeps other JWTs signed with the same keys (service-account
	// tokens, assertion headers) from being replayed as access tokens.
	accessTokenType = "at+jwt"
)

// Reasons Verify refuses a token; test for them with errors.Is.
var (
	// ErrMalformed: not a compact JWS of the expected shape, too large,
	// wrong "typ", or a required claim missing or of the wrong type.
	ErrMalformed = errors.New("token: malformed access token")
	// ErrSignature: wrong algorithm, unknown key id, or a signature that
	// does not verify.
	ErrSignature = errors.New("token: invalid signature")
	// ErrExpired: the token's exp has passed.
	ErrExpired = errors.New("token: access token expired")
	// ErrNotYetValid: nbf or iat lies in the future.
	ErrNotYetValid = errors.New("token: access token not yet valid")
	// ErrAudience: the token was issued for another resource.
	ErrAudience = errors.New("token: access token issued for another resource")
	// ErrRevoked: the token's jti has been revoked.
	ErrRevoked = errors.New("token: access token revoked")
	// ErrIssuer: the token names another issuer.
	ErrIssuer = errors.New("token: access token from another issuer")
)

// Claims is what an access token says. Issuer, IssuedAt, NotBefore,
// ExpiresAt and ID are filled in by [Issuer.Issue]; times have one-second
// precision, as JWT numeric dates do.
type Claims struct {
	Issuer   string // iss: the authorization server (console URL)
	Subject  string // sub: the user id
	Audience string // aud: the one resource (route URL) the token is for
	ClientID string // client_id: the MCP client it was issued to
	Scope    string // scope: space-separated scopes granted
	// Email is the user's address, when known (optional "email" claim).
	Email string
	// ServiceAccount names the service account acting as the user, if any
	// (optional "sa" claim).
	ServiceAccount string
	ID             string    // jti: random, 128 bits or more; the revocation key
	IssuedAt       time.Time // iat
	NotBefore      time.Time // nbf
	ExpiresAt      time.Time // exp
}

// wireClaims is the JSON payload. Numeric dates are integers: we only issue
// whole seconds, so a fractional or string date is malformed. aud is a plain
// string because a token carries exactly one audience; an array fails to
// decode and is refused as malformed.
type wireClaims struct {
	Issuer         string `json:"iss"`
	Subject        string `json:"sub"`
	Audience       string `json:"aud"`
	ClientID       string `json:"client_id"`
	Scope          string `json:"scope,omitempty"`
	Email          string `json:"email,omitempty"`
	ServiceAccount string `json:"sa,omitempty"`
	ID             string `json:"jti"`
	IssuedAt       int64  `json:"iat"`
	NotBefore      int64  `json:"nbf"`
	ExpiresAt      int64  `json:"exp"`
}

func (c *Claims) wire() wireClaims {
	return wireClaims{
		Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience,
		ClientID: c.ClientID, Scope: c.Scope, Email: c.Email,
		ServiceAccount: c.ServiceAccount, ID: c.ID,
		IssuedAt: c.IssuedAt.Unix(), NotBefore: c.NotBefore.Unix(), ExpiresAt: c.ExpiresAt.Unix(),
	}
}

func (w *wireClaims) claims() Claims {
	return Claims{
		Issuer: w.Issuer, Subject: w.Subject, Audience: w.Audience,
		ClientID: w.ClientID, Scope: w.Scope, Email: w.Email,
		ServiceAccount: w.ServiceAccount, ID: w.ID,
		IssuedAt:  time.Unix(w.IssuedAt, 0),
		NotBefore: time.Unix(w.NotBefore, 0),
		ExpiresAt: time.Unix(w.ExpiresAt, 0),
	}
}
