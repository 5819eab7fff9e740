package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/proxy/token"
)

// signingSource stands for where the signing keys live: what ReadSigning
// returns now, and how often it was asked.
type signingSource struct {
	mu       sync.Mutex
	current  *ecdsa.PrivateKey
	previous []*ecdsa.PublicKey
	err      error
	reads    int
}

func (s *signingSource) read(context.Context) (*ecdsa.PrivateKey, []*ecdsa.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return s.current, s.previous, s.err
}

func (s *signingSource) set(current *ecdsa.PrivateKey, previous []*ecdsa.PublicKey, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current, s.previous, s.err = current, previous, err
}

func (s *signingSource) readCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// kidOf is the kid tokens signed by k carry.
func kidOf(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	ks, err := token.NewKeySet(k)
	if err != nil {
		t.Fatal(err)
	}
	return ks.KeyID()
}

// waitFor waits, a bounded while, until ok holds.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServerReloadsSigningKeys: a running server re-reads its signing
// keys when the configuration version moves, as a rotation makes it:
// the JWKS and the signer change without a restart. A re-read that
// fails keeps the keys it has.
func TestServerReloadsSigningKeys(t *testing.T) {
	keys := testKeys(t)
	source := &signingSource{current: keys.Signing}
	keys.ReadSigning = source.read
	a := newTestAppWithKeys(t, keys)
	srv, store, ctx := a.Server, a.Store, context.Background()
	jwks := func() string {
		resp, err := http.Get(a.URL + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// signedKid is the kid of an access token the server issues now.
	signedKid := func() string {
		raw, _, err := srv.tokens.issuer.Issue(token.Claims{Subject: "1", Audience: "http://mcp.example", ClientID: "c"})
		if err != nil {
			t.Fatal(err)
		}
		header, _, _ := strings.Cut(raw, ".")
		b, _ := base64.RawURLEncoding.DecodeString(header)
		var h struct {
			Kid string `json:"kid"`
		}
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatal(err)
		}
		return h.Kid
	}
	oldKid := kidOf(t, keys.Signing)
	waitFor(t, "the first look at the version", func() bool { return source.readCount() > 0 })
	if kid := signedKid(); kid != oldKid {
		t.Fatalf("before the rotation the server signs with %s, want %s", kid, oldKid)
	}

	rotated, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	source.set(rotated, []*ecdsa.PublicKey{&keys.Signing.PublicKey}, nil)
	if err := store.BumpConfigVersion(ctx); err != nil {
		t.Fatal(err)
	}
	newKid := kidOf(t, rotated)
	waitFor(t, "the JWKS to list the rotated key", func() bool { return strings.Contains(jwks(), newKid) })
	if got := jwks(); !strings.Contains(got, oldKid) {
		t.Errorf("the retired key left the JWKS: %s", got)
	}
	if kid := signedKid(); kid != newKid {
		t.Errorf("after the rotation the server signs with %s, want %s", kid, newKid)
	}

	source.set(nil, nil, errors.New("the key file is unreadable"))
	reads := source.readCount()
	if err := store.BumpConfigVersion(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a re-read after the version moved", func() bool { return source.readCount() > reads })
	if got := jwks(); !strings.Contains(got, newKid) || !strings.Contains(got, oldKid) || signedKid() != newKid {
		t.Errorf("after a failed re-read the keys changed: %s", got)
	}
}

// TestServerRetriesAFailedKeyReload: a rotation whose re-read fails (the
// database gone for a moment) still takes effect once a re-read works,
// without another change to the configuration to prompt it.
func TestServerRetriesAFailedKeyReload(t *testing.T) {
	keys := testKeys(t)
	source := &signingSource{current: keys.Signing}
	keys.ReadSigning = source.read
	a := newTestAppWithKeys(t, keys)
	srv, store, ctx := a.Server, a.Store, context.Background()
	waitFor(t, "the first look", func() bool { return source.readCount() > 0 })

	rotated, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	source.set(nil, nil, errors.New("connection reset"))
	reads := source.readCount()
	if err := store.BumpConfigVersion(ctx); err != nil { // the rotation's bump
		t.Fatal(err)
	}
	waitFor(t, "the re-read after the bump", func() bool { return source.readCount() > reads })
	source.set(rotated, []*ecdsa.PublicKey{&keys.Signing.PublicKey}, nil) // the database answers again
	waitFor(t, "signing with the rotated key", func() bool { return srv.tokens.keys.Load().KeyID() == kidOf(t, rotated) })
}
