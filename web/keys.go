package web

import (
	"context"
	"crypto/ecdsa"
	"time"

	"github.com/drawbridge/drawbridge/proxy"
)

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
	// ReadSigning reads Signing and PreviousSigning again from where they
	// live (signing.pem, or the database on PostgreSQL), so that a
	// running server picks up a rotation. nil: they cannot change while
	// the process runs (they come from the environment).
	ReadSigning func(ctx context.Context) (current *ecdsa.PrivateKey, previous []*ecdsa.PublicKey, err error)
}

// watchKeys re-reads the signing keys whenever the configuration version
// moves, until ctx ends. A rotation bumps it: on PostgreSQL in the
// transaction that stores the new keys, which announces it (wake); on
// SQLite right after signing.pem is written, which the poll finds. The
// keyring keeps the current keys when a re-read fails, and the next tick
// tries again.
func (s *Server) watchKeys(ctx context.Context, wake <-chan struct{}) {
	tick := time.NewTicker(proxy.PollInterval)
	defer tick.Stop()
	// -1: the first look re-reads, covering a rotation made between
	// reading the keys at start and reading the version here.
	var seen int64 = -1
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
		}
		v, err := s.store.ConfigVersion(ctx)
		if err != nil || v == seen {
			continue // a failed read is the engine's to log: it polls the same row
		}
		// Only a re-read that worked makes v seen: one that failed (the
		// database gone for a moment) is tried again at the next tick,
		// or a rotation, --drop-old included, would wait for an
		// unrelated change to take effect. The keyring logs the failure.
		if s.tokens.keys.Reload(ctx) == nil {
			seen = v
		}
	}
}
