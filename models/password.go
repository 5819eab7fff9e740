package models

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password policy limits enforced by ValidatePassword.
const (
	MinPasswordChars = 12
	MaxPasswordBytes = 256
)

// argon2Params are the cost settings written into every hash, so a hash
// made under older settings still checks after they change.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	saltLen uint32
	keyLen  uint32
}

// defaultArgonParams suit a 2-core server: 64 MiB, one pass, two lanes,
// which costs on the order of 100 ms per hash.
var defaultArgonParams = argon2Params{memory: 64 * 1024, time: 1, threads: 2, saltLen: 16, keyLen: 32}

// argonParams are the settings new hashes use. Tests lower them in
// TestMain; nothing else writes them.
var argonParams = defaultArgonParams

// hashSlots bounds how many argon2 computations run at once. Each one holds
// argonParams.memory for its duration, so a burst of sign-in attempts would
// otherwise be a cheap way to exhaust the server's memory.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

const phcPrefix = "$argon2id$"

// ValidatePassword checks a new password against the policy: at least
// MinPasswordChars characters and at most MaxPasswordBytes bytes. The
// error is a *ValidationError on the field "password".
func ValidatePassword(pw string) error {
	var v ValidationError
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordChars:
		v.Add("password", fmt.Sprintf("must be at least %d characters", MinPasswordChars))
	case len(pw) > MaxPasswordBytes:
		v.Add("password", fmt.Sprintf("must be at most %d bytes", MaxPasswordBytes))
	}
	return v.Err()
}

// HashPassword hashes pw with argon2id and a random salt, and returns it in
// the PHC string format: $argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("models: hash password: empty password")
	}
	p := argonParams
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("models: hash password: %w", err)
	}
	key := deriveKey(pw, salt, p)
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s", phcPrefix, argon2.Version,
		p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches hash, a string from
// HashPassword. A malformed hash never matches.
func CheckPassword(hash, pw string) bool {
	p, salt, want, err := parsePHC(hash)
	if err != nil {
		return false
	}
	got := deriveKey(pw, salt, p)
	return subtle.ConstantTimeCompare(got, want) == 1
}

// CheckPasswordDummy spends the time CheckPassword would, and returns
// nothing. Call it when the account does not exist, so that an unknown
// email and a wrong password cannot be told apart by how long they take.
func CheckPasswordDummy(pw string) {
	CheckPassword(dummyHash(), pw)
}

// dummyHash is made once with the current parameters, so the dummy check
// costs what a real one does.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("drawbridge-dummy-password")
	if err != nil {
		panic(err) // only crypto/rand failing, which Go treats as fatal anyway
	}
	return h
})

func deriveKey(pw string, salt []byte, p argon2Params) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, p.keyLen)
}

// isPasswordHash reports whether s is a well-formed hash from HashPassword,
// so the store can refuse to save anything else (a plaintext, say).
func isPasswordHash(s string) bool {
	_, _, _, err := parsePHC(s)
	return err == nil
}

// Upper bounds on parameters read back from a stored hash, so a corrupted
// or planted hash cannot make one check cost gigabytes or minutes.
const (
	maxArgonMemory = 1 << 20 // KiB, 1 GiB
	maxArgonTime   = 16
)

func parsePHC(s string) (p argon2Params, salt, key []byte, err error) {
	bad := errors.New("malformed argon2id hash")
	rest, ok := strings.CutPrefix(s, phcPrefix)
	if !ok {
		return p, nil, nil, bad
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 4 {
		return p, nil, nil, bad
	}
	var version int
	if _, err := fmt.Sscanf(parts[0], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, bad
	}
	if _, err := fmt.Sscanf(parts[1], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, nil, nil, bad
	}
	if p.memory == 0 || p.memory > maxArgonMemory || p.time == 0 || p.time > maxArgonTime || p.threads == 0 {
		return p, nil, nil, bad
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[2]); err != nil || len(salt) < 8 {
		return p, nil, nil, bad
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[3]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, bad
	}
	p.saltLen, p.keyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
