package models

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of a Key's Secret (AES-256).
const KeySize = 32

const (
	cipherVersion = "v1"
	nonceSize     = 12
	maxKeyIDLen   = 32
)

// Key is one AES-256 key used to encrypt secrets at rest. The ID is written
// in front of every value encrypted with it, so it must stay stable for as
// long as values encrypted with the key remain in the database.
type Key struct {
	ID     string // short, [a-z0-9-]
	Secret []byte // KeySize bytes
}

// Cipher encrypts and decrypts secrets stored in the database. It encrypts
// with the current key and decrypts with any key it holds, which is how keys
// are rotated: add a new current key, keep the old ones until every value
// has been re-encrypted.
type Cipher struct {
	current string
	aeads   map[string]cipher.AEAD
	// hashKey keys KeyedHash, derived from the current key's secret.
	hashKey []byte
}

// NewCipher returns a Cipher that encrypts with current and can still
// decrypt values encrypted with any of older.
func NewCipher(current Key, older ...Key) (*Cipher, error) {
	c := &Cipher{current: current.ID, aeads: make(map[string]cipher.AEAD, 1+len(older))}
	if len(current.Secret) == KeySize {
		mac := hmac.New(sha256.New, current.Secret)
		mac.Write([]byte("drawbridge keyed hash v1"))
		c.hashKey = mac.Sum(nil)
	}
	for _, k := range append([]Key{current}, older...) {
		if err := validKeyID(k.ID); err != nil {
			return nil, fmt.Errorf("models: new cipher: key %q: %w", k.ID, err)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("models: new cipher: key %q: secret is %d bytes, want %d", k.ID, len(k.Secret), KeySize)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("models: new cipher: key id %q given twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret) // copies the secret into its own schedule
		if err != nil {
			return nil, fmt.Errorf("models: new cipher: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("models: new cipher: key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
	}
	return c, nil
}

func validKeyID(id string) error {
	if id == "" || len(id) > maxKeyIDLen {
		return fmt.Errorf("id must be 1 to %d characters", maxKeyIDLen)
	}
	for _, r := range id {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return errors.New("id may hold only a-z, 0-9 and -")
		}
	}
	return nil
}

// CurrentKeyID returns the ID of the key new values are encrypted with.
func (c *Cipher) CurrentKeyID() string { return c.current }

// Encrypt seals plaintext with the current key (AES-256-GCM, random nonce)
// and returns "v1:<key id>:<base64url(nonce||ciphertext)>".
//
// aad names where the value is stored, such as
// "upstream_apps.client_secret:42"; Decrypt must be given the same string,
// so a ciphertext copied into another row or column does not decrypt.
func (c *Cipher) Encrypt(plaintext []byte, aad string) (string, error) {
	aead := c.aeads[c.current]
	nonce := make([]byte, nonceSize, nonceSize+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("models: encrypt: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, plaintext, []byte(aad))
	return cipherVersion + ":" + c.current + ":" + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Decrypt opens a value made by Encrypt with the same aad. It fails when
// the value is malformed, names a key this Cipher does not hold, or was
// altered, or when aad differs from the one it was sealed with.
func (c *Cipher) Decrypt(s string, aad string) ([]byte, error) {
	version, rest, ok := strings.Cut(s, ":")
	if !ok || version != cipherVersion {
		return nil, errors.New("models: decrypt: not a v1 encrypted value")
	}
	kid, payload, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, errors.New("models: decrypt: not a v1 encrypted value")
	}
	aead, ok := c.aeads[kid]
	if !ok {
		return nil, fmt.Errorf("models: decrypt: unknown key id %q", kid)
	}
	// Strict, so each sealed value has exactly one spelling.
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("models: decrypt: bad encoding: %w", err)
	}
	if len(sealed) < nonceSize+aead.Overhead() {
		return nil, errors.New("models: decrypt: value too short")
	}
	plaintext, err := aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], []byte(aad))
	if err != nil {
		// GCM does not say why; altered bytes, the wrong aad and the wrong
		// key all look the same, and that is what to tell the caller.
		return nil, fmt.Errorf("models: decrypt with key %q: value altered or aad mismatch", kid)
	}
	return plaintext, nil
}

// NeedsRotation reports whether s is not sealed under the current key, so
// a key rotation should re-encrypt it. Values that are not in the v1 format
// at all also report true: rotation then tries them and reports the error,
// rather than skipping them silently.
func (c *Cipher) NeedsRotation(s string) bool {
	return !strings.HasPrefix(s, cipherVersion+":"+c.current+":")
}

// KeyedHash is a hex HMAC-SHA256 of value for purpose, under a key
// derived from the current encryption key: what the store keeps of a
// value it must match later but should not hold, where a plain hash could
// be reversed by guessing (an email, a password typed in the wrong
// field). Every process with the same current key computes the same
// hash; a rotation changes them all, which suits values kept for hours.
func (c *Cipher) KeyedHash(purpose, value string) string {
	mac := hmac.New(sha256.New, c.hashKey)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return hex.EncodeToString(mac.Sum(nil))
}
