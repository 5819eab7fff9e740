package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy"
	"github.com/drawbridge/drawbridge/proxy/vault"
	"github.com/drawbridge/drawbridge/views"
)

// connectStateTTL bounds the time a person may spend at the upstream's
// consent page.
const connectStateTTL = 15 * time.Minute

// ConnectStore is what Connect needs of the database.
type ConnectStore interface {
	GetUpstreamConnection(ctx context.Context, userID, appID uint) (*models.UpstreamConnection, error)
	SaveUpstreamConnection(ctx context.Context, c *models.UpstreamConnection) error
	CreateUpstreamAuthState(ctx context.Context, st *models.UpstreamAuthState) error
	TakeUpstreamAuthState(ctx context.Context, stateHash string, now time.Time) (*models.UpstreamAuthState, error)
	GetUpstreamApp(ctx context.Context, id uint) (*models.UpstreamApp, error)
	UpstreamAppSecret(ctx context.Context, id uint) (string, error)
}

// Gateway is what the console needs of the running gateway: the routes
// it serves, and its rule for where browsers may be sent back to.
type Gateway interface {
	Snapshot() *proxy.Snapshot
	CheckRedirect(snap *proxy.Snapshot, route *proxy.Route, raw string) (string, error)
}

// Connect links a user's account at an upstream app (GitHub, Notion, …)
// to Drawbridge: the upstream OAuth flow, its callback, Disconnect and
// Refresh now.
type Connect struct {
	Base
	Store   ConnectStore
	Gateway Gateway
	Vault   *vault.Vault
	// ConsoleURL is the console's base URL; CallbackURL is
	// ConsoleURL + /oauth/upstream/callback, registered at each upstream.
	ConsoleURL, CallbackURL string
	// Client reaches the upstreams' token endpoints.
	Client *http.Client
	Audit  Auditor
	Logger *slog.Logger
}

