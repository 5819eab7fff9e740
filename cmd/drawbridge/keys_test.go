package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
