package token

import (
	"errors"
	"testing"
	"time"
)

func TestVerifyClaims(t *testing.T) {
	key := newKey(t)
	ks := newKeySet(t, key)
	iss := newIssuerAt(t, ks, t0)
	raw, issued := issue(t, iss, routeA) // valid t0 … t0+15m
	exp := issued.ExpiresAt

	tests := []struct {
		name     string
		now      time.Time
		leeway   time.Duration
		issuer   string
		resource string
		revoked  func(string) bool
		want     error
	}{
		{name: "round trip", now: t0.Add(time.Minute), want: nil},
		{name: "last second", now: exp.Add(-time.Second), leeway: -1, want: nil},
		{name: "expired", now: exp.Add(time.Hour), want: ErrExpired},
		{name: "expired exactly, no leeway", now: exp, leeway: -1, want: ErrExpired},
		{name: "expired within leeway", now: exp.Add(20 * time.Second), want: nil},
		{name: "expired beyond leeway", now: exp.Add(31 * time.Second), want: ErrExpired},
		{name: "leeway capped at 2m", now: exp.Add(3 * time.Minute), leeway: time.Hour, want: ErrExpired},
		{name: "leeway of 2m honoured", now: exp.Add(110 * time.Second), leeway: 2 * time.Minute, want: nil},
		{name: "nbf in the future", now: t0.Add(-5 * time.Minute), want: ErrNotYetValid},
		{name: "nbf just ahead, within leeway", now: t0.Add(-20 * time.Second), want: nil},
		{name: "nbf ahead beyond leeway", now: t0.Add(-31 * time.Second), want: ErrNotYetValid},
		{name: "route A token on route B", now: t0, resource: routeB, want: ErrAudience},
		{name: "audience must match exactly", now: t0, resource: routeA + "/", want: ErrAudience},
		{name: "empty resource", now: t0, resource: "-", want: ErrAudience},
		{name: "wrong issuer", now: t0, issuer: "https://evil.example.com", want: ErrIssuer},
		{name: "revoked", now: t0, revoked: func(jti string) bool { return jti == issued.ID }, want: ErrRevoked},
		{name: "only other jtis revoked", now: t0, revoked: func(jti string) bool { return jti != issued.ID }, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := VerifierOptions{Leeway: tt.leeway, Now: func() time.Time { return tt.now }}
			issuer := testIssuer
			if tt.issuer != "" {
				issuer = tt.issuer
			}
			resource := routeA
			switch tt.resource {
			case "":
			case "-":
				resource = ""
			default:
				resource = tt.resource
			}
			revoked := notRevoked
			if tt.revoked != nil {
				revoked = tt.revoked
			}
			v := NewVerifier(ks, issuer, opts)
			// Twice: the second call is served from the cache and must
			// give the same answer.
			for range 2 {
				got, err := v.Verify(raw, resource, revoked)
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Fatalf("Verify() error = %v, want %v", err, tt.want)
				}
				if err == nil && *got != issued {
					t.Fatalf("Verify() claims = %+v, want %+v", *got, issued)
				}
			}
		})
	}
}

func TestVerifyRevokedAfterCached(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	raw, c := issue(t, newIssuerAt(t, ks, t0), routeA)
	v := newVerifierAt(ks, t0, VerifierOptions{})

	revokedSet := map[string]bool{}
	calls := 0
	revoked := func(jti string) bool { calls++; return revokedSet[jti] }

	for i := range 3 {
		if _, err := v.Verify(raw, routeA, revoked); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if v.cache.len() != 1 {
		t.Fatalf("cache holds %d entries, want 1", v.cache.len())
	}
	revokedSet[c.ID] = true
	if _, err := v.Verify(raw, routeA, revoked); !errors.Is(err, ErrRevoked) {
		t.Fatalf("cached token after revocation: err = %v, want ErrRevoked", err)
	}
	if calls != 4 {
		t.Fatalf("revocation checked %d times in 4 calls", calls)
	}
}

func TestVerifyCachedStillChecksAudienceAndExpiry(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	raw, c := issue(t, newIssuerAt(t, ks, t0), routeA)
	now := t0
	v := NewVerifier(ks, testIssuer, VerifierOptions{Now: func() time.Time { return now }})
	if _, err := v.Verify(raw, routeA, notRevoked); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(raw, routeB, notRevoked); !errors.Is(err, ErrAudience) {
		t.Fatalf("cached token on route B: err = %v, want ErrAudience", err)
	}
	now = c.ExpiresAt.Add(DefaultLeeway)
	if _, err := v.Verify(raw, routeA, notRevoked); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached token after exp: err = %v, want ErrExpired", err)
	}
	if n := v.cache.len(); n != 0 {
		t.Fatalf("expired entry still cached (%d entries)", n)
	}
}