// Start begins Connect for the route in ?route=, then sends the browser
// to redirect_url (the portal when there is none). A redirect_url that
// is not the route's host, the console or an mcp_client route host is
// refused here, on a page, and never followed.
func (h *Connect) Start(c echo.Context) error {
	u := UserFrom(c)
	snap, route, err := h.route(c, c.QueryParam("route"))
	if err != nil {
		return err
	}
	back := h.ConsoleURL + "/"
	if raw := c.QueryParam("redirect_url"); raw != "" {
		if back, err = h.Gateway.CheckRedirect(snap, route, raw); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "Connect was not started: "+proxy.ErrRedirect.Error()+
				". Go back to the app that sent you here, or open your portal at "+h.ConsoleURL+"/.")
		}
	}
	if !proxy.MayUse(route, identityOf(u), realIP(c)) {
		return echo.NewHTTPError(http.StatusForbidden, "Your access policies do not include "+route.Name+".")
	}
	app := route.App
	if app == nil {
		return c.Redirect(http.StatusFound, back)
	}
	conn, err := h.Store.GetUpstreamConnection(c.Request().Context(), u.ID, app.ID)
	switch {
	case err == nil && conn.Status == models.ConnectionConnected:
		return c.Redirect(http.StatusFound, back) // already connected: straight back
	case err != nil && !errors.Is(err, models.ErrNotFound):
		return err
	}
	state := rand.Text()
	var verifier string
	opts := make([]oauth2.AuthCodeOption, 0, len(app.ExtraAuthParams)+1)
	if app.PKCE {
		verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	for k, v := range app.ExtraAuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	routeID := route.ID
	err = h.Store.CreateUpstreamAuthState(c.Request().Context(), &models.UpstreamAuthState{
		StateHash: models.HashToken(state), UserID: u.ID, AppID: app.ID, RouteID: &routeID,
		SessionHash: h.sessionHash(c), RedirectURL: back, CodeVerifier: verifier,
		ExpiresAt: time.Now().Add(connectStateTTL),
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, vault.OAuth2Config(app, "", h.CallbackURL).AuthCodeURL(state, opts...))
}

// Callback is where the upstream sends the browser back: the flow must
// be one this browser session started, for this user. The code is
// exchanged, the tokens sealed in the vault, and the browser sent on.
func (h *Connect) Callback(c echo.Context) error {
	u := UserFrom(c)
	ctx := c.Request().Context()
	state := c.QueryParam("state")
	if state == "" || len(state) > 512 {
		return echo.NewHTTPError(http.StatusBadRequest, "This page is where GitHub, Notion and other upstreams return after Connect; it was opened without a Connect in progress.")
	}
	st, err := h.Store.TakeUpstreamAuthState(ctx, models.HashToken(state), time.Now())
	if errors.Is(err, models.ErrNotFound) {
		return echo.NewHTTPError(http.StatusBadRequest, "This Connect has expired or was already finished. Start it again from your portal.")
	}
	if err != nil {
		return err
	}
	if st.UserID != u.ID || st.SessionHash != h.sessionHash(c) {
		return echo.NewHTTPError(http.StatusBadRequest, "This Connect was started in another browser session. Start it again from your portal.")
	}
	app, err := h.Store.GetUpstreamApp(ctx, st.AppID)
	if err != nil {
		return err
	}
	if e := c.QueryParam("error"); e != "" {
		why := c.QueryParam("error_description")
		if why == "" {
			why = e
		}
		h.audit(c, u, app, models.AuditDeny, "the upstream refused: "+truncate(why, 200))
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s did not connect your account: %s.", appLabel(app), truncate(why, 200)))
	}
	code := c.QueryParam("code")
	if code == "" || len(code) > 4096 {
		return echo.NewHTTPError(http.StatusBadRequest, appLabel(app)+" sent no authorization code back. Start Connect again from your portal.")
	}
	tok, err := h.exchange(ctx, app, code, st.CodeVerifier)
	if err != nil {
		h.Logger.Warn("connect: code exchange failed", "app", app.Name, "problem", exchangeProblem(err))
		h.audit(c, u, app, models.AuditDeny, "the code exchange failed")
		return echo.NewHTTPError(http.StatusBadGateway, appLabel(app)+" did not complete the sign-in: "+exchangeProblem(err)+". Start Connect again from your portal.")
	}
	conn := vault.Connection(u.ID, app.ID, tok, "")
	conn.Account = accountName(tok)
	if err := h.Store.SaveUpstreamConnection(ctx, conn); err != nil {
		return err
	}
	h.Vault.Forget(u.ID, app.ID)
	h.audit(c, u, app, models.AuditAllow, "connected"+asAccount(conn.Account))
	h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashSuccess, Message: "Connected " + appLabel(app) + asAccount(conn.Account) + "."})
	back := h.ConsoleURL + "/"
	snap := h.Gateway.Snapshot()
	var route *proxy.Route
	if st.RouteID != nil {
		route = snap.RouteByID(*st.RouteID)
	}
	if to, err := h.Gateway.CheckRedirect(snap, route, st.RedirectURL); err == nil {
		back = to // still allowed now that the flow is over
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// exchange trades the code for tokens at the app's token endpoint.
func (h *Connect) exchange(ctx context.Context, app *models.UpstreamApp, code, verifier string) (*oauth2.Token, error) {
	secret, err := h.Store.UpstreamAppSecret(ctx, app.ID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if h.Client != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, h.Client)
	}
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	return vault.OAuth2Config(app, secret, h.CallbackURL).Exchange(ctx, code, opts...)
}

