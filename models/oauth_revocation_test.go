package models

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestRevokedAccessTokens(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	g := newGrant(t, s, "a", alice.ID)
	now := time.Now()
	g.access(t, s, "live", now.Add(time.Hour))
	g.access(t, s, "revoked-b", now.Add(time.Hour))
	g.access(t, s, "revoked-a", now.Add(2*time.Minute))
	g.access(t, s, "revoked-then-expired", now.Add(time.Minute))
	for _, jti := range []string{"revoked-b", "revoked-a", "revoked-then-expired"} {
		if err := s.RevokeAccessToken(ctx, jti, now); err != nil {
			t.Fatal(err)
		}
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"revoked-a", "revoked-b", "revoked-then-expired"}) {
		t.Errorf("now: revoked = %v", got)
	}
	later, err := s.RevokedAccessTokens(ctx, now.Add(90*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(later, []string{"revoked-a", "revoked-b"}) {
		t.Errorf("once one expired: revoked = %v, want it dropped", later)
	}
	none, err := s.RevokedAccessTokens(ctx, now.Add(2*time.Hour))
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("after every expiry: %#v, %v; want an empty list", none, err)
	}
}

func TestRevokeAccessAndRefreshTokens(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	hour := time.Now().Add(time.Hour)
	g := newGrant(t, s, "a", alice.ID)
	g.refresh(t, s, "rt", hour)
	g.access(t, s, "jti-1", hour)
	g.access(t, s, "jti-2", hour)

	if err := s.RevokeAccessToken(ctx, "jti-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"jti-1"}) {
		t.Errorf("revoking one access token revoked %v", got)
	}
	if rt := refreshToken(t, s, "rt"); rt.RevokedAt != nil {
		t.Error("revoking an access token revoked its refresh token")
	}
	if err := s.RevokeAccessToken(ctx, "missing", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown jti: err = %v, want ErrNotFound", err)
	}
	if err := s.RevokeRefreshToken(ctx, HashToken("rt"), time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"jti-1", "jti-2"}) {
		t.Errorf("revoking the refresh token revoked %v, want its family's access tokens too", got)
	}
	if err := s.RevokeRefreshToken(ctx, HashToken("missing"), time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown refresh token: err = %v, want ErrNotFound", err)
	}
	if n := activeTokens(t, s, "a"); n != 0 {
		t.Errorf("%d active tokens left, want 0", n)
	}
}

func TestRevokeClientTokens(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	bob := createUser(t, s, "bob@example.com")
	createOAuthClient(t, s, "a")
	createOAuthClient(t, s, "b")
	hour := time.Now().Add(time.Hour)
	ga := newGrant(t, s, "a", alice.ID)
	ga.refresh(t, s, "alice-rt", hour)
	ga.access(t, s, "alice-1", hour)
	ga.access(t, s, "alice-expired", time.Now().Add(-time.Minute))
	gb := newGrant(t, s, "a", bob.ID)
	gb.refresh(t, s, "bob-rt", hour)
	gb.access(t, s, "bob-1", hour)
	newGrant(t, s, "b", alice.ID).access(t, s, "other-client", hour)
	pending := testAuthCode("alice-pending", "a", alice.ID)
	if err := s.CreateAuthCode(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if n := activeTokens(t, s, "a"); n != 4 {
		t.Fatalf("%d active tokens, want 2 families and 2 access tokens", n)
	}

	n, err := s.RevokeClientTokens(ctx, "a", &alice.ID, time.Now())
	if err != nil || n != 2 {
		t.Errorf("revoke alice's = %d, %v; want 2", n, err)
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"alice-1"}) {
		t.Errorf("revoked = %v, want alice's live token", got)
	}
	if _, err := s.RedeemAuthCode(ctx, HashToken("alice-pending"), time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("alice's pending code: err = %v, want ErrNotFound", err)
	}
	n, err = s.RevokeClientTokens(ctx, "a", nil, time.Now())
	if err != nil || n != 2 {
		t.Errorf("revoke the rest = %d, %v; want bob's 2", n, err)
	}
	if n := activeTokens(t, s, "a"); n != 0 {
		t.Errorf("%d active tokens left, want 0", n)
	}
	if n := activeTokens(t, s, "b"); n != 1 {
		t.Errorf("the other client has %d active tokens, want 1", n)
	}
	if n, err := s.RevokeClientTokens(ctx, "a", nil, time.Now()); err != nil || n != 0 {
		t.Errorf("revoking again = %d, %v; want 0", n, err)
	}
	if _, err := s.RevokeClientTokens(ctx, "missing", nil, time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown client: err = %v, want ErrNotFound", err)
	}
}

