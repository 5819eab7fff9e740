package web

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/drawbridge/drawbridge/proxy/token"
)

// assertionTTL is how long an X-Drawbridge-Assertion is valid: long
// enough for a slow upstream to check it, short enough to be useless if
// an upstream leaks it.
const assertionTTL = 5 * time.Minute

// tokenKit is what signs and checks the tokens Drawbridge issues, all on
// one keyring: the current key signs, and tokens signed by a recently
// retired one still verify. A rotation swaps the keyring's keys, and with
// them what every part of the kit signs and verifies with and the JWKS it
// publishes. The proxy checks with the same Verifier the revocation
// endpoint uses.
type tokenKit struct {
	keys     *token.Keyring
	issuer   *token.Issuer
	verifier *token.Verifier
	asserter *token.Asserter
	// accounts signs service-account tokens.
	accounts *token.ServiceAccountIssuer
}

func newTokenKit(k Keys, cfg Config, log *slog.Logger) (*tokenKit, error) {
	set, err := token.NewKeySet(k.Signing, k.PreviousSigning...)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	var read func(context.Context) (*token.KeySet, error)
	if k.ReadSigning != nil {
		read = func(ctx context.Context) (*token.KeySet, error) {
			current, previous, err := k.ReadSigning(ctx)
			if err != nil {
				return nil, err
			}
			return token.NewKeySet(current, previous...)
		}
	}
	keys, err := token.NewKeyring(set, read, log)
	if err != nil {
		return nil, err
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