// Disconnect forgets the viewer's account at the app of the route in the
// form, revoking it upstream where the app can.
func (h *Connect) Disconnect(c echo.Context) error {
	u := UserFrom(c)
	_, route, err := h.route(c, c.FormValue("route"))
	if err != nil {
		return err
	}
	if route.App == nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	err = h.Vault.Disconnect(c.Request().Context(), u.ID, route.App)
	switch {
	case errors.Is(err, vault.ErrNotConnected):
		h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashInfo, Message: appLabel(route.App) + " was not connected."})
	case err != nil:
		return err
	default:
		h.audit(c, u, route.App, models.AuditAllow, "disconnected")
		h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashSuccess, Message: "Disconnected " + appLabel(route.App) + ". Drawbridge no longer holds a sign-in for it."})
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// Refresh renews the viewer's token at the app of the route in the form
// now, due or not.
func (h *Connect) Refresh(c echo.Context) error {
	u := UserFrom(c)
	_, route, err := h.route(c, c.FormValue("route"))
	if err != nil {
		return err
	}
	if route.App == nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	flash := views.Flash{Kind: views.FlashSuccess, Message: "Renewed your " + appLabel(route.App) + " sign-in."}
	switch err := h.Vault.Refresh(c.Request().Context(), u.ID, route.App); {
	case errors.Is(err, vault.ErrNotConnected):
		flash = views.Flash{Kind: views.FlashInfo, Message: appLabel(route.App) + " is not connected."}
	case errors.Is(err, vault.ErrNeedsReconnect):
		h.audit(c, u, route.App, models.AuditDeny, "the upstream refused the saved sign-in")
		flash = views.Flash{Kind: views.FlashError, Message: appLabel(route.App) + " no longer accepts your saved sign-in: connect again."}
	case errors.Is(err, vault.ErrUnavailable):
		flash = views.Flash{Kind: views.FlashError, Message: appLabel(route.App) + " did not answer; your sign-in was not renewed. Try again later."}
	case err != nil:
		return err
	}
	h.Sessions.AddFlash(c, flash)
	return c.Redirect(http.StatusSeeOther, "/")
}

// AdminDisconnect lets an admin disconnect a user from an app.
func (h *Connect) AdminDisconnect(c echo.Context) error {
	appID, err := pathID(c)
	if err != nil {
		return err
	}
	userID := formID(c.Param("user"))
	app, err := h.Store.GetUpstreamApp(c.Request().Context(), appID)
	if err != nil {
		return err
	}
	switch err := h.Vault.Disconnect(c.Request().Context(), userID, app); {
	case errors.Is(err, vault.ErrNotConnected):
		h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashInfo, Message: "That user was not connected."})
	case err != nil:
		return err
	default:
		ev := &models.AuditEvent{Kind: models.AuditKindConnection, UserID: &userID, UserEmail: "", ClientID: app.Name}
		audit(c, h.Audit, h.Logger, ev, "an administrator ("+UserFrom(c).Email+") disconnected the user from "+app.Name)
		h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashSuccess, Message: "Disconnected. The user will need to Connect " + appLabel(app) + " again."})
	}
	return c.Redirect(http.StatusSeeOther, "/admin/apps/"+strconv.FormatUint(uint64(appID), 10))
}

// route finds the route named by id in the gateway's current snapshot.
func (h *Connect) route(c echo.Context, id string) (*proxy.Snapshot, *proxy.Route, error) {
	snap := h.Gateway.Snapshot()
	if snap == nil {
		return nil, nil, echo.NewHTTPError(http.StatusServiceUnavailable, "Drawbridge is starting; try again in a moment.")
	}
	route := snap.RouteByID(formID(id))
	if route == nil {
		return nil, nil, echo.NewHTTPError(http.StatusNotFound, "There is no such route, or it is disabled.")
	}
	return snap, route, nil
}

// sessionHash binds a Connect to the browser session that started it:
// the session's CSRF token, which no other session knows.
func (h *Connect) sessionHash(c echo.Context) string {
	return models.HashToken("connect:" + h.Sessions.CSRFToken(c))
}

func (h *Connect) audit(c echo.Context, u *models.User, app *models.UpstreamApp, decision, detail string) {
	uid, email := userRef(u)
	ev := &models.AuditEvent{Kind: models.AuditKindConnection, UserID: uid, UserEmail: email, ClientID: app.Name, Decision: decision}
	audit(c, h.Audit, h.Logger, ev, app.Name+": "+detail)
}

// identityOf is u as the gateway's policies see a browser user.
func identityOf(u *models.User) *proxy.Identity {
	return &proxy.Identity{UserID: strconv.FormatUint(uint64(u.ID), 10), Email: u.Email, Groups: u.Groups}
}

// realIP is the address a request came from, for source_ip rules.
func realIP(c echo.Context) netip.Addr {
	a, _ := netip.ParseAddr(c.RealIP())
	return a.Unmap()
}

func asAccount(account string) string {
	if account == "" {
		return ""
	}
	return " as " + account
}

// truncate cuts s to at most n bytes, on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// exchangeProblem says why a code exchange failed without repeating what
// the upstream sent beyond its error code.
func exchangeProblem(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return "it answered " + re.ErrorCode
	}
	return "it could not be reached"
}