// TestEveryRevocationBumpsOnceAndRecordsNothing runs each OAuth write
// against a fresh store: those that revoke something bump the version
// exactly once, so every process hears of it; none records history.
func TestEveryRevocationBumpsOnceAndRecordsNothing(t *testing.T) {
	ctx := context.Background()
	type fixture struct {
		client *OAuthClient
		user   *User
		grant  grant
	}
	hour := time.Now().Add(time.Hour)
	rotate := func(s *Store, from string) error {
		_, err := s.RotateRefreshToken(ctx, HashToken(from), "a", &RefreshToken{TokenHash: HashToken("next-" + from), ExpiresAt: hour}, time.Now())
		return err
	}
	tests := []struct {
		name      string
		write     func(s *Store, f fixture) error
		wantErr   error
		wantBumps int64
	}{
		{"revoke access token", func(s *Store, f fixture) error { return s.RevokeAccessToken(ctx, "jti", time.Now()) }, nil, 1},
		{"revoke refresh token", func(s *Store, f fixture) error { return s.RevokeRefreshToken(ctx, HashToken("rt"), time.Now()) }, nil, 1},
		{"revoke client tokens", func(s *Store, f fixture) error {
			_, err := s.RevokeClientTokens(ctx, "a", nil, time.Now())
			return err
		}, nil, 1},
		{"revoke one user's client tokens", func(s *Store, f fixture) error {
			_, err := s.RevokeClientTokens(ctx, "a", &f.user.ID, time.Now())
			return err
		}, nil, 1},
		{"withdraw consent", func(s *Store, f fixture) error { return s.WithdrawConsent(ctx, f.user.ID, "a", time.Now()) }, nil, 1},
		{"disable client", func(s *Store, f fixture) error { return s.DisableOAuthClient(ctx, f.client.ID, true) }, nil, 1},
		{"delete client", func(s *Store, f fixture) error { return s.DeleteOAuthClient(ctx, f.client.ID) }, nil, 1},
		{"replay a code", func(s *Store, f fixture) error {
			_, err := s.RedeemAuthCode(ctx, f.grant.code.CodeHash, time.Now())
			return err
		}, ErrCodeReused, 1},
		{"replay a refresh token", func(s *Store, f fixture) error {
			if err := rotate(s, "rt"); err != nil {
				return err
			}
			return rotate(s, "rt")
		}, ErrTokenReused, 1},

		// Writes that revoke nothing leave the version alone.
		{"revoke a revoked access token", func(s *Store, f fixture) error {
			if err := s.RevokeAccessToken(ctx, "jti", time.Now()); err != nil {
				return err
			}
			return s.RevokeAccessToken(ctx, "jti", time.Now())
		}, nil, 1},
		{"revoke an unknown access token", func(s *Store, f fixture) error { return s.RevokeAccessToken(ctx, "nope", time.Now()) }, ErrNotFound, 0},
		{"enable an enabled client", func(s *Store, f fixture) error { return s.DisableOAuthClient(ctx, f.client.ID, false) }, nil, 0},
		{"rotate", func(s *Store, f fixture) error { return rotate(s, "rt") }, nil, 0},
		{"rotate, expired", func(s *Store, f fixture) error {
			_, err := s.RotateRefreshToken(ctx, HashToken("rt"), "a", &RefreshToken{TokenHash: HashToken("n"), ExpiresAt: hour.Add(time.Hour)}, hour)
			return err
		}, ErrTokenExpired, 0},
		{"register a client", func(s *Store, f fixture) error { return s.CreateOAuthClient(ctx, testOAuthClient("new")) }, nil, 0},
		{"redeem a code", func(s *Store, f fixture) error {
			if err := s.CreateAuthCode(ctx, testAuthCode("new", "a", f.user.ID)); err != nil {
				return err
			}
			_, err := s.RedeemAuthCode(ctx, HashToken("new"), time.Now())
			return err
		}, nil, 0},
		{"grant consent", func(s *Store, f fixture) error {
			return s.GrantConsent(ctx, &Consent{UserID: f.user.ID, ClientID: "a", Resource: "http://other.localhost"})
		}, nil, 0},
		{"touch client", func(s *Store, f fixture) error { return s.TouchOAuthClient(ctx, "a", time.Now()) }, nil, 0},
		{"purge", func(s *Store, f fixture) error {
			_, err := s.PurgeExpired(ctx, time.Now().Add(48*time.Hour), 0)
			return err
		}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			f := fixture{user: createUser(t, s, "alice@example.com"), client: createOAuthClient(t, s, "a")}
			f.grant = newGrant(t, s, "a", f.user.ID)
			f.grant.refresh(t, s, "rt", hour)
			f.grant.access(t, s, "jti", hour)
			if err := s.GrantConsent(ctx, &Consent{UserID: f.user.ID, ClientID: "a", Resource: testResource}); err != nil {
				t.Fatal(err)
			}
			v0, n0 := configVersionOf(t, s), changeCount(t, s)
			err := tt.write(s, f)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := configVersionOf(t, s) - v0; got != tt.wantBumps {
				t.Errorf("config version moved by %d, want %d", got, tt.wantBumps)
			}
			if got := changeCount(t, s) - n0; got != 0 {
				t.Errorf("%d history rows recorded, want none", got)
			}
		})
	}
}

