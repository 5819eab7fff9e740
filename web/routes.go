package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/drawbridge/drawbridge/handlers"
	"github.com/drawbridge/drawbridge/views"
)

// Body limits: console forms are small; nothing else takes a body yet.
const formBodyLimit = "64K"

// routes lists every path the console host serves, with the middleware
// that applies to it. Reading this one function shows the whole app.
func routes(e *echo.Echo, d Deps, base handlers.Base, sessions *Sessions, https bool) {
	m := newMetrics()
	e.Use(
		middleware.RequestID(),
		accessLog(d.Logger),
		m.middleware,
		middleware.Recover(),
		securityHeaders(https),
		middleware.BodyLimit(formBodyLimit),
	)

	// Probes and metrics: no session, no CSRF.
	health := &handlers.Health{Store: d.Store}
	e.GET("/healthz", health.Live)
	e.GET("/readyz", health.Ready)
	e.GET("/metrics", m.handler())

	// Static assets, embedded in the binary.
	e.GET("/static/*", staticHandler())

	// Everything a browser does with a session: cookie, CSRF, no caching.
	browser := e.Group("", noStore, sessions.Middleware, csrf(sessions))

	// Sign-in: local accounts and OIDC providers.
	auth := handlers.NewAuth(base, d.Store, d.Config.Identity.LocalAccountsEnabled(),
		loginProviders(d.Config), d.Config.IsAdminEmail, d.Logger)
	oidc := &handlers.OIDC{Auth: auth, Users: d.Store, Providers: oidcProviders(d.Config), Client: d.OIDCClient}
	browser.GET("/login", auth.ShowLogin)
	browser.POST("/login", auth.Login)
	browser.POST("/logout", auth.Logout)
	browser.GET("/auth/:provider", oidc.Start)
	browser.GET("/auth/:provider/callback", oidc.Callback)

	// Portal: every signed-in user.
	signedIn := browser.Group("", requireUser)
	portal := &handlers.Portal{Base: base}
	signedIn.GET("/", portal.ShowPortal)

	// Console: admins only.
	admin := browser.Group("/admin", requireUser, requireAdmin)
	dashboard := handlers.NewDashboard(base, d.Store, d.Config.Server.ConsoleURL)
	admin.GET("", dashboard.ShowDashboard)

	users := handlers.NewUsers(base, d.Store)
	admin.GET("/users", users.ListUsers)
	admin.GET("/users/new", users.NewUser)
	admin.POST("/users", users.CreateUser)
	admin.POST("/users/:id/disable", users.DisableUser)
	admin.POST("/users/:id/enable", users.EnableUser)
	admin.POST("/users/:id/grant-admin", users.GrantAdmin)
	admin.POST("/users/:id/revoke-admin", users.RevokeAdmin)

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

	apps := &handlers.Apps{Base: base, Store: d.Store, CallbackURL: strings.TrimSuffix(d.Config.Server.ConsoleURL, "/") + "/oauth/upstream/callback"}
	admin.GET("/apps", apps.ListApps)
	admin.GET("/apps/new", apps.NewApp)
	admin.POST("/apps", apps.CreateApp)
	admin.GET("/apps/:id", apps.EditApp)
	admin.POST("/apps/:id", apps.UpdateApp)
	admin.POST("/apps/:id/delete", apps.DeleteApp)

	history := &handlers.History{Base: base, Store: d.Store}
	admin.GET("/history", history.ListHistory)
	admin.GET("/history/:id", history.ShowChange)

	settings := &handlers.Settings{Base: base, Store: d.Store, View: settingsView(d.Config)}
	admin.GET("/settings", settings.ShowSettings)

	// Sections still to come say so plainly.
	todo := handlers.Placeholders{Base: base}
	admin.GET("/clients", todo.Placeholder(views.SectionClients, "Clients",
		"MCP clients that registered with Drawbridge's authorization server will be listed here. Not built yet."))
	admin.GET("/service-accounts", todo.Placeholder(views.SectionServiceAccounts, "Service accounts",
		"Service accounts give CI and agents a revocable token that acts as one user. Not built yet."))
	admin.GET("/audit", todo.Placeholder(views.SectionAudit, "Audit log",
		"Every tool call through the gateway will be recorded and searchable here. Not built yet."))

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

// requireAdmin refuses signed-in users who are not administrators.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := handlers.UserFrom(c); u == nil || !u.IsAdmin {
			return echo.NewHTTPError(http.StatusForbidden, "The console is for administrators. Your MCP servers are in the portal.")
		}
		return next(c)
	}
}
