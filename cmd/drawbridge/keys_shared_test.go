package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models/pgtest"
	"github.com/drawbridge/drawbridge/proxy/token"
	"github.com/drawbridge/drawbridge/web"
)

// replicaEnv is the environment of a replica on the PostgreSQL database
// dsn with the encryption key encKey ("id:base64"); extra is added.
func replicaEnv(dsn, encKey string, extra ...string) environment {
	return append(environment{
		"DRAWBRIDGE_DATABASE_DRIVER=postgres",
		"DRAWBRIDGE_DATABASE_DSN=" + dsn,
		envEncryptionKey + "=" + encKey,
	}, extra...)
}

// newEncryptionKey returns what `drawbridge keys generate encryption`
// prints, without its newline.
func newEncryptionKey(t *testing.T) string {
	t.Helper()
	out, err := runCLI(t, "", "keys", "generate", "encryption")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return strings.TrimSpace(out)
}

// startReplica opens the backend a replica on data directory dir with
// env starts with, as serve does, and returns its keys.
func startReplica(t *testing.T, dir string, env environment) (web.Keys, error) {
	t.Helper()
	b, err := openBackend(context.Background(), configFlags{dataDir: dir, logLevel: "error"}, env, io.Discard)
	if err != nil {
		return web.Keys{}, err
	}
	defer b.Close()
	return b.keys, nil
}

// assertNoKeyFiles fails t if data directory dir holds a key file.
func assertNoKeyFiles(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{sessionKeyFile, signingKeyFile, encryptionKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s was written to the data directory %s", name, dir)
		}
	}
}

func TestKeysGenerateEncryption(t *testing.T) {
	line := newEncryptionKey(t)
	if strings.Count(line, "\n") != 0 || !strings.Contains(line, ":") {
		t.Fatalf("printed %q, want one id:base64 line", line)
	}
	if _, err := parseEncryptionKeys([]byte(line)); err != nil {
		t.Errorf("%s does not read as an encryption key: %v", line, err)
	}
	if other := newEncryptionKey(t); other == line {
		t.Error("two keys generated alike")
	}
	if _, err := runCLI(t, "", "keys", "generate"); err == nil || !strings.Contains(err.Error(), "which key") {
		t.Errorf("generate without a key: %v", err)
	}
}

// TestSharedKeysSameOnEveryReplica starts ten replicas at once on one
// PostgreSQL database, each with a data directory of its own and only
// the encryption key in common: all of them end with the same session and
// signing keys, none of which is written to a data directory. A key set
// in the environment still wins.
func TestSharedKeysSameOnEveryReplica(t *testing.T) {
	dsn := pgtest.DSN(t)
	env := replicaEnv(dsn, newEncryptionKey(t))
	const replicas = 10
	var (
		wg   sync.WaitGroup
		keys [replicas]web.Keys
		errs [replicas]error
		dirs [replicas]string
	)
	for i := range replicas {
		dirs[i] = dataDir(t)
		wg.Go(func() { keys[i], errs[i] = startReplica(t, dirs[i], env) })
	}
	wg.Wait()
	for i := range replicas {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		if !bytes.Equal(keys[i].SessionHash, keys[0].SessionHash) || !bytes.Equal(keys[i].SessionBlock, keys[0].SessionBlock) {
			t.Errorf("replica %d has another session key than replica 0", i)
		}
		if !keys[i].Signing.Equal(keys[0].Signing) {
			t.Errorf("replica %d has another signing key than replica 0", i)
		}
		assertNoKeyFiles(t, dirs[i])
	}
	if again, err := startReplica(t, dataDir(t), env); err != nil || !again.Signing.Equal(keys[0].Signing) {
		t.Errorf("a replica started later: %v, or another signing key", err)
	}

	pemKey, _ := newSigningKeyPEM()
	own, err := startReplica(t, dataDir(t), append(env, envSigningKey+"="+string(pemKey)))
	if err != nil {
		t.Fatal(err)
	}
	if own.Signing.Equal(keys[0].Signing) || !bytes.Equal(own.SessionHash, keys[0].SessionHash) {
		t.Error("a signing key in the environment did not win over the database's, or the session key did not come from the database")
	}
}

// TestSharedKeysOtherEncryptionKeyRefused starts a second replica with
// another encryption key than the first: serve refuses, saying every
// replica needs the same keys, and changes nothing.
func TestSharedKeysOtherEncryptionKeyRefused(t *testing.T) {
	dsn := pgtest.DSN(t)
	key := newEncryptionKey(t)
	first, err := startReplica(t, dataDir(t), replicaEnv(dsn, key))
	if err != nil {
		t.Fatal(err)
	}
	other := newEncryptionKey(t)
	_, stderr, err := runWithEnv(t, replicaEnv(dsn, other), "serve", "--data-dir", dataDir(t), "--address", "127.0.0.1:0")
	if err == nil || !strings.HasPrefix(err.Error(), encryptionKeysDiffer) {
		t.Fatalf("serve with another encryption key: %v (%s); want %q", err, stderr, encryptionKeysDiffer)
	}
	firstID, _, _ := strings.Cut(key, ":")
	otherID, _, _ := strings.Cut(other, ":")
	if !strings.Contains(err.Error(), firstID) || !strings.Contains(err.Error(), otherID) {
		t.Errorf("the refusal does not name the key ids (%s, %s): %v", firstID, otherID, err)
	}
	// With the new key current and the old one after it, it would seal
	// what the first replica cannot open: refused, told how to rotate.
	_, stderr, err = runWithEnv(t, replicaEnv(dsn, key+","+other), "serve", "--data-dir", dataDir(t), "--address", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "drawbridge keys reencrypt") {
		t.Fatalf("serve with a newer current key: %v (%s); want a refusal that says how to rotate", err, stderr)
	}
	// With the new key only decrypting (first), it starts, and reads the
	// keys the first replica made: a rotation's first step.
	both, err := startReplica(t, dataDir(t), replicaEnv(dsn, other+","+key))
	if err != nil || !both.Signing.Equal(first.Signing) {
		t.Errorf("a replica with both keys: %v, or another signing key", err)
	}
}

