package views

import (
	"time"

	"github.com/a-h/templ"
)

// Sample props for the configuration pages: routes, policies, the
// simulator, upstream apps and the change history.

func at(s string) time.Time {
	return *ptime(s)
}

// sampleRoutes covers each kind, a route without policies or app, a
// disabled one and hostile text.
func sampleRoutes() []RouteRow {
	return []RouteRow{
		{ID: 1, Name: "GitHub", Description: "Repos", From: "http://github.localhost:8080", To: "http://127.0.0.1:9001/mcp", Kind: "mcp_server", Policies: []string{"company-only", "no-admin-tools"}, UpstreamApp: "github", Enabled: true},
		{ID: 2, Name: "Chat", From: "http://chat.localhost:8080", To: "http://127.0.0.1:3000", Kind: "mcp_client", Policies: []string{"company-only"}, Enabled: true},
		{ID: 3, Name: "Grafana", From: "http://grafana.localhost:8080", To: "http://10.0.0.7:3000", Kind: "http", Policies: []string{"oncall"}},
		{ID: 4, Name: "Orders", From: "http://orders.localhost:8080/mcp", To: "http://127.0.0.1:9004/mcp", Kind: "mcp_server", Enabled: true},
		{ID: 5, Name: hostile, Description: hostile, From: hostile, To: hostile, Kind: "mcp_server", Policies: []string{hostile}, UpstreamApp: hostile, Enabled: true},
	}
}

func sampleKinds() []Option {
	return []Option{
		{Value: "mcp_server", Label: "MCP server", Hint: "An MCP server behind the gateway"},
		{Value: "mcp_client", Label: "MCP client app", Hint: "An app that receives the signed-in user's access token"},
		{Value: "http", Label: "HTTP", Hint: "A plain web app behind identity-aware access"},
	}
}

func samplePolicyOptions() []Option {
	return []Option{
		{Value: "1", Label: "company-only", Hint: "Anyone at company.com", Selected: true},
		{Value: "2", Label: "engineering"},
		{Value: "3", Label: hostile, Hint: hostile},
	}
}

func sampleAppOptions() []Option {
	return []Option{{Value: "1", Label: "github"}, {Value: "2", Label: hostile, Selected: true}}
}

func sampleHistory() []ChangeRow {
	return []ChangeRow{
		{ID: 41, At: at("2026-03-04T10:22:00Z"), Actor: "alice@company.com", Resource: "route", ResourceName: "GitHub", ResourceURL: "/admin/routes/1", Action: "update"},
		{ID: 12, At: at("2026-02-20T09:41:00Z"), Actor: hostile, Resource: "route", ResourceName: hostile, ResourceURL: "/admin/routes/1", Action: "create"},
	}
}

func sampleChanges() []ChangeRow {
	return []ChangeRow{
		{ID: 41, At: at("2026-03-04T10:22:00Z"), Actor: "alice@company.com", Resource: "route", ResourceName: "GitHub", ResourceURL: "/admin/routes/1", Action: "update"},
		{ID: 40, At: at("2026-03-04T10:19:00Z"), Actor: "alice@company.com", Resource: "policy", ResourceName: "no-admin-tools", ResourceURL: "/admin/policies/3", Action: "create"},
		{ID: 39, At: at("2026-03-03T18:47:00Z"), Actor: "carol@company.com", Resource: "upstream_app", ResourceName: "notion", Action: "delete"},
		{ID: 38, At: at("2026-03-03T14:02:00Z"), Actor: hostile, Resource: "user", ResourceName: hostile, ResourceURL: "/admin/users", Action: "update"},
	}
}

func samplePresets() []AppPreset {
	return []AppPreset{
		{Key: "github", Label: "GitHub", AuthURL: "https://github.com/login/oauth/authorize", TokenURL: "https://github.com/login/oauth/access_token", Scopes: "read:user repo", AuthStyle: "params", PKCE: true, DocsURL: "https://github.com/settings/developers"},
		{Key: "google", Label: "Google", AuthURL: "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token", RevocationURL: "https://oauth2.googleapis.com/revoke", Scopes: "openid email profile", AuthStyle: "params", ExtraParams: "access_type=offline\nprompt=consent", PKCE: true, DocsURL: "https://console.cloud.google.com/apis/credentials"},
		{Key: "notion", Label: "Notion", AuthURL: "https://api.notion.com/v1/oauth/authorize", TokenURL: "https://api.notion.com/v1/oauth/token", AuthStyle: "header"},
	}
}

