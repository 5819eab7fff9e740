package handlers

import (
	"strings"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// appPresets are the well-known upstreams whose OAuth endpoints the form
// can fill in. Each still needs the admin's own client id and secret.
var appPresets = []views.AppPreset{
	{
		Key: "github", Label: "GitHub",
		AuthURL:  "https://github.com/login/oauth/authorize",
		TokenURL: "https://github.com/login/oauth/access_token",
		Scopes:   "read:user repo", AuthStyle: "params", PKCE: true,
		DocsURL: "https://github.com/settings/developers",
	},
	{
		Key: "google", Label: "Google",
		AuthURL:       "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL:      "https://oauth2.googleapis.com/token",
		RevocationURL: "https://oauth2.googleapis.com/revoke",
		Scopes:        "openid email profile", AuthStyle: "params", PKCE: true,
		// Google issues a refresh token only when asked for offline access.
		ExtraParams: "access_type=offline\nprompt=consent",
		DocsURL:     "https://console.cloud.google.com/apis/credentials",
	},
	{
		Key: "notion", Label: "Notion",
		AuthURL:   "https://api.notion.com/v1/oauth/authorize",
		TokenURL:  "https://api.notion.com/v1/oauth/token",
		AuthStyle: "header", ExtraParams: "owner=user",
		DocsURL: "https://www.notion.so/my-integrations",
	},
	{
		Key: "atlassian", Label: "Atlassian (Jira, Confluence)",
		AuthURL:  "https://auth.atlassian.com/authorize",
		TokenURL: "https://auth.atlassian.com/oauth/token",
		Scopes:   "read:jira-work read:jira-user offline_access", AuthStyle: "params",
		ExtraParams: "audience=api.atlassian.com\nprompt=consent",
		DocsURL:     "https://developer.atlassian.com/console/myapps/",
	},
	{
		Key: "slack", Label: "Slack",
		AuthURL:  "https://slack.com/oauth/v2/authorize",
		TokenURL: "https://slack.com/api/oauth.v2.access",
		// User tokens are asked for with user_scope, not scope.
		AuthStyle: "params", ExtraParams: "user_scope=channels:read,chat:write,users:read",
		DocsURL: "https://api.slack.com/apps",
	},
	{
		Key: "linear", Label: "Linear",
		AuthURL:       "https://linear.app/oauth/authorize",
		TokenURL:      "https://api.linear.app/oauth/token",
		RevocationURL: "https://api.linear.app/oauth/revoke",
		Scopes:        "read", AuthStyle: "params", PKCE: true,
		DocsURL: "https://linear.app/settings/api/applications/new",
	},
}

// presetByKey finds a preset, or reports false.
func presetByKey(key string) (views.AppPreset, bool) {
	for _, p := range appPresets {
		if p.Key == key {
			return p, true
		}
	}
	return views.AppPreset{}, false
}

// appLabel is how an upstream app reads to the people who connect to
// it: its preset's name (GitHub, Atlassian) when it was set up from one,
// else the name the admin gave it.
func appLabel(app *models.UpstreamApp) string {
	for _, p := range appPresets {
		if p.Key == app.Preset && app.Preset != "" {
			name, _, _ := strings.Cut(p.Label, " (")
			return name
		}
	}
	return app.Name
}
