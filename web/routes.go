package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/drawbridge/drawbridge/handlers"
)

// Body limits: console forms are small; nothing else takes a body yet.
const formBodyLimit = "64K"

// routes lists every path the console host serves, with the middleware
// that applies to it. Reading this one function shows the whole app.
func routes(e *echo.Echo, d Deps, m *metrics, base handlers.Base, sessions *Sessions, https bool) {
	e.Use(
		requestID,
		accessLog(d.Logger),
		m.middleware,
		middleware.Recover(),
		securityHeaders(https),
		middleware.BodyLimit(formBodyLimit),
	)

	// Probes and metrics: no session, no CSRF.
	health := &handlers.Health{Store: d.Store, Gateway: d.engine}
	e.GET("/healthz", health.Live)
	e.GET("/readyz", health.Ready)
	e.GET("/metrics", m.handler())

	// Static assets, embedded in the binary.
	e.GET("/static/*", staticHandler())

	// Everything a browser does with a session: cookie, CSRF, no caching.
	browser := e.Group("", noStore, sessions.Middleware, csrf(sessions))

	// Sign-in: local accounts and OIDC providers.
	auth := handlers.NewAuth(base, d.Store, d.Store, d.Config.Identity.LocalAccountsEnabled(),
		loginProviders(d.Config), d.Config.IsAdminEmail, d.Logger)
	auth.IsAuditorEmail = d.Config.IsAuditorEmail
	auth.Audit = d.auditor
	oidc := &handlers.OIDC{Auth: auth, Users: d.Store, Providers: oidcProviders(d.Config), Client: d.OIDCClient}
	browser.GET("/login", auth.ShowLogin)
	browser.POST("/login", auth.Login)
	browser.POST("/logout", auth.Logout)
	browser.GET("/auth/:provider", oidc.Start)
	browser.GET("/auth/:provider/callback", oidc.Callback)

	// OAuth 2.1 authorization server for MCP clients. Discovery, token,
	// revocation and registration carry no cookie, so they need no CSRF
	// token, and browser-based clients may call them from any origin.
	// Authorization is a page the user sees: it has the session and CSRF.
	oauth := &handlers.OAuthServer{
		Base: base, Store: d.Store, Issuer: d.tokens.issuer, Verifier: d.tokens.verifier, Keys: d.tokens.keys,
		IssuerURL: d.Config.ConsoleBase(), MetadataClients: d.metadataClients,
		AccessTokenTTL: d.Config.OAuth.AccessTokenTTL, RefreshTokenTTL: d.Config.OAuth.RefreshTokenTTL, Logger: d.Logger,
		Audit: d.auditor,
	}
	d.engine.SetServerMetadata(func(ctx context.Context, resource string) ([]byte, error) {
		m, err := oauth.Metadata(ctx, resource)
		if err != nil {
			return nil, err
		}
		return json.Marshal(m)
	})
	e.GET("/.well-known/oauth-authorization-server", oauth.ShowMetadata)
	e.GET("/.well-known/openid-configuration", oauth.ShowMetadata)
	e.GET("/.well-known/jwks.json", oauth.ShowJWKS)
	clientAPI := e.Group("/oauth", publicCORS(), noStore)
	clientAPI.POST("/token", oauth.Token)
	clientAPI.POST("/revoke", oauth.Revoke)
	registration := handlers.NewRegistration(d.Store, d.Store, d.Logger)
	clientAPI.POST("/register", registration.Register)
	for _, p := range []string{"/token", "/revoke", "/register"} {
		clientAPI.OPTIONS(p, echo.MethodNotAllowedHandler)
	}
	browser.GET("/oauth/authorize", oauth.Authorize)
	browser.POST("/oauth/authorize", oauth.Consent)

	// Portal: every signed-in user.
	signedIn := browser.Group("", requireUser)
	authorizations := handlers.NewAuthorizations(base, d.Store)
	portal := &handlers.Portal{Base: base, Store: d.Store, Gateway: d.engine, Authorizations: authorizations}
	signedIn.GET("/", portal.ShowPortal)

	// Connect: users link their upstream accounts; route hosts hand
	// browser sign-in over from here.
	connect := &handlers.Connect{
		Base: base, Store: d.Store, Gateway: d.engine, Vault: d.vault,
		ConsoleURL: d.Config.ConsoleBase(), CallbackURL: d.Config.ConsoleBase() + "/oauth/upstream/callback",
		Client: d.UpstreamClient, Audit: d.auditor, Logger: d.Logger,
	}
	signedIn.GET("/connect", connect.Start)
	signedIn.GET("/oauth/upstream/callback", connect.Callback)
	signedIn.POST("/connections/disconnect", connect.Disconnect)
	signedIn.POST("/connections/refresh", connect.Refresh)
	routeSignIn := &handlers.RouteSignIn{Store: d.Store, Gateway: d.engine, Sessions: sessions}
	signedIn.GET("/login/route", routeSignIn.Start)

	// Service accounts a user issues for themselves, when the settings
	// allow it.
	ownAccounts := &handlers.ServiceAccounts{Base: base, Store: d.Store, Gateway: d.engine, Issuer: d.tokens.accounts}
	signedIn.GET("/service-accounts", ownAccounts.List)
	signedIn.POST("/service-accounts", ownAccounts.Create)
	signedIn.POST("/service-accounts/:id/revoke", ownAccounts.Revoke)
	signedIn.POST("/service-accounts/:id/rotate", ownAccounts.Rotate)
	signedIn.GET("/authorizations", authorizations.ListAuthorizations)
	signedIn.POST("/authorizations/revoke", authorizations.RevokeAuthorization)

	// Console: the dashboard and the audit log for admins and auditors;
	// everything else for admins only.
	console := browser.Group("/admin", requireUser, requireStaff)
	dashboard := handlers.NewDashboard(base, d.Store, d.Config.Server.ConsoleURL)
	console.GET("", dashboard.ShowDashboard)
	auditLog := &handlers.AuditLog{Base: base, Store: d.Store, Audit: d.auditor, Logger: d.Logger, ConsoleURL: d.Config.ConsoleBase()}
	console.GET("/audit", auditLog.List)
	console.POST("/audit/export", auditLog.Export)
	console.GET("/audit/tail", auditLog.Tail)
	console.POST("/audit/verify", auditLog.Verify)
	console.GET("/audit/:id", auditLog.Show)

	admin := console.Group("", requireAdmin)

	users := handlers.NewUsers(base, d.Store)
	admin.GET("/users", users.ListUsers)
	admin.GET("/users/new", users.NewUser)
	admin.POST("/users", users.CreateUser)
	admin.POST("/users/:id/disable", users.DisableUser)
	admin.POST("/users/:id/enable", users.EnableUser)
	admin.POST("/users/:id/grant-admin", users.GrantAdmin)
	admin.POST("/users/:id/revoke-admin", users.RevokeAdmin)
	admin.POST("/users/:id/grant-auditor", users.GrantAuditor)
	admin.POST("/users/:id/revoke-auditor", users.RevokeAuditor)

	routesH := handlers.NewRoutes(base, d.Store, &handlers.MCPTester{Client: d.UpstreamClient, Version: d.Version})
	admin.GET("/routes", routesH.ListRoutes)
	admin.GET("/routes/new", routesH.NewRoute)
	admin.POST("/routes", routesH.CreateRoute)
	admin.GET("/routes/:id", routesH.EditRoute)
	admin.POST("/routes/:id", routesH.UpdateRoute)
	admin.POST("/routes/:id/delete", routesH.DeleteRoute)
	admin.POST("/routes/:id/test", routesH.TestRoute)

	policies := &handlers.Policies{Base: base, Store: d.Store}
	simulator := &handlers.Simulator{Base: base, Store: d.Store}
	admin.GET("/policies", policies.ListPolicies)
	admin.GET("/policies/new", policies.NewPolicy)
	admin.POST("/policies", policies.CreatePolicy)
	admin.GET("/policies/simulate", simulator.ShowSimulator)
	admin.POST("/policies/simulate", simulator.Simulate)
	admin.GET("/policies/:id", policies.EditPolicy)
	admin.POST("/policies/:id", policies.UpdatePolicy)
	admin.POST("/policies/:id/delete", policies.DeletePolicy)

	apps := &handlers.Apps{Base: base, Store: d.Store, CallbackURL: d.Config.ConsoleBase() + "/oauth/upstream/callback"}
	admin.GET("/apps", apps.ListApps)
	admin.GET("/apps/new", apps.NewApp)
	admin.POST("/apps", apps.CreateApp)
	admin.GET("/apps/:id", apps.EditApp)
	admin.POST("/apps/:id", apps.UpdateApp)
	admin.POST("/apps/:id/delete", apps.DeleteApp)
	admin.POST("/apps/:id/connections/:user/disconnect", connect.AdminDisconnect)

	clients := handlers.NewClients(base, d.Store)
	admin.GET("/clients", clients.ListClients)
	admin.POST("/clients/settings", clients.UpdateClientSettings)
	admin.GET("/clients/:id", clients.ShowClient)
	admin.POST("/clients/:id/revoke-tokens", clients.RevokeTokens)
	admin.POST("/clients/:id/disable", clients.DisableClient)
	admin.POST("/clients/:id/enable", clients.EnableClient)
	admin.POST("/clients/:id/delete", clients.DeleteClient)

	accounts := &handlers.ServiceAccounts{Base: base, Store: d.Store, Gateway: d.engine, Issuer: d.tokens.accounts, Admin: true}
	admin.GET("/service-accounts", accounts.List)
	admin.POST("/service-accounts", accounts.Create)
	admin.POST("/service-accounts/:id/revoke", accounts.Revoke)
	admin.POST("/service-accounts/:id/rotate", accounts.Rotate)

	history := &handlers.History{Base: base, Store: d.Store}
	admin.GET("/history", history.ListHistory)
	admin.GET("/history/:id", history.ShowChange)

	settings := &handlers.Settings{Base: base, Store: d.Store, View: settingsView(d.Config)}
	admin.GET("/settings", settings.ShowSettings)
	admin.POST("/settings/audit", settings.UpdateAuditSettings)
	admin.POST("/settings/service-accounts", settings.UpdateServiceAccountSettings)
	admin.POST("/settings/audit-retention", settings.UpdateAuditRetention)

	e.RouteNotFound("/*", func(c echo.Context) error { return echo.ErrNotFound })
}

// requireUser sends anonymous browsers to sign in, returning afterwards.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if handlers.UserFrom(c) != nil {
			return next(c)
		}
		if c.Request().Method == http.MethodGet && !wantsJSON(c.Request()) {
			target := "/login"
			if next := handlers.SafeNext(c.Request().URL.RequestURI()); next != "" && next != "/" {
				target += "?next=" + url.QueryEscape(next)
			}
			return c.Redirect(http.StatusSeeOther, target)
		}
		return echo.NewHTTPError(http.StatusUnauthorized, "Please sign in first.")
	}
}

// requireStaff refuses signed-in users who are neither administrators
// nor auditors.
func requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := handlers.UserFrom(c); u == nil || (!u.IsAdmin && !u.IsAuditor) {
			return echo.NewHTTPError(http.StatusForbidden, "The console is for administrators. Your MCP servers are in the portal.")
		}
		return next(c)
	}
}

// requireAdmin refuses signed-in users who are not administrators.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := handlers.UserFrom(c); u == nil || !u.IsAdmin {
			return echo.NewHTTPError(http.StatusForbidden, "The console is for administrators. Your MCP servers are in the portal.")
		}
		return next(c)
	}
}