func TestPurgeExpired(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	now := time.Now()
	day := 24 * time.Hour

	// A family whose first refresh token expired long ago but whose
	// current one lives: the old one stays, so its replay is still caught.
	living := newGrant(t, s, "a", alice.ID)
	living.refresh(t, s, "old", now.Add(-3*day))
	living.refresh(t, s, "current", now.Add(day))
	living.access(t, s, "fresh", now.Add(time.Hour))
	living.access(t, s, "stale", now.Add(-3*day))
	// A family entirely expired long ago.
	dead := newGrant(t, s, "a", alice.ID)
	dead.refresh(t, s, "dead", now.Add(-3*day))
	// Expired, but within what is kept.
	recent := newGrant(t, s, "a", alice.ID)
	recent.refresh(t, s, "recent", now.Add(-time.Hour))
	old := testAuthCode("old-code", "a", alice.ID)
	old.ExpiresAt = now.Add(-3 * day)
	if err := s.CreateAuthCode(ctx, old); err != nil {
		t.Fatal(err)
	}
	// Families are kept while recent: make two of them look old.
	err := s.db.Model(&tokenFamily{}).Where("family_id IN ?", []string{living.family, dead.family}).
		UpdateColumns(map[string]any{"created_at": now.Add(-4 * day), "last_issued_at": now.Add(-4 * day)}).Error
	if err != nil {
		t.Fatal(err)
	}
	// The grants' own codes (unexpired) stay.
	codes0 := rowCount(t, s, "oauth_auth_codes")

	n, err := s.PurgeExpired(ctx, now, day)
	if err != nil {
		t.Fatal(err)
	}
	// The old code, the stale access token, the dead refresh token and
	// the dead family.
	if n != 4 {
		t.Errorf("purged %d rows, want 4", n)
	}
	if got := rowCount(t, s, "oauth_auth_codes"); got != codes0-1 {
		t.Errorf("%d codes left, want %d", got, codes0-1)
	}
	for _, raw := range []string{"old", "current", "recent"} {
		if _, err := s.GetRefreshToken(ctx, HashToken(raw)); err != nil {
			t.Errorf("refresh token %s purged: %v", raw, err)
		}
	}
	if _, err := s.GetRefreshToken(ctx, HashToken("dead")); !errors.Is(err, ErrNotFound) {
		t.Errorf("dead refresh token: err = %v, want purged", err)
	}
	if got := rowCount(t, s, "oauth_token_families"); got != 2 {
		t.Errorf("%d families left, want 2", got)
	}
	if got := rowCount(t, s, "oauth_access_tokens"); got != 1 {
		t.Errorf("%d access tokens left, want the fresh one", got)
	}
	if n, err := s.PurgeExpired(ctx, now, day); err != nil || n != 0 {
		t.Errorf("purging again = %d, %v; want 0", n, err)
	}
	// A negative keep is no keep.
	if n, err := s.PurgeExpired(ctx, now, -day); err != nil || n != 1 {
		t.Errorf("purge with no keep = %d, %v; want the recent refresh token", n, err)
	}
}
