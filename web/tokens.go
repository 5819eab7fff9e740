package web

import (
	"fmt"
	"time"

	"github.com/drawbridge/drawbridge/proxy/token"
)

// assertionTTL is how long an X-Drawbridge-Assertion is valid: long
// enough for a slow upstream to check it, short enough to be useless if
// an upstream leaks it.
const assertionTTL = 5 * time.Minute

// tokenKit is what signs and checks the access tokens of the authorization
// server, built once from the signing keys: the current one signs, and
// tokens signed by a recently retired one still verify. The proxy checks
// with the same Verifier the revocation endpoint uses.
type tokenKit struct {
	keys     *token.KeySet
	issuer   *token.Issuer
	verifier *token.Verifier
	asserter *token.Asserter
	// accounts signs service-account tokens.
	accounts *token.ServiceAccountIssuer
}

func newTokenKit(k Keys, cfg Config) (*tokenKit, error) {
	keys, err := token.NewKeySet(k.Signing, k.PreviousSigning...)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	issuerURL := cfg.ConsoleBase()
	issuer, err := token.NewIssuer(keys, issuerURL, cfg.OAuth.AccessTokenTTL)
	if err != nil {
		return nil, err
	}
	asserter, err := token.NewAsserter(keys, issuerURL, assertionTTL)
	if err != nil {
		return nil, err
	}
	accounts, err := token.NewServiceAccountIssuer(keys, issuerURL)
	if err != nil {
		return nil, err
	}
	return &tokenKit{
		keys: keys, issuer: issuer, verifier: token.NewVerifier(keys, issuerURL, token.VerifierOptions{}),
		asserter: asserter, accounts: accounts,
	}, nil
}