func TestVerifyRotation(t *testing.T) {
	oldKey, newKeyPriv := newKey(t), newKey(t)
	oldSet := newKeySet(t, oldKey)
	oldRaw, _ := issue(t, newIssuerAt(t, oldSet, t0), routeA)

	rotated := newKeySet(t, newKeyPriv, &oldKey.PublicKey)
	newRaw, _ := issue(t, newIssuerAt(t, rotated, t0), routeA)
	retired := newKeySet(t, newKeyPriv)

	tests := []struct {
		name string
		keys *KeySet
		raw  string
		want error
	}{
		{"old token, old key still in set", rotated, oldRaw, nil},
		{"new token, rotated set", rotated, newRaw, nil},
		{"old token, old key removed", retired, oldRaw, ErrSignature},
		{"new token, old key removed", retired, newRaw, nil},
		{"new token, old set", oldSet, newRaw, ErrSignature},
		{"nil key set refuses all", nil, newRaw, ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newVerifierAt(tt.keys, t0, VerifierOptions{}).Verify(tt.raw, routeA, notRevoked)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyNeedsRevocationCheck(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	raw, _ := issue(t, newIssuerAt(t, ks, t0), routeA)
	if _, err := newVerifierAt(ks, t0, VerifierOptions{}).Verify(raw, routeA, nil); err == nil {
		t.Fatal("Verify with a nil revocation check accepted the token")
	}
}

func TestVerifyReturnsCopy(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	raw, _ := issue(t, newIssuerAt(t, ks, t0), routeA)
	v := newVerifierAt(ks, t0, VerifierOptions{})
	c, err := v.Verify(raw, routeA, notRevoked)
	if err != nil {
		t.Fatal(err)
	}
	c.Audience, c.Subject = routeB, "0"
	c2, err := v.Verify(raw, routeA, notRevoked)
	if err != nil || c2.Subject != "42" {
		t.Fatalf("changing returned claims changed the cache: %+v, %v", c2, err)
	}
}

func TestInspectIgnoresClockAndAudienceButNotSignature(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	raw, _ := issue(t, newIssuerAt(t, ks, t0), routeA)
	later := newVerifierAt(ks, t0.Add(2*time.Hour), VerifierOptions{}) // long expired
	c, err := later.Inspect(raw)
	if err != nil || c.Audience != routeA {
		t.Fatalf("Inspect(expired token) = %+v, %v; want its claims", c, err)
	}
	other := newVerifierAt(newKeySet(t, newKey(t)), t0, VerifierOptions{})
	if _, err := other.Inspect(raw); !errors.Is(err, ErrSignature) {
		t.Errorf("Inspect with other keys = %v, want ErrSignature", err)
	}
}

func TestVerifyForAcceptsOnlyTheAudiencesItIsTold(t *testing.T) {
	ks := newKeySet(t, newKey(t))
	raw, issued := issue(t, newIssuerAt(t, ks, t0), routeA)
	v := newVerifierAt(ks, t0, VerifierOptions{})
	accepts := func(aud string) bool { return aud == routeA }
	if _, err := v.VerifyFor(raw, routeB, accepts, notRevoked); err != nil {
		t.Fatalf("route A token on route B that accepts route A's audience: %v", err)
	}
	for name, also := range map[string]func(string) bool{
		"nil":             nil,
		"another":         func(aud string) bool { return aud == routeB },
		"a prefix of aud": func(aud string) bool { return aud == routeA[:len(routeA)-1] },
	} {
		if _, err := v.VerifyFor(raw, routeB, also, notRevoked); !errors.Is(err, ErrAudience) {
			t.Errorf("also %s: err = %v, want ErrAudience", name, err)
		}
	}
	revoked := func(jti string) bool { return jti == issued.ID }
	if _, err := v.VerifyFor(raw, routeB, accepts, revoked); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked token through an accepted audience: err = %v, want ErrRevoked", err)
	}
}
