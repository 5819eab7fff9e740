package token

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// KeySource is where an Issuer, Asserter, ServiceAccountIssuer or
// Verifier finds its keys: a *KeySet, which never changes, or a
// *Keyring, whose keys a rotation replaces while the process runs.
type KeySource interface {
	// Load returns the keys to sign and verify with now.
	Load() *KeySet
	// find returns the public key named kid, or nil. A Keyring that does
	// not know kid re-reads its keys first, within limits.
	find(kid string) *ecdsa.PublicKey
}

// Limits on re-reading keys for a token that names an unknown kid. Such a
// token is what a replica that already signs with a new key sends before
// this process has heard of the rotation; it is also what anyone can
// forge, so the re-reads it causes are bounded.
const (
	// lookupInterval is the least time between two re-reads caused by
	// unknown kids.
	lookupInterval = time.Second
	// lookupTimeout bounds one such re-read: the requests waiting on it
	// are refused rather than held while the database does not answer.
	lookupTimeout = 2 * time.Second
)

// Keyring owns the process's current KeySet. Signers and verifiers load
// it for every token, so a Swap (or a Reload that finds new keys) takes
// effect at once for everything that signs, verifies or publishes the
// JWKS, while requests already holding the previous KeySet finish with
// it. It is safe for concurrent use.
type Keyring struct {
	keys atomic.Pointer[KeySet]
	read func(context.Context) (*KeySet, error) // nil: the keys never change
	log  *slog.Logger
	now  func() time.Time // tests move the clock

	mu         sync.Mutex // one re-read at a time; guards the fields below
	lastLookup time.Time  // when the last re-read an unknown kid caused ended
	failing    bool       // the last re-read failed, and that was logged
	// reads counts the re-reads that have ended, so that a lookup that
	// waited for one in flight takes its answer instead of reading again.
	reads atomic.Uint64
}

// NewKeyring returns a Keyring holding keys. read re-reads the keys from
// where they live (a key file, the database), for Reload and for tokens
// naming a kid keys lacks; nil means they cannot change. log may be nil.
func NewKeyring(keys *KeySet, read func(context.Context) (*KeySet, error), log *slog.Logger) (*Keyring, error) {
	if keys == nil || keys.current == nil {
		return nil, errors.New("token: a keyring needs a key set")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Keyring{read: read, log: log, now: time.Now}
	r.keys.Store(keys)
	return r, nil
}

// Load returns the current keys.
func (r *Keyring) Load() *KeySet { return r.keys.Load() }

// Swap makes next the current keys and returns the ones it replaces. A
// key set without a current key is refused: the process never goes
// keyless.
func (r *Keyring) Swap(next *KeySet) (*KeySet, error) {
	if next == nil || next.current == nil {
		return nil, errors.New("token: swap in an empty key set")
	}
	return r.keys.Swap(next), nil
}

// Reload re-reads the keys and swaps them in if they changed. A re-read
// that fails keeps the current keys; the failure is logged once, until a
// re-read works again. Like the lookups, it gives up after lookupTimeout,
// so that a database that does not answer holds no one for longer.
func (r *Keyring) Reload(ctx context.Context) error {
	if r.read == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reloadLocked(ctx)
}

func (r *Keyring) reloadLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	defer r.reads.Add(1)
	next, err := r.read(ctx)
	if err == nil && (next == nil || next.current == nil) {
		err = errors.New("no key set")
	}
	if err != nil {
		if !r.failing {
			r.failing = true
			r.log.Warn("token: could not re-read the signing keys; the current ones stay in use", "error", err)
		}
		return fmt.Errorf("token: re-read keys: %w", err)
	}
	if r.failing {
		r.failing = false
		r.log.Info("token: the signing keys can be re-read again")
	}
	// Unchanged keys keep their KeySet, and with it what was signed and
	// cached under it.
	if r.Load().same(next) {
		return nil
	}
	old, err := r.Swap(next)
	if err != nil {
		return err
	}
	r.log.Info("token: signing keys reloaded", "current_kid", next.KeyID(), "previous_current_kid", old.KeyID())
	return nil
}

// find returns the public key named kid. One the current keys lack makes
// it re-read them, so that a token another replica signed with a key
// just rotated in verifies here too; but at most once per
// lookupInterval, counted from the end of the last such re-read,
// whatever number of tokens name unknown kids at once: they wait for the
// one re-read in flight and take its answer, however long it took, and
// later ones within the interval are refused without one.
func (r *Keyring) find(kid string) *ecdsa.PublicKey {
	if pub := r.Load().publicKey(kid); pub != nil || r.read == nil {
		return pub
	}
	before := r.reads.Load()
	r.mu.Lock()
	defer r.mu.Unlock()
	// A re-read that ended while this call waited had its chance to
	// bring the key: no second one for the same wait.
	if pub := r.Load().publicKey(kid); pub != nil || r.reads.Load() != before {
		return pub
	}
	if !r.lastLookup.IsZero() && r.now().Sub(r.lastLookup) < lookupInterval {
		return nil
	}
	_ = r.reloadLocked(context.Background()) // logged; the current keys stay
	r.lastLookup = r.now()
	return r.Load().publicKey(kid)
}
