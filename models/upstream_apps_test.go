package models

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCreateGetListUpstreamApps(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	a := &UpstreamApp{
		Name: "github", Preset: "github", ClientID: " Iv1.abc ", ClientSecret: "s3cret",
		AuthURL: "https://GitHub.com/login/oauth/authorize", TokenURL: "https://github.com/login/oauth/access_token",
		Scopes:          []string{" read:user", "repo", "", "repo"},
		ExtraAuthParams: map[string]string{" allow_signup ": " false "},
		PKCE:            true,
	}
	if err := s.CreateUpstreamApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.ClientSecret != "" || !a.HasSecret || a.AuthStyle != AuthStyleAuto || a.ClientID != "Iv1.abc" ||
		a.AuthURL != "https://github.com/login/oauth/authorize" {
		t.Errorf("created %+v; want the secret cleared, HasSecret, auth style auto, host lowercased", a)
	}
	byID, err := s.GetUpstreamApp(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	byName, err := s.GetUpstreamAppByName(ctx, "github")
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*UpstreamApp{byID, byName} {
		if got.ID != a.ID || got.ClientSecret != "" || !got.HasSecret || !got.PKCE || got.Preset != "github" ||
			!slices.Equal(got.Scopes, []string{"read:user", "repo"}) ||
			!maps.Equal(got.ExtraAuthParams, map[string]string{"allow_signup": "false"}) {
			t.Errorf("read back %+v", got)
		}
	}
	if secret, err := s.UpstreamAppSecret(ctx, a.ID); err != nil || secret != "s3cret" {
		t.Errorf("UpstreamAppSecret = %q, %v; want s3cret", secret, err)
	}
	if _, err := s.GetUpstreamApp(ctx, a.ID+1); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetUpstreamApp(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetUpstreamAppByName(ctx, "gitlab"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetUpstreamAppByName(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.UpstreamAppSecret(ctx, a.ID+1); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpstreamAppSecret(missing) = %v, want ErrNotFound", err)
	}

	for _, name := range []string{"notion", "linear", "atlassian"} {
		createApp(t, s, name)
	}
	all := []string{"atlassian", "github", "linear", "notion"}
	tests := []struct {
		filter    AppFilter
		want      []string
		wantTotal int64
	}{
		{AppFilter{}, all, 4},
		{AppFilter{Query: "LIN"}, []string{"linear"}, 1},
		{AppFilter{Query: "iv1."}, []string{"github"}, 1}, // client ID
		{AppFilter{Query: "client-"}, []string{"atlassian", "linear", "notion"}, 3},
		{AppFilter{Offset: 3, Limit: 2}, all[3:], 4},
	}
	for _, tt := range tests {
		apps, total, err := s.ListUpstreamApps(ctx, tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range apps {
			got = append(got, a.Name)
			if !a.HasSecret || a.ClientSecret != "" {
				t.Errorf("listed %s with HasSecret %v, secret %q", a.Name, a.HasSecret, a.ClientSecret)
			}
		}
		if !slices.Equal(got, tt.want) || total != tt.wantTotal {
			t.Errorf("ListUpstreamApps(%+v) = %q, %d; want %q, %d", tt.filter, got, total, tt.want, tt.wantTotal)
		}
	}
	apps, err := s.AllUpstreamApps(ctx)
	if err != nil || len(apps) != 4 || apps[0].Name != "atlassian" || !apps[0].HasSecret {
		t.Errorf("AllUpstreamApps = %+v, %v", apps, err)
	}
}

func TestUpstreamAppSecretEncryptedAtRest(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	a := createApp(t, s, "github")
	b := createApp(t, s, "notion")
	raw := func(id uint) string {
		t.Helper()
		var sealed string
		if err := s.db.Raw("SELECT client_secret FROM upstream_apps WHERE id = ?", id).Row().Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		return sealed
	}
	sealed := raw(a.ID)
	if strings.Contains(sealed, "secret-github") || !strings.HasPrefix(sealed, "v1:k1:") {
		t.Fatalf("stored secret %q is not sealed", sealed)
	}
	if plain, err := s.Cipher().Decrypt(sealed, "upstream_apps.client_secret:"+itoa(a.ID)); err != nil || string(plain) != "secret-github" {
		t.Errorf("decrypt with the row's AAD = %q, %v", plain, err)
	}
	for _, aad := range []string{"upstream_apps.client_secret:" + itoa(b.ID), "upstream_apps.client_secret", ""} {
		if _, err := s.Cipher().Decrypt(sealed, aad); err == nil {
			t.Errorf("decrypt with AAD %q succeeded", aad)
		}
	}
	// A sealed secret copied onto another row does not decrypt there.
	if err := s.db.Exec("UPDATE upstream_apps SET client_secret = ? WHERE id = ?", sealed, b.ID).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpstreamAppSecret(ctx, b.ID); err == nil {
		t.Error("a secret moved to another row decrypted")
	}
	// The history never holds it either.
	changes, _, err := s.ListChanges(ctx, ChangeFilter{Resource: ResourceUpstreamApp})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		full, err := s.GetChange(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(full.Before+full.After, "secret-") || strings.Contains(full.Before+full.After, "v1:k1:") {
			t.Errorf("change %d holds a secret: %s %s", c.ID, full.Before, full.After)
		}
	}
}

func itoa(id uint) string { return strconv.FormatUint(uint64(id), 10) }

func TestUpdateUpstreamApp(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	a := createApp(t, s, "github")
	sealed := func() string {
		var v string
		if err := s.db.Raw("SELECT client_secret FROM upstream_apps WHERE id = ?", a.ID).Row().Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	original := sealed()

	// Without a secret: the stored one stays, byte for byte.
	up := testApp("github")
	up.ID, up.ClientSecret, up.ClientID, up.AuthStyle = a.ID, "", "new-client", AuthStyleParams
	if err := s.UpdateUpstreamApp(ctx, up); err != nil {
		t.Fatal(err)
	}
	if sealed() != original {
		t.Error("an update without a secret rewrote the stored one")
	}
	if secret, err := s.UpstreamAppSecret(ctx, a.ID); err != nil || secret != "secret-github" {
		t.Errorf("secret after update = %q, %v; want it kept", secret, err)
	}
	if got, _ := s.GetUpstreamApp(ctx, a.ID); got.ClientID != "new-client" || got.AuthStyle != AuthStyleParams || !got.HasSecret {
		t.Errorf("after update: %+v", got)
	}

	// The same secret again changes nothing at all.
	v0, n0 := configVersionOf(t, s), changeCount(t, s)
	same := testApp("github")
	same.ID, same.ClientID, same.AuthStyle = a.ID, "new-client", AuthStyleParams
	if err := s.UpdateUpstreamApp(ctx, same); err != nil {
		t.Fatal(err)
	}
	if sealed() != original || configVersionOf(t, s) != v0 || changeCount(t, s) != n0 {
		t.Error("an update with the stored secret and fields wrote something")
	}
	if same.ClientSecret != "" || !same.HasSecret {
		t.Errorf("no-op update left %+v", same)
	}

	// A new secret replaces it.
	same.ClientSecret = "rotated"
	if err := s.UpdateUpstreamApp(ctx, same); err != nil {
		t.Fatal(err)
	}
	if secret, err := s.UpstreamAppSecret(ctx, a.ID); err != nil || secret != "rotated" {
		t.Errorf("secret after rotation = %q, %v", secret, err)
	}
	if c := lastChange(t, s); !strings.Contains(c.Before, "\nclient_secret: (set)\n") || !strings.Contains(c.After, "\nclient_secret: (changed)\n") {
		t.Errorf("rotation recorded as\n%s\n->\n%s", c.Before, c.After)
	}

	taken := createApp(t, s, "notion")
	taken.Name = "github"
	var ce *ConflictError
	if err := s.UpdateUpstreamApp(ctx, taken); !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("rename onto another app = %v, want a *ConflictError on name", err)
	}
	if err := s.CreateUpstreamApp(ctx, testApp("github")); !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("create with a taken name = %v, want a *ConflictError on name", err)
	}
	missing := testApp("x")
	missing.ID = 999
	if err := s.UpdateUpstreamApp(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateUpstreamApp(missing) = %v, want ErrNotFound", err)
	}
}

func TestDeleteUpstreamAppRefusedWhileUsed(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	app := createApp(t, s, "github")
	r := &Route{Name: "GitHub", From: "http://gh.localhost", To: "http://127.0.0.1:1", Kind: KindMCPServer, UpstreamAppID: &app.ID}
	if err := s.CreateRoute(ctx, r, nil); err != nil {
		t.Fatal(err)
	}
	v0 := configVersionOf(t, s)
	err := s.DeleteUpstreamApp(ctx, app.ID)
	var ce *ConflictError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &ce) || ce.Field != "upstream_app" || ce.Message != "used by route GitHub" {
		t.Fatalf("DeleteUpstreamApp = %v, want a *ConflictError naming GitHub", err)
	}
	if configVersionOf(t, s) != v0 {
		t.Error("config version moved on a refused delete")
	}
	if err := s.db.Exec("DELETE FROM upstream_apps WHERE id = ?", app.ID).Error; err == nil {
		t.Error("raw delete of an app in use succeeded; want a foreign key error")
	}
	if err := s.DeleteRoute(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUpstreamApp(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUpstreamApp(ctx, app.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetUpstreamApp after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUpstreamApp(ctx, app.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
}
