package models

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestDisableOAuthClient(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	c := createOAuthClient(t, s, "a")
	other := createOAuthClient(t, s, "b")
	g := newGrant(t, s, "a", alice.ID)
	hour := time.Now().Add(time.Hour)
	g.refresh(t, s, "rt", hour)
	g.access(t, s, "jti-a", hour)
	newGrant(t, s, "b", alice.ID).access(t, s, "jti-b", hour)
	pending := testAuthCode("pending", "a", alice.ID)
	if err := s.CreateAuthCode(ctx, pending); err != nil {
		t.Fatal(err)
	}

	if err := s.DisableOAuthClient(ctx, c.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetOAuthClient(ctx, "a"); !got.Disabled {
		t.Error("client not disabled")
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"jti-a"}) {
		t.Errorf("revoked = %v, want only the disabled client's token", got)
	}
	if rt := refreshToken(t, s, "rt"); rt.RevokedAt == nil {
		t.Error("refresh token of the disabled client not revoked")
	}
	if _, err := s.RedeemAuthCode(ctx, HashToken("pending"), time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("pending code after disabling: err = %v, want ErrNotFound", err)
	}
	if n := activeTokens(t, s, "b"); n != 1 {
		t.Errorf("other client has %d active tokens, want 1", n)
	}

	v := configVersionOf(t, s)
	if err := s.DisableOAuthClient(ctx, c.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := configVersionOf(t, s); got != v {
		t.Error("disabling a disabled client moved the config version")
	}
	if err := s.DisableOAuthClient(ctx, c.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetOAuthClient(ctx, "a"); got.Disabled {
		t.Error("client not re-enabled")
	}
	if rt := refreshToken(t, s, "rt"); rt.RevokedAt == nil {
		t.Error("re-enabling gave a revoked token back")
	}
	if err := s.DisableOAuthClient(ctx, other.ID+1, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing client: err = %v, want ErrNotFound", err)
	}
}

func TestDeleteOAuthClientCascades(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	c := createOAuthClient(t, s, "a")
	createOAuthClient(t, s, "b")
	hour := time.Now().Add(time.Hour)
	g := newGrant(t, s, "a", alice.ID)
	g.refresh(t, s, "rt", hour)
	g.access(t, s, "jti-a", hour)
	kept := newGrant(t, s, "b", alice.ID)
	kept.access(t, s, "jti-b", hour)
	for _, client := range []string{"a", "b"} {
		if err := s.GrantConsent(ctx, &Consent{UserID: alice.ID, ClientID: client, Resource: testResource}); err != nil {
			t.Fatal(err)
		}
	}

	if err := s.DeleteOAuthClient(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOAuthClient(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted client: err = %v, want ErrNotFound", err)
	}
	for table, want := range map[string]int64{
		"oauth_auth_codes":     1, // b's
		"oauth_token_families": 1,
		"oauth_refresh_tokens": 0,
		"oauth_consents":       1,
		"oauth_access_tokens":  2, // a's stays, revoked, until it expires
	} {
		if n := rowCount(t, s, table); n != want {
			t.Errorf("%s has %d rows, want %d", table, n, want)
		}
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"jti-a"}) {
		t.Errorf("revoked = %v, want the deleted client's token", got)
	}
	if ok, _ := s.HasConsent(ctx, alice.ID, "b", testResource); !ok {
		t.Error("the other client's consent went too")
	}
	if err := s.DeleteOAuthClient(ctx, c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting again: err = %v, want ErrNotFound", err)
	}
	// A client registered again under the same ID starts clean.
	createOAuthClient(t, s, "a")
	if n := activeTokens(t, s, "a"); n != 0 {
		t.Errorf("re-registered client has %d active tokens, want 0", n)
	}
}
