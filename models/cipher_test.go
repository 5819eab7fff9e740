package models

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewCipherRejectsBadKeys(t *testing.T) {
	good := testKey("k1", 1)
	tests := []struct {
		name    string
		current Key
		older   []Key
	}{
		{"empty id", testKey("", 1), nil},
		{"upper-case id", testKey("K1", 1), nil},
		{"id with colon", testKey("k:1", 1), nil},
		{"id too long", testKey(strings.Repeat("k", 33), 1), nil},
		{"short secret", Key{ID: "k1", Secret: make([]byte, 16)}, nil},
		{"no secret", Key{ID: "k1"}, nil},
		{"bad older key", good, []Key{{ID: "k0", Secret: make([]byte, 31)}}},
		{"duplicate id", good, []Key{testKey("k1", 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewCipher(tt.current, tt.older...); err == nil {
				t.Error("NewCipher succeeded, want error")
			}
		})
	}
}

func TestCipherRoundTrip(t *testing.T) {
	c := testCipher(t)
	for _, plain := range [][]byte{nil, []byte("s"), []byte("client-secret-123"), bytes.Repeat([]byte{0xff}, 4096)} {
		enc, err := c.Encrypt(plain, "upstream_apps.client_secret:42")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "v1:k1:") {
			t.Errorf("Encrypt = %q, want a v1:k1: prefix", enc)
		}
		if len(plain) > 8 && strings.Contains(enc, string(plain)) {
			t.Errorf("ciphertext %q contains the plaintext", enc)
		}
		got, err := c.Decrypt(enc, "upstream_apps.client_secret:42")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("Decrypt = %q, want %q", got, plain)
		}
	}
	a, _ := c.Encrypt([]byte("same"), "x")
	b, _ := c.Encrypt([]byte("same"), "x")
	if a == b {
		t.Error("two encryptions of the same value are identical: nonce reused")
	}
}

func TestCipherDecryptRejects(t *testing.T) {
	c := testCipher(t)
	const aad = "upstream_apps.client_secret:42"
	enc, err := c.Encrypt([]byte("secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.TrimPrefix(enc, "v1:k1:")
	flipped := []byte(payload)
	flipped[len(flipped)/2] ^= 'A' ^ 'B'
	if flipped[len(flipped)/2] == payload[len(payload)/2] {
		t.Fatal("test did not change the payload")
	}
	tests := []struct {
		name, value, aad string
	}{
		{"wrong aad (another row)", enc, "upstream_apps.client_secret:43"},
		{"empty aad", enc, ""},
		{"tampered payload", "v1:k1:" + string(flipped), aad},
		{"truncated", enc[:len(enc)-4], aad},
		{"unknown key id", "v1:k9:" + payload, aad},
		{"unknown version", "v2:k1:" + payload, aad},
		{"not base64", "v1:k1:!!!!", aad},
		{"too short", "v1:k1:AAAA", aad},
		{"no key id", "v1:" + payload, aad},
		{"plaintext", "secret", aad},
		{"empty", "", aad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Decrypt(tt.value, tt.aad)
			if err == nil {
				t.Fatalf("Decrypt succeeded with %q", got)
			}
			if !strings.HasPrefix(err.Error(), "models: decrypt") {
				t.Errorf("error %q lacks context", err)
			}
		})
	}
}

func TestCipherKeyRotation(t *testing.T) {
	old, err := NewCipher(testKey("2025-01", 1))
	if err != nil {
		t.Fatal(err)
	}
	enc, err := old.Encrypt([]byte("token"), "a")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := NewCipher(testKey("2026-01", 2), testKey("2025-01", 1))
	if err != nil {
		t.Fatal(err)
	}
	if rotated.CurrentKeyID() != "2026-01" {
		t.Errorf("CurrentKeyID = %q", rotated.CurrentKeyID())
	}
	got, err := rotated.Decrypt(enc, "a")
	if err != nil || string(got) != "token" {
		t.Fatalf("older key: Decrypt = %q, %v", got, err)
	}
	fresh, err := rotated.Encrypt(got, "a")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value string
		want  bool
	}{
		{"under the older key", enc, true},
		{"under the current key", fresh, false},
		{"not encrypted", "token", true},
		{"current id as a prefix of another", "v1:2026-01x:AAAA", true},
	}
	for _, tt := range tests {
		if got := rotated.NeedsRotation(tt.value); got != tt.want {
			t.Errorf("%s: NeedsRotation = %v, want %v", tt.name, got, tt.want)
		}
	}
	// A cipher that dropped the old key cannot read the old value.
	newOnly, err := NewCipher(testKey("2026-01", 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newOnly.Decrypt(enc, "a"); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("Decrypt without the old key: err = %v, want unknown key", err)
	}
}

func FuzzCipherDecrypt(f *testing.F) {
	c, err := NewCipher(testKey("k1", 1), testKey("k0", 2))
	if err != nil {
		f.Fatal(err)
	}
	valid, err := c.Encrypt([]byte("secret"), "t.c:1")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{valid, "", "v1:", "v1:k1:", "v1:k0:AAAA", "v1:k1:" + strings.Repeat("A", 40), "v2:k1:x", ":::"} {
		f.Add(seed, "t.c:1")
	}
	f.Fuzz(func(t *testing.T, value, aad string) {
		plain, err := c.Decrypt(value, aad)
		if err == nil && (aad != "t.c:1" || string(plain) != "secret") {
			// Forging a GCM tag by chance is not something fuzzing does.
			t.Errorf("Decrypt(%q, %q) = %q, want an error", value, aad, plain)
		}
		c.NeedsRotation(value)
	})
}

func TestCipherKeyedHash(t *testing.T) {
	a, _ := NewCipher(testKey("k1", 1))
	again, _ := NewCipher(testKey("k1", 1), testKey("k0", 9))
	other, _ := NewCipher(testKey("k2", 2), testKey("k1", 1))
	h := a.KeyedHash("p", "alice@example.com")
	if len(h) != 64 || h != again.KeyedHash("p", "alice@example.com") {
		t.Errorf("the same current key hashes differently: %s", h)
	}
	for name, other := range map[string]string{
		"another purpose":                a.KeyedHash("q", "alice@example.com"),
		"another value":                  a.KeyedHash("p", "bob@example.com"),
		"another current key":            other.KeyedHash("p", "alice@example.com"),
		"purpose and value run together": a.KeyedHash("pa", "lice@example.com"),
	} {
		if other == h {
			t.Errorf("%s hashes the same", name)
		}
	}
}