// TestSharedKeysNeedAnEncryptionKey starts a replica on PostgreSQL with
// no encryption key: it refuses, saying how to make one, and makes none
// itself. With the key in the data directory's encryption.keys, it
// starts.
func TestSharedKeysNeedAnEncryptionKey(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := dataDir(t)
	env := environment{"DRAWBRIDGE_DATABASE_DRIVER=postgres", "DRAWBRIDGE_DATABASE_DSN=" + dsn}
	_, err := startReplica(t, dir, env)
	if err == nil || !strings.Contains(err.Error(), "every replica needs the same encryption keys") ||
		!strings.Contains(err.Error(), "drawbridge keys generate encryption") {
		t.Fatalf("got %v, want a refusal saying how to make a key", err)
	}
	assertNoKeyFiles(t, dir)

	if err := os.WriteFile(filepath.Join(dir, encryptionKeyFile), []byte(newEncryptionKey(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := startReplica(t, dir, env); err != nil {
		t.Fatalf("with encryption.keys in the data directory: %v", err)
	}
	for _, name := range []string{sessionKeyFile, signingKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s was written to the data directory", name)
		}
	}
}

// TestSharedKeysRotateSigning rotates the signing key of replicas on
// PostgreSQL: the database's keys change, the previous key stays,
// retired, so a token it signed keeps verifying on every replica
// started since, and keys list reads them from the database.
func TestSharedKeysRotateSigning(t *testing.T) {
	dsn := pgtest.DSN(t)
	env := replicaEnv(dsn, newEncryptionKey(t))
	before, err := startReplica(t, dataDir(t), env)
	if err != nil {
		t.Fatal(err)
	}
	oldSet, err := token.NewKeySet(before.Signing)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := token.NewIssuer(oldSet, testIssuer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := issuer.Issue(token.Claims{Subject: "u1", Audience: testResource, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}

	dir := dataDir(t)
	out, _, err := runWithEnv(t, env, "keys", "rotate", "signing", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "(id "+oldSet.KeyID()+") keeps verifying for 2 hours") || !strings.Contains(out, "Every running replica signs with the new key") {
		t.Fatalf("%v: %s", err, out)
	}
	assertNoKeyFiles(t, dir)

	after, err := startReplica(t, dataDir(t), env)
	if err != nil {
		t.Fatal(err)
	}
	if after.Signing.Equal(before.Signing) || len(after.PreviousSigning) != 1 || !after.PreviousSigning[0].Equal(&before.Signing.PublicKey) {
		t.Fatalf("after the rotation: %d previous keys, want the new key current and the old one retired", len(after.PreviousSigning))
	}
	if !strings.Contains(out, "new key id "+signingKeyID(after.Signing)) {
		t.Errorf("output does not name the new key: %s", out)
	}
	loaded, err := token.NewKeySet(after.Signing, after.PreviousSigning...)
	if err != nil {
		t.Fatal(err)
	}
	notRevoked := func(string) bool { return false }
	if _, err := token.NewVerifier(loaded, testIssuer, token.VerifierOptions{}).Verify(raw, testResource, notRevoked); err != nil {
		t.Errorf("a token the old key signed no longer verifies: %v", err)
	}

	out, _, err = runWithEnv(t, env, "keys", "list", "--data-dir", dataDir(t))
	squeezed := strings.Join(strings.Fields(out), " ")
	if err != nil || !strings.Contains(squeezed, "Signing keys (the database): ID STATUS "+signingKeyID(after.Signing)+" current "+oldSet.KeyID()+" retired 0m ago") {
		t.Errorf("keys list: %v\n%s", err, out)
	}

	out, _, err = runWithEnv(t, env, "keys", "rotate", "signing", "--drop-old", "--data-dir", dataDir(t))
	if err != nil || !strings.Contains(out, "dropped") {
		t.Fatalf("--drop-old: %v: %s", err, out)
	}
	last, err := startReplica(t, dataDir(t), env)
	if err != nil || len(last.PreviousSigning) != 0 || last.Signing.Equal(after.Signing) {
		t.Errorf("after --drop-old: %v; want a new current key and no retired one", err)
	}
}

// TestSharedKeysRotateSigningAtOnce runs two signing key rotations on
// PostgreSQL at once: neither loses the other's key, as the key lock
// makes sure of for signing.pem.
func TestSharedKeysRotateSigningAtOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	env := replicaEnv(dsn, newEncryptionKey(t))
	before, err := startReplica(t, dataDir(t), env)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		dir := dataDir(t)
		wg.Go(func() {
			var out string
			if out, _, errs[i] = runWithEnv(t, env, "keys", "rotate", "signing", "--data-dir", dir); errs[i] != nil {
				t.Logf("rotation %d: %s", i, out)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	after, err := startReplica(t, dataDir(t), env)
	if err != nil {
		t.Fatal(err)
	}
	// The first rotation retired the original key, the second the first's.
	if len(after.PreviousSigning) != 2 || !containsKey(after.PreviousSigning, &before.Signing.PublicKey) {
		t.Errorf("%d retired keys after two rotations, want 2, the original among them", len(after.PreviousSigning))
	}
}

func containsKey(keys []*ecdsa.PublicKey, k *ecdsa.PublicKey) bool {
	for _, c := range keys {
		if c.Equal(k) {
			return true
		}
	}
	return false
}
