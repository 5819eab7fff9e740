package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeysGeneratedOnceWithPrivateModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := prepareDataDir(dir); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %04o, want 0700", info.Mode().Perm())
	}
	keys, cipher, err := loadKeys(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{sessionKeyFile, signingKeyFile, encryptionKeyFile} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %04o, want 0600", name, info.Mode().Perm())
		}
	}
	again, cipher2, err := loadKeys(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keys.SessionHash, again.SessionHash) || !keys.Signing.Equal(again.Signing) ||
		cipher.CurrentKeyID() != cipher2.CurrentKeyID() {
		t.Error("a second start generated new keys instead of reading the first ones")
	}
	ct, err := cipher.Encrypt([]byte("secret"), "t:1")
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := cipher2.Decrypt(ct, "t:1"); err != nil || string(pt) != "secret" {
		t.Errorf("a value encrypted before a restart does not decrypt after it: %v", err)
	}
}

func TestDataDirReadableByOthersRefused(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	err := prepareDataDir(dir)
	if err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("got %v, want a refusal saying how to fix it", err)
	}
}

func TestKeyFileReadableByOthersRefused(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := loadKeys(dir, nil); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, signingKeyFile), 0o644)
	_, _, err := loadKeys(dir, nil)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") || !strings.Contains(err.Error(), envSigningKey) {
		t.Fatalf("got %v, want a refusal saying how to fix it", err)
	}
}

func TestKeysFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	session := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, sessionKeyLen))
	pemKey, _ := newSigningKeyPEM()
	enc := "old:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)) +
		",new:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	env := environment{envSessionKey + "=" + session, envSigningKey + "=" + string(pemKey), envEncryptionKey + "=" + enc}
	keys, cipher, err := loadKeys(dir, env)
	if err != nil {
		t.Fatal(err)
	}
	if keys.SessionHash[0] != 7 || cipher.CurrentKeyID() != "new" {
		t.Errorf("keys not taken from the environment (current key %q)", cipher.CurrentKeyID())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("keys from the environment were also written to the data dir: %v", entries)
	}

	for name, bad := range map[string]environment{
		"short session key": {envSessionKey + "=c2hvcnQ="},
		"not PEM":           {envSigningKey + "=hello"},
		"short encryption":  {envEncryptionKey + "=k1:c2hvcnQ="},
		"encryption no id":  {envEncryptionKey + "=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))},
	} {
		if _, _, err := loadKeys(t.TempDir(), bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// testSigningKeys returns a file of a fresh current key and a fresh key
// retired at each of retiredAt, and the keys in file order.
func testSigningKeys(t *testing.T, retiredAt ...time.Time) ([]byte, []*ecdsa.PrivateKey) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ks := signingKeys{current: newKey()}
	all := []*ecdsa.PrivateKey{ks.current}
	for _, at := range retiredAt {
		ks.retired = append(ks.retired, retiredKey{key: newKey(), at: at})
		all = append(all, ks.retired[len(ks.retired)-1].key)
	}
	b, err := ks.encode()
	if err != nil {
		t.Fatal(err)
	}
	return b, all
}

func TestRetiredSigningKeysVerifyForTwoHours(t *testing.T) {
	now := time.Now()
	file, all := testSigningKeys(t, now.Add(-30*time.Minute), now.Add(-3*time.Hour))
	for name, env := range map[string]environment{
		"file":        nil,
		"environment": {envSigningKey + "=" + string(file)},
	} {
		dir := t.TempDir()
		if env == nil {
			if err := os.WriteFile(filepath.Join(dir, signingKeyFile), file, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		keys, _, err := loadKeys(dir, env)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !keys.Signing.Equal(all[0]) {
			t.Errorf("%s: the current key is not the first block", name)
		}
		if len(keys.PreviousSigning) != 1 || !keys.PreviousSigning[0].Equal(&all[1].PublicKey) {
			t.Errorf("%s: %d previous keys, want only the one retired 30 minutes ago", name, len(keys.PreviousSigning))
		}
	}
}

func TestMalformedSigningKeyFilesRefused(t *testing.T) {
	good, _ := testSigningKeys(t, time.Now())
	current, _, _ := strings.Cut(string(good), "-----END PRIVATE KEY-----\n")
	current += "-----END PRIVATE KEY-----\n"
	retired := strings.TrimPrefix(string(good), current)
	for name, file := range map[string]string{
		"first block retired":       retired + current,
		"later block not retired":   current + current,
		"Retired-At not RFC 3339":   current + strings.Replace(retired, "Retired-At: ", "Retired-At: yesterday ", 1),
		"a certificate block first": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + current,
	} {
		if _, _, err := loadKeys(t.TempDir(), environment{envSigningKey + "=" + file}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
