package handlers

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// accountName is the upstream account a token belongs to, for the portal
// to show ("Connected as octocat"), when the provider says: the ID token
// of an OpenID Connect provider. The token came straight from the
// provider's token endpoint over a connection Drawbridge opened, which is
// what OpenID Connect Core 3.1.3.7 asks of an unverified ID token; and
// the name is only ever displayed, never trusted for a decision.
func accountName(tok *oauth2.Token) string {
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(parts[1]) > 16<<10 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	for _, k := range []string{"preferred_username", "email", "name", "login", "sub"} {
		if v, ok := claims[k].(string); ok && v != "" && utf8.ValidString(v) {
			return truncate(v, 300)
		}
	}
	return ""
}
