package models

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	// Production cost makes every hash take ~50 ms and 64 MiB; the tests
	// check behaviour, not cost.
	argonParams = argon2Params{memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32}
	os.Exit(m.Run())
}

// testKey returns a fixed key whose secret is 32 copies of fill.
func testKey(id string, fill byte) Key {
	return Key{ID: id, Secret: bytes.Repeat([]byte{fill}, KeySize)}
}

func testCipher(t *testing.T) *Cipher {
	t.Helper()
	c, err := NewCipher(testKey("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newTestStore opens a fresh store on a temp file, closed when t ends.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	return openTestStore(t, filepath.Join(t.TempDir(), "drawbridge.db"))
}

// openTestStore opens the store at path, closed when t ends.
func openTestStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Driver: "sqlite", DSN: path, Cipher: testCipher(t)})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// createUser inserts a local user with email, failing the test on error.
func createUser(t *testing.T, s *Store, email string) *User {
	t.Helper()
	u := &User{Email: email, Name: "Test " + email, Provider: ProviderLocal}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

// configVersionOf reads the configuration version, failing the test on error.
func configVersionOf(t *testing.T, s *Store) int64 {
	t.Helper()
	v, err := s.ConfigVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}
