package models

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateAndGetOAuthClient(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	v0 := configVersionOf(t, s)
	c := testOAuthClient(" abc123 ")
	c.TokenEndpointAuthMethod = AuthMethodClientSecretBasic
	c.SecretHash = HashToken("s3cret")
	c.Source = ClientSourceConsole
	if err := s.CreateOAuthClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 || c.ClientID != "abc123" || c.CreatedAt.IsZero() {
		t.Errorf("created client = %+v", c)
	}
	got, err := s.GetOAuthClient(ctx, "abc123")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.Name != c.Name || got.SecretHash != HashToken("s3cret") || got.Source != ClientSourceConsole ||
		!slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.GrantTypes, c.GrantTypes) || got.LastUsedAt != nil {
		t.Errorf("GetOAuthClient = %+v, want %+v", got, c)
	}
	if byID, err := s.GetOAuthClientByID(ctx, c.ID); err != nil || byID.ClientID != "abc123" {
		t.Errorf("GetOAuthClientByID = %+v, %v", byID, err)
	}
	if _, err := s.GetOAuthClient(ctx, "ABC123"); !errors.Is(err, ErrNotFound) {
		t.Errorf("client IDs compare exactly: err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetOAuthClientByID(ctx, c.ID+1); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing id: err = %v, want ErrNotFound", err)
	}
	var ce *ConflictError
	if err := s.CreateOAuthClient(ctx, testOAuthClient("abc123")); !errors.As(err, &ce) || ce.Field != "client_id" {
		t.Errorf("duplicate client ID: err = %v, want a *ConflictError on client_id", err)
	}
	if v := configVersionOf(t, s); v != v0 || changeCount(t, s) != 0 {
		t.Errorf("registering clients moved the version to %d or recorded history", v)
	}
}

