package models

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestGrantConsentUpserts(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createOAuthClient(t, s, "a")

	first := &Consent{UserID: alice.ID, ClientID: "a", Resource: testResource, Scope: "read"}
	if err := s.GrantConsent(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := &Consent{UserID: alice.ID, ClientID: "a", Resource: testResource, Scope: "read write"}
	if err := s.GrantConsent(ctx, again); err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID || again.Scope != "read write" || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("second grant = %+v, want consent %d with the new scope and the first grant's time", again, first.ID)
	}
	if n := rowCount(t, s, "oauth_consents"); n != 1 {
		t.Errorf("%d consents stored, want 1", n)
	}
	for _, tt := range []struct {
		name     string
		user     uint
		client   string
		resource string
		want     bool
	}{
		{"granted", alice.ID, "a", testResource, true},
		{"other resource", alice.ID, "a", "http://other.localhost", false},
		{"other client", alice.ID, "b", testResource, false},
		{"other user", alice.ID + 1, "a", testResource, false},
	} {
		if got, err := s.HasConsent(ctx, tt.user, tt.client, tt.resource); err != nil || got != tt.want {
			t.Errorf("%s: HasConsent = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if err := s.GrantConsent(ctx, &Consent{UserID: alice.ID, ClientID: "missing", Resource: testResource}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown client: err = %v, want ErrNotFound", err)
	}
	if got := invalidFields(t, s.GrantConsent(ctx, &Consent{})); !slices.Equal(got, []string{"client_id", "user_id", "resource"}) {
		t.Errorf("invalid fields = %v", got)
	}
}

func TestListConsents(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	bob := createUser(t, s, "bob@example.com")
	zed := testOAuthClient("z")
	zed.Name, zed.LogoURI = "Zed", "https://zed.example.com/logo.png"
	if err := s.CreateOAuthClient(ctx, zed); err != nil {
		t.Fatal(err)
	}
	amp := testOAuthClient("y")
	amp.Name = "amp"
	if err := s.CreateOAuthClient(ctx, amp); err != nil {
		t.Fatal(err)
	}
	grants := []Consent{
		{UserID: alice.ID, ClientID: "z", Resource: testResource},
		{UserID: alice.ID, ClientID: "y", Resource: "http://wiki.localhost"},
		{UserID: alice.ID, ClientID: "y", Resource: "http://docs.localhost"},
		{UserID: bob.ID, ClientID: "z", Resource: testResource},
	}
	for i := range grants {
		if err := s.GrantConsent(ctx, &grants[i]); err != nil {
			t.Fatal(err)
		}
	}
	// Alice used Zed: the newest token issue time is its last use.
	g := newGrant(t, s, "z", alice.ID)
	g.access(t, s, "first", time.Now().Add(time.Hour))
	used := time.Now().Add(time.Minute)
	r := &AccessTokenRecord{JTI: "second", FamilyID: g.family, ClientID: "z", UserID: alice.ID, ExpiresAt: used.Add(time.Hour), CreatedAt: used}
	if err := s.RecordAccessToken(ctx, r); err != nil {
		t.Fatal(err)
	}
	newGrant(t, s, "z", bob.ID).access(t, s, "bob's", time.Now().Add(2*time.Hour))

	views, err := s.ListConsents(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		client, name, resource, logo string
		used                         bool
	}
	var got []row
	for _, v := range views {
		got = append(got, row{v.ClientID, v.ClientName, v.Resource, v.LogoURI, v.LastUsedAt != nil})
		if v.UserID != alice.ID || v.ID == 0 || v.CreatedAt.IsZero() {
			t.Errorf("consent view %+v", v)
		}
		if v.ClientID == "z" && (v.LastUsedAt == nil || !v.LastUsedAt.Equal(dbTime(used))) {
			t.Errorf("Zed last used %v, want %v", v.LastUsedAt, used)
		}
	}
	want := []row{
		{"y", "amp", "http://docs.localhost", "", false},
		{"y", "amp", "http://wiki.localhost", "", false},
		{"z", "Zed", testResource, "https://zed.example.com/logo.png", true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListConsents =\n%v\nwant\n%v", got, want)
	}
	if none, err := s.ListConsents(ctx, alice.ID+bob.ID); err != nil || none == nil || len(none) != 0 {
		t.Errorf("user without consents: %#v, %v; want an empty list", none, err)
	}
}

func TestWithdrawConsent(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	bob := createUser(t, s, "bob@example.com")
	createOAuthClient(t, s, "a")
	createOAuthClient(t, s, "b")
	hour := time.Now().Add(time.Hour)
	for _, c := range []Consent{
		{UserID: alice.ID, ClientID: "a", Resource: testResource},
		{UserID: alice.ID, ClientID: "a", Resource: "http://wiki.localhost"},
		{UserID: alice.ID, ClientID: "b", Resource: testResource},
		{UserID: bob.ID, ClientID: "a", Resource: testResource},
	} {
		if err := s.GrantConsent(ctx, &c); err != nil {
			t.Fatal(err)
		}
	}
	ga := newGrant(t, s, "a", alice.ID)
	ga.refresh(t, s, "alice-rt", hour)
	ga.access(t, s, "alice-a", hour)
	newGrant(t, s, "b", alice.ID).access(t, s, "alice-b", hour)
	newGrant(t, s, "a", bob.ID).access(t, s, "bob-a", hour)
	if err := s.CreateAuthCode(ctx, testAuthCode("alice-pending", "a", alice.ID)); err != nil {
		t.Fatal(err)
	}

	if err := s.WithdrawConsent(ctx, alice.ID, "a", time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user     uint
		client   string
		resource string
		want     bool
	}{
		{alice.ID, "a", testResource, false},
		{alice.ID, "a", "http://wiki.localhost", false},
		{alice.ID, "b", testResource, true},
		{bob.ID, "a", testResource, true},
	} {
		if got, _ := s.HasConsent(ctx, tt.user, tt.client, tt.resource); got != tt.want {
			t.Errorf("HasConsent(%d, %s, %s) = %v, want %v", tt.user, tt.client, tt.resource, got, tt.want)
		}
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"alice-a"}) {
		t.Errorf("revoked = %v, want alice's token for the client only", got)
	}
	if rt := refreshToken(t, s, "alice-rt"); rt.RevokedAt == nil {
		t.Error("alice's refresh token not revoked")
	}
	if _, err := s.RedeemAuthCode(ctx, HashToken("alice-pending"), time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("alice's pending code: err = %v, want ErrNotFound", err)
	}
	if err := s.WithdrawConsent(ctx, alice.ID, "a", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("withdrawing again: err = %v, want ErrNotFound", err)
	}
}
