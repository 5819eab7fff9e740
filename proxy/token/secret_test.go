package token

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{PrefixAuthorizationCode, PrefixRefreshToken, PrefixClientSecret, ""} {
		for range 50 {
			secret, hash, err := NewSecret(prefix)
			if err != nil {
				t.Fatal(err)
			}
			body, ok := strings.CutPrefix(secret, prefix)
			if !ok {
				t.Fatalf("secret %q lacks prefix %q", secret, prefix)
			}
			raw, err := base64.RawURLEncoding.DecodeString(body)
			if err != nil || len(raw) != 32 {
				t.Fatalf("secret body %q: %d bytes, %v; want 256 bits of base64url", body, len(raw), err)
			}
			if hash != HashSecret(secret) || len(hash) != 64 {
				t.Fatalf("hash %q is not HashSecret(secret)", hash)
			}
			if seen[secret] {
				t.Fatal("secret repeated")
			}
			seen[secret] = true
		}
	}
}

func TestHashSecret(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 appendix B.1.
	if got := HashSecret("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashSecret(abc) = %s", got)
	}
	if HashSecret("dbc_x") == HashSecret("dbr_x") {
		t.Fatal("the prefix is not part of the hash")
	}
}

func TestConstantTimeEqualHash(t *testing.T) {
	a, b := HashSecret("one"), HashSecret("two")
	off := []byte(a)
	off[63] ^= 1
	tests := []struct {
		name string
		x, y string
		want bool
	}{
		{"same", a, a, true},
		{"different", a, b, false},
		{"prefix of the other", a, a[:10], false},
		{"empty and hash", "", a, false},
		{"last char off", a, string(off), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ConstantTimeEqualHash(tt.x, tt.y); got != tt.want {
				t.Fatalf("ConstantTimeEqualHash() = %v, want %v", got, tt.want)
			}
		})
	}
}
