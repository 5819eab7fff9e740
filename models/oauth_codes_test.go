package models

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestCreateAuthCode(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")

	c := testAuthCode("code-1", "a", alice.ID)
	c.FamilyID = "chosen by the caller"
	if err := s.CreateAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 || len(c.FamilyID) != 26 || c.UsedAt != nil || c.CreatedAt.IsZero() {
		t.Errorf("created code = %+v", c)
	}
	if err := s.CreateAuthCode(ctx, testAuthCode("code-1", "a", alice.ID)); !errors.Is(err, ErrConflict) {
		t.Errorf("same code twice: err = %v, want ErrConflict", err)
	}
	if err := s.CreateAuthCode(ctx, testAuthCode("code-2", "missing", alice.ID)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown client: err = %v, want ErrNotFound", err)
	}
	if err := s.CreateAuthCode(ctx, testAuthCode("code-3", "a", alice.ID+1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: err = %v, want ErrNotFound", err)
	}

	tests := []struct {
		name string
		edit func(c *AuthCode)
		want []string
	}{
		{"raw code instead of its hash", func(c *AuthCode) { c.CodeHash = "code-4" }, []string{"code_hash"}},
		{"no client or user", func(c *AuthCode) { c.ClientID, c.UserID = "", 0 }, []string{"client_id", "user_id"}},
		{"no redirect URI", func(c *AuthCode) { c.RedirectURI = "" }, []string{"redirect_uri"}},
		{"plain challenge", func(c *AuthCode) { c.CodeChallenge = "verifier" }, []string{"code_challenge"}},
		{"challenge with padding", func(c *AuthCode) { c.CodeChallenge = testChallenge[:42] + "=" }, []string{"code_challenge"}},
		{"no expiry", func(c *AuthCode) { c.ExpiresAt = time.Time{} }, []string{"expires_at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testAuthCode("code-4", "a", alice.ID)
			tt.edit(c)
			if got := invalidFields(t, s.CreateAuthCode(ctx, c)); !slices.Equal(got, tt.want) {
				t.Errorf("invalid fields = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRedeemAuthCode(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	c := testAuthCode("code-1", "a", alice.ID)
	if err := s.CreateAuthCode(ctx, c); err != nil {
		t.Fatal(err)
	}

	at := time.Now()
	got, err := s.RedeemAuthCode(ctx, HashToken("code-1"), at)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.FamilyID != c.FamilyID || got.ClientID != "a" || got.UserID != alice.ID ||
		got.CodeChallenge != testChallenge || got.RedirectURI != c.RedirectURI || got.Resource != testResource ||
		got.UsedAt == nil || !got.UsedAt.Equal(dbTime(at)) {
		t.Errorf("redeemed code = %+v", got)
	}
	if _, err := s.RedeemAuthCode(ctx, HashToken("no such code"), at); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown code: err = %v, want ErrNotFound", err)
	}

	expired := testAuthCode("code-2", "a", alice.ID)
	expired.ExpiresAt = at.Add(-time.Second)
	if err := s.CreateAuthCode(ctx, expired); err != nil {
		t.Fatal(err)
	}
	for range 2 { // an expired code stays unused: refused the same way again
		if _, err := s.RedeemAuthCode(ctx, HashToken("code-2"), at); !errors.Is(err, ErrCodeExpired) {
			t.Errorf("expired code: err = %v, want ErrCodeExpired", err)
		}
	}
	atExpiry := testAuthCode("code-3", "a", alice.ID)
	if err := s.CreateAuthCode(ctx, atExpiry); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RedeemAuthCode(ctx, HashToken("code-3"), atExpiry.ExpiresAt); !errors.Is(err, ErrCodeExpired) {
		t.Errorf("code at its expiry instant: err = %v, want ErrCodeExpired", err)
	}
}

// TestAuthCodeReuseRevokesItsFamily replays a code after tokens were
// issued from it.
func TestAuthCodeReuseRevokesItsFamily(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	hour := time.Now().Add(time.Hour)
	g := newGrant(t, s, "a", alice.ID)
	g.refresh(t, s, "rt-1", hour)
	if _, err := s.RotateRefreshToken(ctx, HashToken("rt-1"), "a", &RefreshToken{TokenHash: HashToken("rt-2"), ExpiresAt: hour}, time.Now()); err != nil {
		t.Fatal(err)
	}
	g.access(t, s, "jti-1", hour)
	g.access(t, s, "jti-2", hour)
	other := newGrant(t, s, "a", alice.ID) // another authorization, untouched
	other.access(t, s, "jti-other", hour)

	_, err := s.RedeemAuthCode(ctx, g.code.CodeHash, time.Now())
	if !errors.Is(err, ErrCodeReused) {
		t.Fatalf("replay: err = %v, want ErrCodeReused", err)
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"jti-1", "jti-2"}) {
		t.Errorf("revoked = %v, want the family's access tokens", got)
	}
	for _, raw := range []string{"rt-1", "rt-2"} {
		if rt := refreshToken(t, s, raw); rt.RevokedAt == nil {
			t.Errorf("refresh token %s not revoked", raw)
		}
	}
	// Whatever the first redemption's handler still issues is refused.
	late := &AccessTokenRecord{JTI: "jti-late", FamilyID: g.family, ClientID: "a", UserID: alice.ID, ExpiresAt: hour}
	if err := s.RecordAccessToken(ctx, late); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("token issued in the revoked family: err = %v, want ErrTokenRevoked", err)
	}
	if n := activeTokens(t, s, "a"); n != 1 {
		t.Errorf("%d active tokens, want the other grant's 1", n)
	}
	// A used code is a reuse even once expired.
	if _, err := s.RedeemAuthCode(ctx, g.code.CodeHash, g.code.ExpiresAt.Add(time.Hour)); !errors.Is(err, ErrCodeReused) {
		t.Errorf("replay after expiry: err = %v, want ErrCodeReused", err)
	}
}

// TestRedeemAuthCodeConcurrently races ten redemptions of one code: the
// database, not luck, must let exactly one through.
func TestRedeemAuthCodeConcurrently(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	if err := s.CreateAuthCode(ctx, testAuthCode("contested", "a", alice.ID)); err != nil {
		t.Fatal(err)
	}
	const n = 10
	errs := make([]error, n)
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = s.RedeemAuthCode(ctx, HashToken("contested"), time.Now())
		})
	}
	close(start)
	wg.Wait()
	var won, reused int
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, ErrCodeReused):
			reused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 || reused != n-1 {
		t.Errorf("%d redemptions succeeded and %d were reuses, want 1 and %d", won, reused, n-1)
	}
	if got := rowCount(t, s, "oauth_token_families"); got != 1 {
		t.Errorf("%d token families started, want 1", got)
	}
}
