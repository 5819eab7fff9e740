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
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
	"github.com/drawbridge/drawbridge/web"
)

// Environment variables that carry keys instead of files in the data dir.
const (
	envSessionKey    = "DRAWBRIDGE_SESSION_KEY"    // base64 of 96 random bytes
	envSigningKey    = "DRAWBRIDGE_SIGNING_KEY"    // PEM, PKCS#8 ECDSA P-256; retired keys may follow
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
// generating any that is missing on first start. On PostgreSQL the
// session and signing keys come from the database instead (see
// keys_shared.go).
func loadKeys(dir string, env environment) (web.Keys, *models.Cipher, error) {
	session, err := secretBytes(env.get(envSessionKey), envSessionKey, filepath.Join(dir, sessionKeyFile), newSessionKey)
	if err != nil {
		return web.Keys{}, nil, err
	}
	if _, err := parseSessionKey(session); err != nil {
		return web.Keys{}, nil, err // before making a signing key
	}
	signing, err := secretBytes(env.get(envSigningKey), envSigningKey, filepath.Join(dir, signingKeyFile), newSigningKeyPEM)
	if err != nil {
		return web.Keys{}, nil, err
	}
	keys, err := parseKeys(session, signing)
	if err != nil {
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

// parseKeys reads the session key (what session.key holds) and the
// signing keys (what signing.pem holds).
func parseKeys(session, signing []byte) (web.Keys, error) {
	var keys web.Keys
	raw, err := parseSessionKey(session)
	if err != nil {
		return keys, err
	}
	keys.SessionHash, keys.SessionBlock = raw[:64], raw[64:]
	sk, err := parseSigningKeys(signing)
	if err != nil {
		return keys, err
	}
	keys.Signing, keys.PreviousSigning = sk.current, sk.verifying(time.Now())
	return keys, nil
}

// parseSessionKey decodes what session.key holds.
func parseSessionKey(b []byte) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != sessionKeyLen {
		return nil, fmt.Errorf("session key: must be base64 of %d bytes", sessionKeyLen)
	}
	return raw, nil
}

// newSessionKey makes what session.key holds: base64 of sessionKeyLen
// random bytes.
func newSessionKey() ([]byte, error) {
	b := make([]byte, sessionKeyLen)
	_, err := rand.Read(b)
	return []byte(base64.StdEncoding.EncodeToString(b) + "\n"), err
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
	}
	return readKeyFile(path, info, envName)
}

// readKeyFile reads the key file at path, described by info, refusing it
// when others may read it.
func readKeyFile(path string, info fs.FileInfo, envName string) ([]byte, error) {
	if info.Mode().Perm()&0o077 != 0 {
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
	return signingKeys{current: k}.encode()
}

// retiredKeyVerifies is how long a signing key retired by a rotation keeps
// verifying: an access token lives at most token.MaxTTL (an assertion, 5
// minutes), and a running Drawbridge signs with the retired key until it
// re-reads its keys (within a second of the rotation), or, for keys given
// in the environment, until it restarts: the extra hour leaves time for
// that.
const retiredKeyVerifies = token.MaxTTL + time.Hour

// retiredAtHeader is the PEM header that marks a retired signing key.
const retiredAtHeader = "Retired-At"

// signingKeys is what signing.pem (or DRAWBRIDGE_SIGNING_KEY) holds: PEM
// "PRIVATE KEY" blocks, the current key first, then the keys rotations
// retired, each with a Retired-At header (RFC 3339). A file of one block,
// as first start writes it, is a current key and nothing else.
type signingKeys struct {
	current *ecdsa.PrivateKey
	retired []retiredKey
}

type retiredKey struct {
	key *ecdsa.PrivateKey
	at  time.Time
}

func parseSigningKeys(b []byte) (signingKeys, error) {
	var ks signingKeys
	for n := 1; ; n++ {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			break
		}
		key, err := parseSigningKey(block)
		if err != nil {
			return ks, fmt.Errorf("signing key %d: %w", n, err)
		}
		at, retired := block.Headers[retiredAtHeader]
		switch {
		case n == 1 && retired:
			return ks, fmt.Errorf("signing key 1: the first key is the current one, but it has a %s header", retiredAtHeader)
		case n == 1:
			ks.current = key
		case !retired:
			return ks, fmt.Errorf("signing key %d: only the first key is current; a later one needs a %s header", n, retiredAtHeader)
		default:
			t, err := time.Parse(time.RFC3339, at)
			if err != nil {
				return ks, fmt.Errorf("signing key %d: %s: want an RFC 3339 time, got %q", n, retiredAtHeader, at)
			}
			ks.retired = append(ks.retired, retiredKey{key: key, at: t})
		}
	}
	if ks.current == nil {
		return ks, errors.New("signing key: want a PEM \"PRIVATE KEY\" block (PKCS#8, ECDSA P-256)")
	}
	return ks, nil
}

// verifying returns the public keys of the retired keys that still verify
// at now.
func (ks signingKeys) verifying(now time.Time) []*ecdsa.PublicKey {
	var out []*ecdsa.PublicKey
	for _, r := range ks.retired {
		if now.Sub(r.at) < retiredKeyVerifies {
			out = append(out, &r.key.PublicKey)
		}
	}
	return out
}

// encode writes ks in the format parseSigningKeys reads.
func (ks signingKeys) encode() ([]byte, error) {
	var buf bytes.Buffer
	write := func(k *ecdsa.PrivateKey, headers map[string]string) error {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return err
		}
		return pem.Encode(&buf, &pem.Block{Type: "PRIVATE KEY", Headers: headers, Bytes: der})
	}
	if err := write(ks.current, nil); err != nil {
		return nil, err
	}
	for _, r := range ks.retired {
		if err := write(r.key, map[string]string{retiredAtHeader: r.at.UTC().Format(time.RFC3339)}); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// parseSigningKey reads one PEM "PRIVATE KEY" block.
func parseSigningKey(block *pem.Block) (*ecdsa.PrivateKey, error) {
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("a PEM %q block, want \"PRIVATE KEY\" (PKCS#8, ECDSA P-256)", block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("must be ECDSA P-256")
	}
	return ec, nil
}

// newEncryptionKeyLine makes a 256-bit key named by the day it was made,
// which tells rotated keys apart at a glance, and a hash of itself, so two
// installations never share a key id by accident.
func newEncryptionKeyLine() ([]byte, error) {
	secret := make([]byte, models.KeySize)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(secret)
	return fmt.Appendf(nil, "k%s-%s %s\n", time.Now().UTC().Format("20060102"), hex.EncodeToString(sum[:4]),
		base64.StdEncoding.EncodeToString(secret)), nil
}

// parseEncryptionKeys reads "kid base64" (or "kid:base64") lines; the last
// key is current and the others still decrypt.
func parseEncryptionKeys(b []byte) (*models.Cipher, error) {
	keys, err := encryptionKeys(b)
	if err != nil {
		return nil, err
	}
	c, err := models.NewCipher(keys[len(keys)-1], keys[:len(keys)-1]...)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	return c, nil
}

// encryptionKeys returns the keys of an encryption.keys file, oldest first.
func encryptionKeys(b []byte) ([]models.Key, error) {
	var keys []models.Key
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		k, ok, err := encryptionKeyLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("encryption key line %d: %w", n, err)
		}
		if ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("encryption key: none found")
	}
	return keys, nil
}

// encryptionKeyLine parses one line of an encryption.keys file; ok is
// false for a blank line or a # comment.
func encryptionKeyLine(line string) (k models.Key, ok bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return k, false, nil
	}
	kid, secret, ok := strings.Cut(strings.Replace(line, ":", " ", 1), " ")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(secret))
	if !ok || err != nil || len(raw) != models.KeySize {
		return k, false, errors.New("want \"<key-id> <base64 of 32 bytes>\"")
	}
	return models.Key{ID: kid, Secret: raw}, true, nil
}
