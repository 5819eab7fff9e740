package vault

import (
	"golang.org/x/oauth2"

	"github.com/drawbridge/drawbridge/models"
)

// OAuth2Config is app's OAuth client as golang.org/x/oauth2 speaks it.
// secret is the app's client secret, which the store keeps sealed;
// callbackURL is where the upstream sends the browser back.
func OAuth2Config(app *models.UpstreamApp, secret, callbackURL string) *oauth2.Config {
	style := oauth2.AuthStyleAutoDetect
	switch app.AuthStyle {
	case models.AuthStyleHeader:
		style = oauth2.AuthStyleInHeader
	case models.AuthStyleParams:
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID:     app.ClientID,
		ClientSecret: secret,
		Endpoint:     oauth2.Endpoint{AuthURL: app.AuthURL, TokenURL: app.TokenURL, AuthStyle: style},
		RedirectURL:  callbackURL,
		Scopes:       app.Scopes,
	}
}

// Connection turns a token from the upstream into what the store keeps
// for user at app. keepRefresh is the refresh token to keep when the
// upstream sent none, as providers that do not rotate them do.
func Connection(userID, appID uint, tok *oauth2.Token, keepRefresh string) *models.UpstreamConnection {
	c := &models.UpstreamConnection{
		UserID: userID, AppID: appID,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.Type(),
	}
	if c.RefreshToken == "" {
		c.RefreshToken = keepRefresh
	}
	if !tok.Expiry.IsZero() {
		exp := tok.Expiry.UTC()
		c.ExpiresAt = &exp
	}
	if scope, ok := tok.Extra("scope").(string); ok && scope != "" {
		c.Scopes = clampScopes(splitScope(scope))
	}
	return c
}

// splitScope splits a scope string on spaces and, as GitHub writes them,
// commas.
func splitScope(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == ',' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}

// Bounds the store sets on the scopes it keeps; a provider that grants
// more is recorded with the first ones, rather than not at all.
const (
	maxScopes   = 64
	maxScopeLen = 256
)

func clampScopes(scopes []string) []string {
	out := scopes[:0]
	for _, s := range scopes {
		if len(s) <= maxScopeLen && len(out) < maxScopes {
			out = append(out, s)
		}
	}
	return out
}
