package models

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// The OAuth 2.1 authorization server keeps its state in the oauth_*
// tables: the clients that registered, the one-use authorization codes,
// the token families that start when a code is redeemed, the refresh and
// access tokens issued in them, and the users' consents.
//
// Codes, refresh tokens and client secrets are stored only as HashToken
// digests, so a copy of the database cannot be replayed against the token
// endpoint. Access tokens are signed JWTs the database never sees; it
// keeps their jti so that they can be listed, counted and revoked.

// Errors the token endpoint tells apart. Each of them means invalid_grant
// to the client; they differ for the audit log and for what the store did
// besides refusing.
var (
	// ErrCodeReused means the authorization code was already redeemed.
	// Every token issued from its first redemption has been revoked.
	ErrCodeReused = errors.New("authorization code already used")
	// ErrCodeExpired means the authorization code is past its lifetime.
	ErrCodeExpired = errors.New("authorization code expired")
	// ErrTokenExpired means the refresh token is past its lifetime.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenRevoked means the token, or the family it belongs to, was
	// revoked.
	ErrTokenRevoked = errors.New("token revoked")
	// ErrTokenReused means a refresh token that had already been rotated
	// was presented again: a sign it was stolen. Its whole family has been
	// revoked.
	ErrTokenReused = errors.New("refresh token already used")
)

// HashToken returns the digest under which the store keeps a code, a
// refresh token or a client secret: SHA-256, in lowercase hex. The secrets
// are random and long, so a fast unsalted hash is enough to make a leaked
// database useless to replay.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// isTokenHash reports whether s has the shape of a HashToken result. The
// store refuses anything else, so a caller that passes the raw secret by
// mistake fails loudly instead of storing it.
func isTokenHash(s string) bool {
	if len(s) != sha256.Size*2 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newFamilyID returns a fresh random token family ID: 128 bits, in the
// 26 base32 characters rand.Text returns.
func newFamilyID() string { return rand.Text() }

// Limits on OAuth fields. Clients come from anyone on the internet
// (dynamic registration), so every field has a cap.
const (
	maxOAuthClientIDLen  = maxURLLen
	maxClientNameChars   = 200
	maxRedirectURIs      = 20
	maxResourceLen       = maxURLLen
	maxOAuthScopeLen     = 1000
	maxJTILen            = 255
	pkceS256ChallengeLen = 43 // base64url of a SHA-256 digest, unpadded
)

// validateOAuthID checks an identifier the protocol passes around (a
// client ID, a jti): present, capped, and free of spaces and control
// characters, which no legitimate one has.
func validateOAuthID(v *ValidationError, field, value string, max int) {
	switch {
	case value == "":
		v.Add(field, "is required")
	case len(value) > max:
		v.Add(field, fmt.Sprintf("must be at most %d bytes", max))
	case strings.ContainsFunc(value, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		v.Add(field, "must not contain spaces or control characters")
	case !utf8.ValidString(value):
		// PostgreSQL stores UTF-8 only; SQLite would store it, and the
		// two must take the same clients.
		v.Add(field, "must be UTF-8 text")
	}
}

// validateHash checks a HashToken digest.
func validateHash(v *ValidationError, field, value string) {
	if !isTokenHash(value) {
		v.Add(field, "must be a HashToken digest (64 lowercase hex digits)")
	}
}

// validateMaxLen reports value if it is longer than max bytes.
func validateMaxLen(v *ValidationError, field, value string, max int) {
	if len(value) > max {
		v.Add(field, fmt.Sprintf("must be at most %d bytes", max))
	}
}

// validateGrantRefs checks what every code, token and consent names: its
// client and its user.
func validateGrantRefs(v *ValidationError, clientID string, userID uint) {
	validateOAuthID(v, "client_id", clientID, maxOAuthClientIDLen)
	if userID == 0 {
		v.Add("user_id", "is required")
	}
}

// oauthDBError is dbError, plus a foreign key violation read as
// ErrNotFound: the client or user a row names does not exist.
func oauthDBError(err error) error {
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return fmt.Errorf("%w: no such client or user", ErrNotFound)
	}
	return dbError(err)
}

// expired reports whether something that expires at at has expired at
// now: at the instant itself, it has.
func expired(at, now time.Time) bool { return !now.Before(at) }
