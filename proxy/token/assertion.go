package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// AssertionHeader carries, to the upstream, who a request acts for: a JWT
// signed with the same keys as access tokens (verify it with the JWKS),
// with its own type, so it can never pass for an access token.
const AssertionHeader = "X-Drawbridge-Assertion"

// assertionType is the JOSE "typ" of assertions.
const assertionType = "drawbridge-assertion+jwt"

// maxAssertionCache bounds the assertions kept for reuse; when it is full
// the cache starts over, which costs one signature per identity.
const maxAssertionCache = 10000

// Assertion is what the upstream is told about the caller.
type Assertion struct {
	Subject        string   `json:"sub"`   // the user id
	Email          string   `json:"email"` // the user's email
	Groups         []string `json:"groups,omitempty"`
	Audience       string   `json:"aud"`                 // the route URL
	ServiceAccount string   `json:"sa,omitempty"`        // the service account acting for the user
	ClientID       string   `json:"client_id,omitempty"` // the MCP client
	Issuer         string   `json:"iss"`                 // set by Sign
	IssuedAt       int64    `json:"iat"`                 // set by Sign
	ExpiresAt      int64    `json:"exp"`                 // set by Sign
}

// Asserter signs assertions. A signature costs tens of microseconds, and
// a caller makes many requests in a row: an assertion is reused until
// half its lifetime has passed, so the upstream always receives one with
// at least that much left.
type Asserter struct {
	keys   KeySource
	issuer string
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedAssertion
}

// cachedAssertion is a signed assertion and the kid that signed it: once
// a rotation makes another key current, it is signed again with that one.
type cachedAssertion struct {
	raw       string
	kid       string
	freshTill time.Time
}

// NewAsserter returns an Asserter that signs with keys' current key as
// issuer, for assertions that live ttl (at most MaxTTL).
func NewAsserter(keys KeySource, issuer string, ttl time.Duration) (*Asserter, error) {
	switch {
	case !canSign(keys):
		return nil, errors.New("token: asserter needs a key set")
	case ttl <= 0 || ttl > MaxTTL:
		return nil, fmt.Errorf("token: assertion lifetime %s is outside (0, %s]", ttl, MaxTTL)
	}
	return &Asserter{keys: keys, issuer: issuer, ttl: ttl, now: time.Now, cache: map[string]cachedAssertion{}}, nil
}

// Sign returns a signed assertion of a, reusing a recent one for the same
// identity and audience.
func (s *Asserter) Sign(a Assertion) (string, error) {
	now := s.now()
	keys := s.keys.Load()
	key := assertionKey(a)
	s.mu.Lock()
	c, ok := s.cache[key]
	s.mu.Unlock()
	if ok && now.Before(c.freshTill) && c.kid == keys.KeyID() {
		return c.raw, nil
	}
	issued := time.Unix(now.Unix(), 0)
	a.Issuer, a.IssuedAt, a.ExpiresAt = s.issuer, issued.Unix(), issued.Add(s.ttl).Unix()
	payload, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("token: assertion: %w", err)
	}
	raw, err := keys.sign(assertionType, payload)
	if err != nil {
		return "", fmt.Errorf("token: assertion: %w", err)
	}
	s.mu.Lock()
	if len(s.cache) >= maxAssertionCache {
		clear(s.cache)
	}
	s.cache[key] = cachedAssertion{raw: raw, kid: keys.KeyID(), freshTill: issued.Add(s.ttl / 2)}
	s.mu.Unlock()
	return raw, nil
}

// assertionKey identifies what an assertion says, apart from its times.
func assertionKey(a Assertion) string {
	return strings.Join([]string{a.Subject, a.Email, a.Audience, a.ServiceAccount, a.ClientID, strings.Join(a.Groups, "\x1f")}, "\x1e")
}
