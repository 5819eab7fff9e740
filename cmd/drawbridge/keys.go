package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/web"
)

// Environment variables that carry keys instead of files in the data dir.
const (
	envSessionKey    = "DRAWBRIDGE_SESSION_KEY"    // base64 of 96 random bytes
	envSigningKey    = "DRAWBRIDGE_SIGNING_KEY"    // PEM, PKCS#8 ECDSA P-256
	envEncryptionKey = "DRAWBRIDGE_ENCRYPTION_KEY" // kid:base64 of 32 bytes, comma separated, newest last
)

// Files in the data directory.
const (
	sessionKeyFile    = "session.key"
	signingKeyFile    = "signing.pem"
	encryptionKeyFile = "encryption.keys"
	databaseFile      = "drawbridge.db"
)

const sessionKeyLen = 64 + 32

// prepareDataDir creates dir with mode 0700 on first start, and refuses a
// directory that others can read: it holds the keys and the database.
func prepareDataDir(dir string) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("data directory %s is accessible by other users (mode %04o); it holds keys and the database: run `chmod 700 %s`", dir, perm, dir)
	}
	return nil
}

// loadKeys reads each key from the environment or the data directory,
// generating any that is missing on first start.
func loadKeys(dir string, env environment) (web.Keys, *models.Cipher, error) {
	var keys web.Keys
	session, err := secretBytes(env.get(envSessionKey), envSessionKey, filepath.Join(dir, sessionKeyFile), func() ([]byte, error) {
		b := make([]byte, sessionKeyLen)
		_, err := rand.Read(b)
		return []byte(base64.StdEncoding.EncodeToString(b) + "\n"), err
	})
	if err != nil {
		return keys, nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(session)))
	if err != nil || len(raw) != sessionKeyLen {
		return keys, nil, fmt.Errorf("session key: must be base64 of %d bytes", sessionKeyLen)
	}
	keys.SessionHash, keys.SessionBlock = raw[:64], raw[64:]

	signing, err := secretBytes(env.get(envSigningKey), envSigningKey, filepath.Join(dir, signingKeyFile), newSigningKeyPEM)
	if err != nil {
		return keys, nil, err
	}
	if keys.Signing, err = parseSigningKey(signing); err != nil {
		return keys, nil, err
	}

	enc, err := secretBytes(strings.ReplaceAll(env.get(envEncryptionKey), ",", "\n"), envEncryptionKey,
		filepath.Join(dir, encryptionKeyFile), newEncryptionKeyLine)
	if err != nil {
		return keys, nil, err
	}
	cipher, err := parseEncryptionKeys(enc)
	if err != nil {
		return keys, nil, err
	}
	return keys, cipher, nil
}

// secretBytes returns fromEnv when set; otherwise the file at path, which
// must not be readable by others; otherwise it generates and writes it 0600.
func secretBytes(fromEnv, envName, path string, generate func() ([]byte, error)) ([]byte, error) {
	if fromEnv != "" {
		return []byte(fromEnv), nil
	}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b, err := generate()
		if err != nil {
			return nil, fmt.Errorf("generate %s: %w", filepath.Base(path), err)
		}
		// O_EXCL: never overwrite a key another process just wrote.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("write key: %w", err)
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, fmt.Errorf("write key %s: %w", path, err)
		}
		return b, f.Close()
	case err != nil:
		return nil, fmt.Errorf("key file: %w", err)
	case info.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("key file %s is readable by other users (mode %04o): run `chmod 600 %s`, or set %s instead",
			path, info.Mode().Perm(), path, envName)
	}
	return os.ReadFile(path)
}

func newSigningKeyPEM() ([]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func parseSigningKey(b []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("signing key: want a PEM \"PRIVATE KEY\" block (PKCS#8, ECDSA P-256)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("signing key: must be ECDSA P-256")
	}
	return ec, nil
}

// newEncryptionKeyLine makes a 256-bit key named by a hash of itself, so two
// installations never share a key id by accident.
func newEncryptionKeyLine() ([]byte, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(secret)
	return fmt.Appendf(nil, "k%s %s\n", hex.EncodeToString(sum[:4]), base64.StdEncoding.EncodeToString(secret)), nil
}

// parseEncryptionKeys reads "kid base64" (or "kid:base64") lines; the last
// key is current and the others still decrypt.
func parseEncryptionKeys(b []byte) (*models.Cipher, error) {
	var keys []models.Key
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kid, secret, ok := strings.Cut(strings.Replace(line, ":", " ", 1), " ")
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(secret))
		if !ok || err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("encryption key line %d: want \"<key-id> <base64 of 32 bytes>\"", n)
		}
		keys = append(keys, models.Key{ID: kid, Secret: raw})
	}
	if len(keys) == 0 {
		return nil, errors.New("encryption key: none found")
	}
	c, err := models.NewCipher(keys[len(keys)-1], keys[:len(keys)-1]...)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	return c, nil
}