func sampleApps() []AppRow {
	return []AppRow{
		{ID: 1, Name: "github", Preset: "github", ClientID: "Iv23liAbC", HasSecret: true, AuthURL: "https://github.com/login/oauth/authorize", Routes: []string{"GitHub"}},
		{ID: 2, Name: "linear", Preset: "linear", ClientID: "b1946ac9", AuthURL: "https://linear.app/oauth/authorize"},
		{ID: 3, Name: hostile, ClientID: hostile, HasSecret: true, AuthURL: hostile, Routes: []string{hostile}},
	}
}

func sampleSteps() []SimulationStep {
	return []SimulationStep{
		{Policy: "company-only", Rule: "allow.and", Line: 2, Matched: true, Depth: 0},
		{Policy: "company-only", Rule: "allow.and[0].domain", Line: 3, Matched: true, Detail: `"company.com" is "company.com"`, Depth: 1},
		{Policy: "no-admin-tools", Rule: "deny.or", Line: 6, Matched: true, Depth: 1},
		{Policy: "no-admin-tools", Rule: "deny.or[0].mcp_tool", Line: 7, Matched: true, Detail: `"admin_reset" starts with "admin_"`, Depth: 2, Decides: true},
		{Policy: "no-admin-tools", Rule: "deny.or[1].mcp_tool", Line: 8, Matched: false, Detail: hostile, Depth: 12},
	}
}

