package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// secretBytes is the entropy of every opaque secret: 256 bits.
const secretBytes = 32

// Prefixes of the opaque secrets Drawbridge hands out. They make a leaked
// secret recognisable (by people and by secret scanners) and say which
// table to look it up in.
const (
	PrefixAuthorizationCode = "dbc_" // authorization codes
	PrefixRefreshToken      = "dbr_" // refresh tokens
	PrefixClientSecret      = "dbs_" // confidential clients' secrets
)

// NewSecret returns a fresh opaque secret, prefix followed by 256 random
// bits in base64url, and the hash to store in its place. The secret itself
// is shown once (to the client) and never stored.
func NewSecret(prefix string) (secret, hash string, err error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("token: new secret: %w", err)
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret), nil
}

// HashSecret returns the hex SHA-256 of secret, the form in which codes,
// refresh tokens and client secrets are stored and looked up.
//
// A fast, unsalted hash is right here, unlike for passwords: the secrets
// carry 256 random bits, so there is no dictionary to try and a brute
// force over the hash is as hopeless as over the secret itself. Being
// deterministic, the hash can also serve as the database lookup key.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ConstantTimeEqualHash reports whether two stored hashes are equal,
// taking the same time wherever they differ, so comparing a presented
// secret's hash leaks nothing about the stored one. Hashes of different
// lengths are unequal.
func ConstantTimeEqualHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
