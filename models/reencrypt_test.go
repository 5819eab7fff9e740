package models

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// withKeys opens the store at path with a cipher that encrypts with current
// and decrypts with older too.
func withKeys(t *testing.T, path string, current Key, older ...Key) *Store {
	t.Helper()
	c, err := NewCipher(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	return openTestStoreWith(t, path, func(o *Options) { o.Cipher = c })
}

// reencryptingWith is withKeys for a process that re-seals secrets: it
// may open the database with a current key its secrets are not sealed
// with yet.
func reencryptingWith(t *testing.T, path string, current Key, older ...Key) *Store {
	t.Helper()
	c, err := NewCipher(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	return openTestStoreWith(t, path, func(o *Options) { o.Cipher, o.Reencrypting = c, true })
}

// rawSecret reads app id's stored ciphertext, bypassing the store.
func rawSecret(t *testing.T, s *Store, id uint) string {
	t.Helper()
	var v string
	if err := s.db.Raw("SELECT client_secret FROM upstream_apps WHERE id = ?", id).Row().Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestReencryptSecrets(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	k1, k2 := testKey("k1", 1), testKey("k2", 2)

	before := withKeys(t, path, k1)
	github, notion := createApp(t, before, "github"), createApp(t, before, "notion")

	rotated := reencryptingWith(t, path, k2, k1)
	n, err := rotated.ReencryptSecrets(ctx)
	if err != nil || n != 2 {
		t.Fatalf("re-encrypted %d values (%v), want 2", n, err)
	}
	for _, a := range []*UpstreamApp{github, notion} {
		if raw := rawSecret(t, rotated, a.ID); !strings.HasPrefix(raw, "v1:k2:") {
			t.Errorf("%s: stored %q, want it sealed with k2", a.Name, raw)
		}
	}
	if n, err := rotated.ReencryptSecrets(ctx); err != nil || n != 0 {
		t.Errorf("second run re-encrypted %d values (%v), want 0", n, err)
	}
	if ids, err := rotated.SecretKeyIDs(ctx); err != nil || len(ids) != 1 || ids["k2"] != 2 {
		t.Errorf("key ids in use: %v (%v), want only k2, twice", ids, err)
	}

	onlyNew := withKeys(t, path, k2)
	if got, err := onlyNew.UpstreamAppSecret(ctx, github.ID); err != nil || got != "secret-github" {
		t.Errorf("with only the new key: %q, %v", got, err)
	}
}

// A value that does not decrypt stops the rotation, and what was already
// re-encrypted is rolled back: a half-rotated database would need both
// keys with no way to tell.
func TestReencryptSecretsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	k1, k2 := testKey("k1", 1), testKey("k2", 2)

	before := withKeys(t, path, k1)
	github, notion := createApp(t, before, "github"), createApp(t, before, "notion")
	// A ciphertext moved to another row fails its AAD check.
	moved := rawSecret(t, before, github.ID)
	if err := before.db.Exec("UPDATE upstream_apps SET client_secret = ? WHERE id = ?", moved, notion.ID).Error; err != nil {
		t.Fatal(err)
	}

	rotated := reencryptingWith(t, path, k2, k1)
	_, err := rotated.ReencryptSecrets(ctx)
	if err == nil || !strings.Contains(err.Error(), "upstream_apps "+strconv.FormatUint(uint64(notion.ID), 10)) {
		t.Fatalf("got %v, want an error naming upstream_apps %d", err, notion.ID)
	}
	if raw := rawSecret(t, rotated, github.ID); !strings.HasPrefix(raw, "v1:k1:") {
		t.Errorf("github was re-encrypted (%q) although the rotation failed", raw)
	}
}

func TestReencryptKnowsEverySealedColumn(t *testing.T) {
	// What each writer seals with, for the row id as the reader spells it.
	writers := map[string]struct{ id, aad string }{
		"upstream_apps.client_secret":               {"42", clientSecretAAD(42)},
		"upstream_connections.access_token_sealed":  {"7:42", connectionTokenAAD("access_token_sealed", 7, 42)},
		"upstream_connections.refresh_token_sealed": {"7:42", connectionTokenAAD("refresh_token_sealed", 7, 42)},
		"upstream_auth_states.code_verifier_sealed": {strings.Repeat("ab", 32), codeVerifierAAD(strings.Repeat("ab", 32))},
		"shared_keys.value":                         {"signing", sharedKeyAAD("signing")},
	}
	for _, c := range sealedColumns {
		w, ok := writers[c.table+"."+c.column]
		if !ok {
			t.Errorf("%s.%s: a sealed column was added: check its AAD here like the others", c.table, c.column)
			continue
		}
		if c.aad(w.id) != w.aad {
			t.Errorf("%s.%s: AAD %q, but the writer uses %q", c.table, c.column, c.aad(w.id), w.aad)
		}
	}
	if len(sealedColumns) != len(writers) {
		t.Errorf("%d sealed columns for %d writers", len(sealedColumns), len(writers))
	}
}

// TestReencryptResealsSharedKeysAndCheck rotates the encryption key of a
// database holding a shared key: the key and the encryption check are
// re-sealed with the rest, so that a process with only the new key
// starts and reads the key. The check is no secret: it is counted
// neither among the re-encrypted secrets nor, once sealed with the
// current key, among a key's secrets.
func TestReencryptResealsSharedKeysAndCheck(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	k1, k2 := testKey("k1", 1), testKey("k2", 2)

	before := withKeys(t, path, k1)
	session, err := before.SharedKey(ctx, "session", func() ([]byte, error) { return []byte("session key"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := before.SecretKeyIDs(ctx); err != nil || len(ids) != 1 || ids["k1"] != 1 {
		t.Errorf("key ids in use before: %v (%v), want k1 once (the session key; the check is under the current key)", ids, err)
	}

	rotated := reencryptingWith(t, path, k2, k1)
	if ids, err := rotated.SecretKeyIDs(ctx); err != nil || len(ids) != 1 || ids["k1"] != 2 {
		t.Errorf("key ids in use after adding k2: %v (%v), want k1 twice: the check needs it too", ids, err)
	}
	if n, err := rotated.ReencryptSecrets(ctx); err != nil || n != 1 {
		t.Fatalf("re-encrypted %d secrets (%v), want 1, the session key", n, err)
	}
	for _, name := range []string{"session", sharedKeyCheck} {
		if raw := rawSharedKey(t, rotated, name); !strings.HasPrefix(raw, "v1:k2:") {
			t.Errorf("%s: stored %q, want it sealed with k2", name, raw)
		}
	}
	if ids, err := rotated.SecretKeyIDs(ctx); err != nil || len(ids) != 1 || ids["k2"] != 1 {
		t.Errorf("key ids in use after: %v (%v), want k2 once", ids, err)
	}

	if got, err := withKeys(t, path, k2).SharedKey(ctx, "session", nil); err != nil || string(got) != string(session) {
		t.Errorf("with only the new key: %q, %v", got, err)
	}
	if err := openWithKeys(t, path, k1); !errors.Is(err, ErrEncryptionKeys) {
		t.Errorf("with only the old key after the rotation: %v, want ErrEncryptionKeys", err)
	}
}
