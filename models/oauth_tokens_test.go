package models

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestCreateRefreshTokenNeedsItsFamily(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	bob := createUser(t, s, "bob@example.com")
	createOAuthClient(t, s, "a")
	createOAuthClient(t, s, "b")
	hour := time.Now().Add(time.Hour)
	g := newGrant(t, s, "a", alice.ID)

	rt := g.refresh(t, s, "rt", hour)
	if rt.ID == 0 || rt.CreatedAt.IsZero() || rt.RotatedAt != nil || rt.RevokedAt != nil {
		t.Errorf("created = %+v", rt)
	}
	if got := refreshToken(t, s, "rt"); got.FamilyID != g.family || got.UserID != alice.ID || got.Scope != "mcp" {
		t.Errorf("GetRefreshToken = %+v", got)
	}
	if _, err := s.GetRefreshToken(ctx, HashToken("other")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown token: err = %v, want ErrNotFound", err)
	}
	tests := []struct {
		name string
		edit func(r *RefreshToken)
		want error
	}{
		{"no such family", func(r *RefreshToken) { r.FamilyID = "NOSUCHFAMILY" }, ErrNotFound},
		{"family of another user", func(r *RefreshToken) { r.UserID = bob.ID }, ErrNotFound},
		{"family of another client", func(r *RefreshToken) { r.ClientID = "b" }, ErrNotFound},
		{"same hash twice", func(r *RefreshToken) { r.TokenHash = HashToken("rt") }, ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &RefreshToken{TokenHash: HashToken("rt-x"), FamilyID: g.family, ClientID: "a", UserID: alice.ID, ExpiresAt: hour}
			tt.edit(r)
			if err := s.CreateRefreshToken(ctx, r); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	raw := &RefreshToken{TokenHash: "rt-raw", FamilyID: g.family, ClientID: "a", UserID: alice.ID}
	if got := invalidFields(t, s.CreateRefreshToken(ctx, raw)); !slices.Equal(got, []string{"token_hash", "expires_at"}) {
		t.Errorf("invalid fields = %v", got)
	}
}

func TestRecordAccessToken(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	g := newGrant(t, s, "a", alice.ID)
	r := g.access(t, s, "jti-1", time.Now().Add(time.Hour))
	if r.ID == 0 || r.CreatedAt.IsZero() {
		t.Errorf("recorded = %+v", r)
	}
	dup := &AccessTokenRecord{JTI: "jti-1", FamilyID: g.family, ClientID: "a", UserID: alice.ID, ExpiresAt: r.ExpiresAt}
	if err := s.RecordAccessToken(ctx, dup); !errors.Is(err, ErrConflict) {
		t.Errorf("same jti twice: err = %v, want ErrConflict", err)
	}
	orphan := &AccessTokenRecord{JTI: "jti-2", FamilyID: "NOSUCHFAMILY", ClientID: "a", UserID: alice.ID, ExpiresAt: r.ExpiresAt}
	if err := s.RecordAccessToken(ctx, orphan); !errors.Is(err, ErrNotFound) {
		t.Errorf("no such family: err = %v, want ErrNotFound", err)
	}
	if got := invalidFields(t, s.RecordAccessToken(ctx, &AccessTokenRecord{JTI: "has space"})); !slices.Equal(got,
		[]string{"jti", "family_id", "client_id", "user_id", "expires_at"}) {
		t.Errorf("invalid fields = %v", got)
	}
	if n := activeTokens(t, s, "a"); n != 1 {
		t.Errorf("%d active tokens, want 1", n)
	}
}

func TestRotateRefreshToken(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	hour := time.Now().Add(time.Hour)
	g := newGrant(t, s, "a", alice.ID)
	g.refresh(t, s, "rt-1", hour)

	at := time.Now()
	next := &RefreshToken{TokenHash: HashToken("rt-2"), ExpiresAt: hour, FamilyID: "ignored", UserID: 999, Scope: "ignored"}
	old, err := s.RotateRefreshToken(ctx, HashToken("rt-1"), "a", next, at)
	if err != nil {
		t.Fatal(err)
	}
	if old.TokenHash != HashToken("rt-1") || old.RotatedAt == nil || !old.RotatedAt.Equal(dbTime(at)) {
		t.Errorf("old token = %+v", old)
	}
	if next.ID == 0 || next.FamilyID != g.family || next.ClientID != "a" || next.UserID != alice.ID ||
		next.Resource != testResource || next.Scope != "mcp" || next.RotatedAt != nil {
		t.Errorf("next token = %+v", next)
	}
	if got := refreshToken(t, s, "rt-2"); got.ID != next.ID {
		t.Errorf("stored next = %+v", got)
	}
	third := &RefreshToken{TokenHash: HashToken("rt-3"), ExpiresAt: hour}
	if _, err := s.RotateRefreshToken(ctx, HashToken("rt-2"), "a", third, time.Now()); err != nil {
		t.Fatalf("rotating the new token: %v", err)
	}
	if n := activeTokens(t, s, "a"); n != 1 {
		t.Errorf("%d active tokens, want the one family", n)
	}
}

// TestRefreshTokenReuseRevokesTheFamily replays a rotated refresh token:
// whoever holds the family's tokens, thief or client, loses them all.
func TestRefreshTokenReuseRevokesTheFamily(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	hour := time.Now().Add(time.Hour)
	g := newGrant(t, s, "a", alice.ID)
	g.refresh(t, s, "rt-1", hour)
	g.access(t, s, "jti-1", hour)
	rotate := func(from, to string) error {
		_, err := s.RotateRefreshToken(ctx, HashToken(from), "a", &RefreshToken{TokenHash: HashToken(to), ExpiresAt: hour}, time.Now())
		return err
	}
	if err := rotate("rt-1", "rt-2"); err != nil {
		t.Fatal(err)
	}
	g.access(t, s, "jti-2", hour)
	other := newGrant(t, s, "a", alice.ID)
	other.refresh(t, s, "other", hour)

	if err := rotate("rt-1", "rt-thief"); !errors.Is(err, ErrTokenReused) {
		t.Fatalf("replay: err = %v, want ErrTokenReused", err)
	}
	if _, err := s.GetRefreshToken(ctx, HashToken("rt-thief")); !errors.Is(err, ErrNotFound) {
		t.Errorf("the replay's token was stored: %v", err)
	}
	for _, raw := range []string{"rt-1", "rt-2"} {
		if rt := refreshToken(t, s, raw); rt.RevokedAt == nil {
			t.Errorf("%s not revoked", raw)
		}
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"jti-1", "jti-2"}) {
		t.Errorf("revoked = %v, want the family's access tokens", got)
	}
	if err := rotate("rt-2", "rt-3"); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("the family's live token after the replay: err = %v, want ErrTokenRevoked", err)
	}
	if rt := refreshToken(t, s, "other"); rt.RevokedAt != nil {
		t.Error("another family was revoked")
	}
}