// configPages are the configuration pages in their richest states, with
// hostile text wherever a person can type it, for the checks every page
// must pass (allPages includes them).
func configPages() map[string]templ.Component {
	admin := adminViewer()
	flash := Flash{Kind: FlashError, Message: hostile}
	pager := Pagination{Page: 2, PerPage: 5, Total: 12, PrevURL: "/admin/x?page=1", NextURL: "/admin/x?page=3"}
	return map[string]templ.Component{
		"routes":       RoutesPage(RoutesProps{Page: page(SectionRoutes, admin, flash), Query: hostile, Routes: sampleRoutes(), Pagination: pager}),
		"routes-empty": RoutesPage(RoutesProps{Page: page(SectionRoutes, admin, flash), Query: hostile}),
		"route-new": RouteFormPage(RouteFormProps{Page: page(SectionRoutes, admin, flash), IsNew: true, Kinds: sampleKinds(), Policies: samplePolicyOptions(), Apps: sampleAppOptions(),
			Form: RouteForm{Name: hostile, Description: hostile, From: hostile, To: hostile, Kind: "mcp_server", TimeoutSeconds: hostile, MaxRequestBytes: hostile,
				Errors: map[string]string{"name": hostile, "from": hostile, "to": hostile, "kind": hostile, "policies": hostile, "upstream_app": hostile, "timeout_seconds": hostile, "max_request_bytes": hostile, "enabled": hostile}}}),
		"route-edit": RouteFormPage(RouteFormProps{Page: page(SectionRoutes, admin, flash), ID: 7, Kinds: sampleKinds(), Policies: samplePolicyOptions(), Apps: sampleAppOptions(), History: sampleHistory(),
			Form: RouteForm{Name: hostile, Description: hostile, From: hostile, To: "http://127.0.0.1:9001/mcp", Kind: "mcp_server", Enabled: true},
			Test: &ConnectionTest{OK: true, ServerName: hostile, ServerVersion: hostile, ProtocolVersion: "2025-06-18", Duration: 142 * time.Millisecond, Tools: []ToolInfo{{Name: hostile, Description: hostile}, {Name: "echo"}}}}),
		"route-edit-failed": RouteFormPage(RouteFormProps{Page: page(SectionRoutes, admin, flash), ID: 8, Kinds: sampleKinds(),
			Form: RouteForm{Name: "Docs", From: "http://docs.localhost:8080", To: "http://10.0.0.1/mcp", Kind: "http"},
			Test: &ConnectionTest{Error: hostile, Duration: 3 * time.Second}}),
		"policies": PoliciesPage(PoliciesProps{Page: page(SectionPolicies, admin, flash), Query: hostile, Pagination: pager, Policies: []PolicyRow{
			{ID: 1, Name: "company-only", Description: "Anyone at company.com", Routes: []string{"GitHub", "Chat"}, UpdatedAt: at("2026-03-01T12:30:00Z")},
			{ID: 2, Name: "unused", UpdatedAt: at("2026-02-01T08:00:00Z")},
			{ID: 3, Name: hostile, Description: hostile, Routes: []string{hostile}, UpdatedAt: at("2026-01-01T00:00:00Z")},
		}}),
		"policies-empty": PoliciesPage(PoliciesProps{Page: page(SectionPolicies, admin, flash)}),
		"policy-new":     PolicyFormPage(PolicyFormProps{Page: page(SectionPolicies, admin, flash), IsNew: true, Form: PolicyForm{Name: hostile, Source: hostile}}),
		"policy-edit": PolicyFormPage(PolicyFormProps{Page: page(SectionPolicies, admin, flash), ID: 3, Routes: sampleRoutes()[:2], History: sampleHistory(),
			Form: PolicyForm{Name: hostile, Description: hostile, Source: "allow:\n  - grups: {has: eng}\n" + hostile,
				Errors:       map[string]string{"name": hostile, "source": hostile},
				SourceErrors: []SourceError{{Line: 2, Column: 5, Message: hostile}, {Message: "no allow or deny block"}}}}),
		"simulator": SimulatorPage(SimulatorProps{Page: page(SectionPolicies, admin, flash),
			Users: []Option{{Value: "1", Label: hostile}}, Routes: []Option{{Value: "1", Label: hostile}},
			Form: SimulatorForm{Email: hostile, Groups: hostile, Tool: hostile, Arguments: hostile, Errors: map[string]string{"arguments": hostile, "route": hostile}}}),
		"simulator-result": SimulatorPage(SimulatorProps{Page: page(SectionPolicies, admin, flash),
			Users: []Option{{Value: "1", Label: "alice"}}, Routes: []Option{{Value: "1", Label: "GitHub"}},
			Form:   SimulatorForm{RouteID: "1", MCPMethod: "tools/call", Tool: "admin_reset"},
			Result: &SimulationResult{Allow: false, Summary: hostile, Steps: sampleSteps()}}),
		"apps":       AppsPage(AppsProps{Page: page(SectionApps, admin, flash), Query: hostile, Apps: sampleApps(), Presets: samplePresets(), Pagination: pager}),
		"apps-empty": AppsPage(AppsProps{Page: page(SectionApps, admin, flash), Presets: samplePresets()}),
		"app-new": AppFormPage(AppFormProps{Page: page(SectionApps, admin, flash), IsNew: true, Presets: samplePresets(), CallbackURL: "http://console.localhost:8080/oauth/upstream/callback",
			Form: AppForm{Name: hostile, Preset: "github", ClientID: hostile, AuthURL: hostile, TokenURL: hostile, Scopes: hostile, ExtraParams: hostile, AuthStyle: "params", PKCE: true,
				Errors: map[string]string{"client_id": hostile, "client_secret": hostile, "auth_url": hostile}}}),
		"app-edit": AppFormPage(AppFormProps{Page: page(SectionApps, admin, flash), ID: 3, Presets: samplePresets(), CallbackURL: hostile, History: sampleHistory(),
			Form: AppForm{Name: hostile, Preset: "google", ClientID: "abc", HasSecret: true, AuthURL: "https://a.example/auth", TokenURL: "https://a.example/token", AuthStyle: "auto"}}),
		"history": HistoryPage(HistoryProps{Page: page(SectionHistory, admin, flash), Resource: "route", Actor: hostile, Query: hostile,
			Resources: []Option{{Value: "route", Label: "Routes"}, {Value: "policy", Label: "Policies"}}, Changes: sampleChanges(), Pagination: pager}),
		"history-empty": HistoryPage(HistoryProps{Page: page(SectionHistory, admin, flash), Actor: hostile}),
		"change": ChangePage(ChangeProps{Page: page(SectionHistory, admin, flash), Change: sampleChanges()[3],
			Diff: []DiffLine{{Op: " ", Text: "name: x"}, {Op: "-", Text: hostile}, {Op: "+", Text: "email: " + hostile}}}),
	}
}
