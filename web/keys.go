package web

import "crypto/ecdsa"

// Keys are the process's secrets that live outside the database: they come
// from the data directory (generated on first start) or the environment.
type Keys struct {
	// SessionHash signs and SessionBlock encrypts the session cookie.
	SessionHash  []byte
	SessionBlock []byte
	// Signing signs the JWTs Drawbridge issues (access tokens, assertions).
	Signing *ecdsa.PrivateKey
	// PreviousSigning are keys retired by a rotation recently enough that
	// tokens they signed may still be alive: they still verify, and the
	// JWKS still publishes them, but sign nothing.
	PreviousSigning []*ecdsa.PublicKey
}
