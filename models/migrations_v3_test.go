package models

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

// TestMigration3Constraints checks what the database itself enforces for
// the OAuth tables, whatever a future write path forgets to check.
func TestMigration3Constraints(t *testing.T) {
	s := newTestStore(t)
	type key struct{ parent, from, to, onDelete string }
	foreignKeys := func(table string) []key {
		t.Helper()
		rows, err := s.sqlDB.Query(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []key
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.parent, &k.from, &k.to, &k.onDelete); err != nil {
				t.Fatal(err)
			}
			out = append(out, k)
		}
		slices.SortFunc(out, func(a, b key) int { return strings.Compare(a.parent, b.parent) })
		return out
	}
	client := key{"oauth_clients", "client_id", "client_id", "CASCADE"}
	user := key{"users", "user_id", "id", "CASCADE"}
	family := key{"oauth_token_families", "family_id", "family_id", "CASCADE"}
	want := map[string][]key{
		"oauth_clients":        nil,
		"oauth_auth_codes":     {client, user},
		"oauth_token_families": {client, user},
		"oauth_refresh_tokens": {client, family, user},
		// No key to the client or family: the revocation ledger outlives them.
		"oauth_access_tokens": {user},
		"oauth_consents":      {client, user},
	}
	// SQLite's catalog; TestSchemaSameOnBothEngines holds PostgreSQL to it.
	for table, keys := range want {
		if onPostgres {
			break
		}
		if got := foreignKeys(table); !slices.Equal(got, keys) {
			t.Errorf("%s's foreign keys = %v, want %v", table, got, keys)
		}
	}

	// Unique indexes, written to directly, past the store's own checks.
	now := time.Now()
	insert := func(v any) error { return s.db.Create(v).Error }
	u := userV1{Email: "a@example.com", Provider: "local", Groups: "[]", CreatedAt: now, UpdatedAt: now}
	c := oauthClientV3{ClientID: "c", RedirectURIs: "[]", GrantTypes: "[]", Source: "dcr", CreatedAt: now, UpdatedAt: now}
	for _, row := range []any{&u, &c} {
		if err := insert(row); err != nil {
			t.Fatal(err)
		}
	}
	code := func(hash, family string) *oauthAuthCodeV3 {
		return &oauthAuthCodeV3{CodeHash: hash, FamilyID: family, ClientRef: "c", UserID: u.ID, ExpiresAt: now, CreatedAt: now}
	}
	fam := func(id string) *oauthTokenFamilyV3 {
		return &oauthTokenFamilyV3{FamilyID: id, ClientRef: "c", UserID: u.ID, CreatedAt: now}
	}
	refresh := func(hash string) *oauthRefreshTokenV3 {
		return &oauthRefreshTokenV3{TokenHash: hash, FamilyRef: "f", ClientRef: "c", UserID: u.ID, ExpiresAt: now, CreatedAt: now}
	}
	access := func(jti string) *oauthAccessTokenV3 {
		return &oauthAccessTokenV3{JTI: jti, FamilyID: "f", ClientID: "c", UserID: u.ID, ExpiresAt: now, CreatedAt: now}
	}
	consent := func(resource string) *oauthConsentV3 {
		return &oauthConsentV3{UserID: u.ID, ClientRef: "c", Resource: resource, CreatedAt: now}
	}
	for _, row := range []any{code("h", "f"), fam("f"), refresh("h"), access("j"), consent("r")} {
		if err := insert(row); err != nil {
			t.Fatal(err)
		}
	}
	duplicates := []struct {
		name string
		row  any
	}{
		{"client ID", &oauthClientV3{ClientID: "c", RedirectURIs: "[]", GrantTypes: "[]", Source: "dcr", CreatedAt: now, UpdatedAt: now}},
		{"code hash", code("h", "f2")},
		{"code family", code("h2", "f")},
		{"family ID", fam("f")},
		{"refresh token hash", refresh("h")},
		{"jti", access("j")},
		{"consent for user, client and resource", consent("r")},
	}
	for _, tt := range duplicates {
		if err := insert(tt.row); !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Errorf("%s: duplicate insert = %v, want gorm.ErrDuplicatedKey", tt.name, err)
		}
	}
	orphan := refresh("h3")
	orphan.FamilyRef = "missing"
	if err := insert(orphan); !errors.Is(err, gorm.ErrForeignKeyViolated) {
		t.Errorf("refresh token of a missing family = %v, want a foreign key violation", err)
	}

	// Deleting the user takes everything of theirs along.
	if err := s.db.Exec("DELETE FROM users WHERE id = ?", u.ID).Error; err != nil {
		t.Fatal(err)
	}
	for table := range want {
		if table == "oauth_clients" {
			continue
		}
		if n := rowCount(t, s, table); n != 0 {
			t.Errorf("%s kept %d rows of the deleted user", table, n)
		}
	}
}

// TestUpgradeFromV1ThroughMigration3 opens the version 1 fixture and uses
// the OAuth tables with its users.
func TestUpgradeFromV1ThroughMigration3(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	v1Database(t, path)
	s := openTestStore(t, path)
	if v, err := s.SchemaVersion(ctx); err != nil || v < 3 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 3", v, err)
	}
	var applied []string
	if err := s.db.Model(&schemaMigration{}).Order("version").Pluck("name", &applied).Error; err != nil {
		t.Fatal(err)
	}
	if len(applied) < 3 || applied[2] != migrations[2].name {
		t.Errorf("applied migrations = %v", applied)
	}

	alice, err := s.GetUserByEmail(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	createOAuthClient(t, s, "claude")
	v0 := configVersionOf(t, s)
	hour := time.Now().Add(time.Hour)
	g := newGrant(t, s, "claude", alice.ID)
	g.refresh(t, s, "rt", hour)
	g.access(t, s, "jti", hour)
	if err := s.GrantConsent(ctx, &Consent{UserID: alice.ID, ClientID: "claude", Resource: testResource}); err != nil {
		t.Fatal(err)
	}
	if n := activeTokens(t, s, "claude"); n != 2 {
		t.Errorf("%d active tokens, want 2", n)
	}
	if err := s.WithdrawConsent(ctx, alice.ID, "claude", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := revokedJTIs(t, s); !slices.Equal(got, []string{"jti"}) {
		t.Errorf("revoked = %v", got)
	}
	if v := configVersionOf(t, s); v != v0+1 {
		t.Errorf("ConfigVersion = %d, want %d: one bump for the withdrawal", v, v0+1)
	}
	if n := rowCount(t, s, "oauth_consents"); n != 0 {
		t.Errorf("%d consents left after the withdrawal, want 0", n)
	}
	if n := rowCount(t, s, "oauth_access_tokens"); n != 1 {
		t.Errorf("%d access token records after the withdrawal, want the revoked one", n)
	}
}
