package web

import (
	"strings"

	"github.com/drawbridge/drawbridge/handlers"
	"github.com/drawbridge/drawbridge/views"
)

// oidcProviders turns the configured identity providers into the sign-in
// handlers' view of them.
func oidcProviders(cfg Config) map[string]*handlers.OIDCProvider {
	out := make(map[string]*handlers.OIDCProvider, len(cfg.Identity.OIDC))
	for _, p := range cfg.Identity.OIDC {
		groups := p.GroupsClaim
		if groups == "" {
			groups = "groups"
		}
		scopes := p.Scopes
		if len(scopes) == 0 {
			scopes = []string{"email", "profile"}
		}
		out[p.Name] = &handlers.OIDCProvider{
			Name: p.Name, Label: p.Label(), Issuer: p.Issuer,
			ClientID: p.ClientID, ClientSecret: p.ClientSecret,
			Scopes: scopes, GroupsClaim: groups,
			RedirectURL: strings.TrimSuffix(cfg.Server.ConsoleURL, "/") + "/auth/" + p.Name + "/callback",
		}
	}
	return out
}

// loginProviders are the buttons on the sign-in page, in config order.
func loginProviders(cfg Config) []views.LoginProvider {
	out := make([]views.LoginProvider, len(cfg.Identity.OIDC))
	for i, p := range cfg.Identity.OIDC {
		out[i] = views.LoginProvider{Name: p.Name, DisplayName: p.Label(), URL: "/auth/" + p.Name}
	}
	return out
}

// settingsView is the read-only settings page's picture of the config.
// It never includes a secret.
func settingsView(cfg Config) views.SettingsProps {
	names := make([]string, len(cfg.Identity.OIDC))
	for i, p := range cfg.Identity.OIDC {
		names[i] = p.Label() + " (" + p.Issuer + ")"
	}
	return views.SettingsProps{
		ConsoleURL:    cfg.Server.ConsoleURL,
		DataDir:       cfg.Server.DataDir,
		Database:      cfg.Database.Driver,
		LocalAccounts: cfg.Identity.LocalAccountsEnabled(),
		Providers:     names,
		Admins:        cfg.Admins,
	}
}