func TestRotateRefreshTokenRefusals(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")
	createOAuthClient(t, s, "b")
	hour := time.Now().Add(time.Hour)
	g := newGrant(t, s, "a", alice.ID)
	live := g.refresh(t, s, "live", hour)
	g.refresh(t, s, "expired", time.Now().Add(-time.Minute))
	revoked := newGrant(t, s, "a", alice.ID)
	revoked.refresh(t, s, "revoked", hour)
	if err := s.RevokeRefreshToken(ctx, HashToken("revoked"), time.Now()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, raw, client string
		next              *RefreshToken
		want              error
	}{
		{"unknown", "nope", "a", nil, ErrNotFound},
		{"another client's", "live", "b", nil, ErrNotFound},
		{"expired", "expired", "a", nil, ErrTokenExpired},
		{"revoked", "revoked", "a", nil, ErrTokenRevoked},
		{"next with a raw token", "live", "a", &RefreshToken{TokenHash: "raw", ExpiresAt: hour}, &ValidationError{}},
		{"next already expired", "live", "a", &RefreshToken{TokenHash: HashToken("n"), ExpiresAt: time.Now().Add(-time.Second)}, &ValidationError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := tt.next
			if next == nil {
				next = &RefreshToken{TokenHash: HashToken("next"), ExpiresAt: hour}
			}
			_, err := s.RotateRefreshToken(ctx, HashToken(tt.raw), tt.client, next, time.Now())
			var ve *ValidationError
			if _, wantInvalid := tt.want.(*ValidationError); wantInvalid && !errors.As(err, &ve) || !wantInvalid && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// None of the refusals spent the live token.
	if rt := refreshToken(t, s, "live"); rt.RotatedAt != nil || rt.RevokedAt != nil || rt.ID != live.ID {
		t.Errorf("live token after the refusals: %+v", rt)
	}
}
