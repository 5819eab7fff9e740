package models

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestUpstreamAppValidation(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	ok := func(edit func(a *UpstreamApp)) UpstreamApp {
		a := testApp("app")
		edit(a)
		return *a
	}
	tests := []struct {
		name string
		app  UpstreamApp
		want []string
	}{
		{"valid", ok(func(*UpstreamApp) {}), nil},
		{"http on localhost", ok(func(a *UpstreamApp) {
			a.AuthURL, a.TokenURL, a.RevocationURL = "http://localhost:9000/auth", "http://127.0.0.1:9000/token", "http://[::1]/revoke"
		}), nil},
		{"http on *.localhost", ok(func(a *UpstreamApp) { a.AuthURL = "http://idp.localhost:8080/auth" }), nil},
		{"auth URL with a query", ok(func(a *UpstreamApp) { a.AuthURL = "https://idp.example.com/auth?tenant=x" }), nil},
		{"every style", ok(func(a *UpstreamApp) { a.AuthStyle = AuthStyleHeader }), nil},
		{"extra params", ok(func(a *UpstreamApp) {
			a.ExtraAuthParams = map[string]string{"access_type": "offline", "prompt": "consent", "audience": "api"}
		}), nil},
		{"everything wrong", UpstreamApp{
			Name: "GitHub", Preset: "Git Hub", AuthURL: "http://idp.example.com/auth", TokenURL: "token",
			RevocationURL: "ftp://x", Scopes: []string{`a"b`}, AuthStyle: "basic",
			ExtraAuthParams: map[string]string{"state": "x"},
		}, []string{"name", "preset", "client_id", "client_secret", "auth_url", "token_url", "revocation_url", "scopes", "auth_style", "extra_params"}},
		{"no name", ok(func(a *UpstreamApp) { a.Name = "" }), []string{"name"}},
		{"client ID too long", ok(func(a *UpstreamApp) { a.ClientID = strings.Repeat("c", 513) }), []string{"client_id"}},
		{"client ID with a newline", ok(func(a *UpstreamApp) { a.ClientID = "a\nb" }), []string{"client_id"}},
		{"secret too long", ok(func(a *UpstreamApp) { a.ClientSecret = strings.Repeat("s", 4097) }), []string{"client_secret"}},
		{"no auth URL", ok(func(a *UpstreamApp) { a.AuthURL = "" }), []string{"auth_url"}},
		{"plain http auth URL", ok(func(a *UpstreamApp) { a.AuthURL = "http://github.com/login" }), []string{"auth_url"}},
		{"plain http to a lookalike", ok(func(a *UpstreamApp) { a.AuthURL = "http://localhost.evil.com/login" }), []string{"auth_url"}},
		{"auth URL with user info", ok(func(a *UpstreamApp) { a.AuthURL = "https://u:p@github.com/login" }), []string{"auth_url"}},
		{"auth URL with a fragment", ok(func(a *UpstreamApp) { a.AuthURL = "https://github.com/login#x" }), []string{"auth_url"}},
		{"no token URL", ok(func(a *UpstreamApp) { a.TokenURL = " " }), []string{"token_url"}},
		{"plain http token URL", ok(func(a *UpstreamApp) { a.TokenURL = "http://10.0.0.1/token" }), []string{"token_url"}},
		{"plain http revocation URL", ok(func(a *UpstreamApp) { a.RevocationURL = "http://github.com/revoke" }), []string{"revocation_url"}},
		{"scope with a space", ok(func(a *UpstreamApp) { a.Scopes = []string{"read user"} }), []string{"scopes"}},
		{"scope with a backslash", ok(func(a *UpstreamApp) { a.Scopes = []string{`a\b`} }), []string{"scopes"}},
		{"scope not ASCII", ok(func(a *UpstreamApp) { a.Scopes = []string{"lé"} }), []string{"scopes"}},
		{"unknown auth style", ok(func(a *UpstreamApp) { a.AuthStyle = "Header" }), []string{"auth_style"}},
		{"param overrides client_id", ok(func(a *UpstreamApp) { a.ExtraAuthParams = map[string]string{"client_id": "x"} }), []string{"extra_params"}},
		{"param overrides redirect_uri, any case", ok(func(a *UpstreamApp) { a.ExtraAuthParams = map[string]string{"Redirect_URI": "x"} }), []string{"extra_params"}},
		{"param overrides response_type", ok(func(a *UpstreamApp) { a.ExtraAuthParams = map[string]string{"response_type": "token"} }), []string{"extra_params"}},
		{"param overrides scope", ok(func(a *UpstreamApp) { a.ExtraAuthParams = map[string]string{"scope": "admin"} }), []string{"extra_params"}},
		{"param overrides code_challenge_method", ok(func(a *UpstreamApp) { a.ExtraAuthParams = map[string]string{"code_challenge_method": "plain"} }), []string{"extra_params"}},
		{"param with a bad name", ok(func(a *UpstreamApp) { a.ExtraAuthParams = map[string]string{"prompt (missing =)": ""} }), []string{"extra_params"}},
		{"param with an empty name", ok(func(a *UpstreamApp) { a.ExtraAuthParams = map[string]string{" ": "x"} }), []string{"extra_params"}},
		{"param value with a newline", ok(func(a *UpstreamApp) { a.ExtraAuthParams = map[string]string{"prompt": "a\nb"} }), []string{"extra_params"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := configVersionOf(t, s)
			a := tt.app
			err := s.CreateUpstreamApp(ctx, &a)
			if got := invalidFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("invalid fields = %q, want %q (error: %v)", got, tt.want, err)
			}
			if tt.want == nil {
				if err := s.DeleteUpstreamApp(ctx, a.ID); err != nil {
					t.Fatal(err)
				}
			} else if configVersionOf(t, s) != before {
				t.Error("config version moved on a refused write")
			}
		})
	}
}
