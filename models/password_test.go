package models

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestHashAndCheckPassword(t *testing.T) {
	const pw = "correct horse battery staple"
	hash, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	p := argonParams
	prefix := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", p.memory, p.time, p.threads)
	if !strings.HasPrefix(hash, prefix) || strings.Count(hash, "$") != 5 {
		t.Errorf("hash %q is not PHC argon2id with the current parameters", hash)
	}
	if other, _ := HashPassword(pw); other == hash {
		t.Error("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name, hash, pw string
		want           bool
	}{
		{"right password", hash, pw, true},
		{"wrong password", hash, pw + "!", false},
		{"case differs", hash, strings.ToUpper(pw), false},
		{"empty password", hash, "", false},
		{"empty hash", "", pw, false},
		{"plaintext stored", pw, pw, false},
		{"bcrypt hash", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", pw, false},
		{"argon2i, not id", strings.Replace(hash, "argon2id", "argon2i", 1), pw, false},
		{"other version", strings.Replace(hash, "v=19", "v=16", 1), pw, false},
		{"absurd memory", strings.Replace(hash, fmt.Sprintf("m=%d", p.memory), "m=4294967295", 1), pw, false},
		{"zero time", strings.Replace(hash, fmt.Sprintf("t=%d", p.time), "t=0", 1), pw, false},
		{"hash cut short", hash[:len(hash)-20], pw, false},
		{"missing field", strings.Join(strings.Split(hash, "$")[:4], "$"), pw, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(tt.hash, tt.pw); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckPasswordUsesParametersInHash(t *testing.T) {
	saved := argonParams
	argonParams.memory, argonParams.time = 128, 2
	hash, err := HashPassword("an older password hash")
	argonParams = saved
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(hash, "an older password hash") {
		t.Error("a hash made under other parameters no longer checks")
	}
}

func TestHashPasswordRejectsEmpty(t *testing.T) {
	if _, err := HashPassword(""); err == nil {
		t.Error("HashPassword(\"\") succeeded")
	}
}

func TestCheckPasswordDummy(t *testing.T) {
	// It must not panic, and its hash must be a real one of the current
	// cost, or it would not take the time a real check takes.
	CheckPasswordDummy("anything at all")
	if !isPasswordHash(dummyHash()) || !strings.Contains(dummyHash(), fmt.Sprintf("m=%d,", argonParams.memory)) {
		t.Errorf("dummy hash %q is not a current-cost hash", dummyHash())
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name, pw string
		ok       bool
	}{
		{"12 characters", "abcdefghijkl", true},
		{"11 characters", "abcdefghijk", false},
		{"empty", "", false},
		{"12 multibyte characters", strings.Repeat("é", 12), true},
		{"11 multibyte characters, 22 bytes", strings.Repeat("é", 11), false},
		{"256 bytes", strings.Repeat("a", 256), true},
		{"257 bytes", strings.Repeat("a", 257), false},
		{"129 two-byte characters", strings.Repeat("é", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePassword(tt.pw)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidatePassword = %v, want ok=%v", err, tt.ok)
			}
			var ve *ValidationError
			if err != nil && (!errors.As(err, &ve) || ve.For("password") == "") {
				t.Errorf("error %v is not a *ValidationError on password", err)
			}
		})
	}
}

// BenchmarkHashPasswordProduction measures the real cost, which TestMain
// lowers for every test.
func BenchmarkHashPasswordProduction(b *testing.B) {
	saved := argonParams
	argonParams = defaultArgonParams
	defer func() { argonParams = saved }()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