func TestOAuthClientValidation(t *testing.T) {
	tooMany := make([]string, maxRedirectURIs+1)
	for i := range tooMany {
		tooMany[i] = "https://app.example.com/cb"
	}
	tests := []struct {
		name string
		edit func(c *OAuthClient)
		want []string
	}{
		{"valid", func(c *OAuthClient) {}, nil},
		{"name of 200 characters", func(c *OAuthClient) { c.Name = strings.Repeat("é", 200) }, nil},
		{"name too long", func(c *OAuthClient) { c.Name = strings.Repeat("é", 201) }, []string{"name"}},
		{"no client ID", func(c *OAuthClient) { c.ClientID = "" }, []string{"client_id"}},
		{"client ID with a space", func(c *OAuthClient) { c.ClientID = "a b" }, []string{"client_id"}},
		{"client ID too long", func(c *OAuthClient) { c.ClientID = strings.Repeat("a", maxURLLen+1) }, []string{"client_id"}},
		{"no redirect URIs", func(c *OAuthClient) { c.RedirectURIs = nil }, []string{"redirect_uris"}},
		{"too many redirect URIs", func(c *OAuthClient) { c.RedirectURIs = tooMany }, []string{"redirect_uris"}},
		{"empty redirect URI", func(c *OAuthClient) { c.RedirectURIs = []string{""} }, []string{"redirect_uris"}},
		{"redirect URI too long", func(c *OAuthClient) {
			c.RedirectURIs = []string{"https://x/" + strings.Repeat("a", maxURLLen)}
		}, []string{"redirect_uris"}},
		{"logo URI too long", func(c *OAuthClient) { c.LogoURI = strings.Repeat("a", maxURLLen+1) }, []string{"logo_uri"}},
		{"no grant types", func(c *OAuthClient) { c.GrantTypes = nil }, []string{"grant_types"}},
		{"unknown grant type", func(c *OAuthClient) { c.GrantTypes = []string{"client_credentials"} }, []string{"grant_types"}},
		{"unknown auth method", func(c *OAuthClient) { c.TokenEndpointAuthMethod = "private_key_jwt" }, []string{"token_endpoint_auth_method"}},
		{"public client with a secret", func(c *OAuthClient) { c.SecretHash = HashToken("x") }, []string{"secret_hash"}},
		{"confidential client without", func(c *OAuthClient) { c.TokenEndpointAuthMethod = AuthMethodClientSecretPost }, []string{"secret_hash"}},
		{"raw secret instead of its hash", func(c *OAuthClient) {
			c.TokenEndpointAuthMethod, c.SecretHash = AuthMethodClientSecretPost, "s3cret"
		}, []string{"secret_hash"}},
		{"unknown source", func(c *OAuthClient) { c.Source = "magic" }, []string{"source"}},
		{"everything wrong at once", func(c *OAuthClient) {
			*c = OAuthClient{TokenEndpointAuthMethod: "x"}
		}, []string{"client_id", "redirect_uris", "grant_types", "token_endpoint_auth_method", "source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			c := testOAuthClient("client-1")
			tt.edit(c)
			got := invalidFields(t, s.CreateOAuthClient(context.Background(), c))
			if !slices.Equal(got, tt.want) {
				t.Errorf("invalid fields = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListOAuthClients(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	for _, id := range []string{"c", "a", "b"} {
		createOAuthClient(t, s, id)
	}
	doc := testOAuthClient("https://app.example.com/client.json")
	doc.Name = "Example App"
	if err := s.UpsertMetadataClient(ctx, doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		filter    OAuthClientFilter
		want      []string
		wantTotal int64
	}{
		{"all, by name", OAuthClientFilter{}, []string{"a", "b", "c", "https://app.example.com/client.json"}, 4},
		{"query on name", OAuthClientFilter{Query: "EXAMPLE"}, []string{"https://app.example.com/client.json"}, 1},
		{"query on client ID", OAuthClientFilter{Query: "client.json"}, []string{"https://app.example.com/client.json"}, 1},
		{"source", OAuthClientFilter{Source: ClientSourceDCR}, []string{"a", "b", "c"}, 3},
		{"page", OAuthClientFilter{Source: ClientSourceDCR, Offset: 1, Limit: 1}, []string{"b"}, 3},
		{"past the end", OAuthClientFilter{Offset: 10}, []string{}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, total, err := s.ListOAuthClients(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, c := range page {
				got = append(got, c.ClientID)
			}
			if !slices.Equal(got, tt.want) || total != tt.wantTotal {
				t.Errorf("ListOAuthClients = %v (total %d), want %v (total %d)", got, total, tt.want, tt.wantTotal)
			}
		})
	}
}

func TestUpsertMetadataClient(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	const url = "https://app.example.com/client.json"
	first := testOAuthClient(url)
	first.Source = ClientSourceDCR // overridden: the method says what it stores
	if err := s.UpsertMetadataClient(ctx, first); err != nil {
		t.Fatal(err)
	}
	if first.ID == 0 || first.Source != ClientSourceMetadataDocument {
		t.Fatalf("inserted = %+v", first)
	}
	used := time.Now().Add(-time.Hour)
	if err := s.TouchOAuthClient(ctx, url, used); err != nil {
		t.Fatal(err)
	}
	if err := s.DisableOAuthClient(ctx, first.ID, true); err != nil {
		t.Fatal(err)
	}

	refetched := testOAuthClient(url)
	refetched.Name = "Renamed"
	refetched.RedirectURIs = []string{"https://app.example.com/cb2"}
	if err := s.UpsertMetadataClient(ctx, refetched); err != nil {
		t.Fatal(err)
	}
	if refetched.ID != first.ID || refetched.Name != "Renamed" || !refetched.Disabled ||
		!refetched.CreatedAt.Equal(first.CreatedAt) || refetched.LastUsedAt == nil || !refetched.LastUsedAt.Equal(dbTime(used)) ||
		!slices.Equal(refetched.RedirectURIs, []string{"https://app.example.com/cb2"}) {
		t.Errorf("after refresh: %+v", refetched)
	}
	if _, total, _ := s.ListOAuthClients(ctx, OAuthClientFilter{}); total != 1 {
		t.Errorf("%d clients stored, want 1", total)
	}

	// A document cannot take over a client registered another way.
	createOAuthClient(t, s, "https://other.example.com/client.json")
	takeover := testOAuthClient("https://other.example.com/client.json")
	takeover.Name = "Evil"
	var ce *ConflictError
	if err := s.UpsertMetadataClient(ctx, takeover); !errors.As(err, &ce) || ce.Field != "client_id" {
		t.Errorf("takeover: err = %v, want a *ConflictError on client_id", err)
	}
	if c, _ := s.GetOAuthClient(ctx, "https://other.example.com/client.json"); c.Name == "Evil" || c.Source != ClientSourceDCR {
		t.Errorf("takeover changed the client: %+v", c)
	}
	bad := testOAuthClient(url)
	bad.RedirectURIs = nil
	if got := invalidFields(t, s.UpsertMetadataClient(ctx, bad)); !slices.Equal(got, []string{"redirect_uris"}) {
		t.Errorf("invalid refresh: fields %v", got)
	}
}

func TestTouchOAuthClient(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	createOAuthClient(t, s, "a")
	v0 := configVersionOf(t, s)
	at := time.Date(2031, 2, 3, 4, 5, 6, 789, time.FixedZone("x", 3600))
	if err := s.TouchOAuthClient(ctx, "a", at); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.GetOAuthClient(ctx, "a"); c.LastUsedAt == nil || !c.LastUsedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("LastUsedAt = %v, want %v", c.LastUsedAt, at)
	}
	if err := s.TouchOAuthClient(ctx, "missing", at); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing client: err = %v, want ErrNotFound", err)
	}
	if v := configVersionOf(t, s); v != v0 {
		t.Errorf("touch moved the config version from %d to %d", v0, v)
	}
}
