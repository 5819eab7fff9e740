package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// AuthUsers is what sign-in needs of the store.
type AuthUsers interface {
	GetUserByEmail(ctx context.Context, email string) (*models.User, error)
	RecordSignIn(ctx context.Context, id uint, at time.Time) error
	SetAdmin(ctx context.Context, id uint, admin bool) error
	SetAuditor(ctx context.Context, id uint, auditor bool) error
	// GetRoute finds the route a sign-in is handed to, whose host the
	// sign-in form must be allowed to end at.
	GetRoute(ctx context.Context, id uint) (*models.Route, error)
}

// Auth serves the sign-in page, local password sign-in and sign-out.
type Auth struct {
	Base
	Users         AuthUsers
	LocalAccounts bool
	Providers     []views.LoginProvider // OIDC buttons; URL without next
	IsAdminEmail  func(email string) bool
	// IsAuditorEmail reports whether the configuration lists email
	// under auditors; nil lists none.
	IsAuditorEmail func(email string) bool
	// Accounts and Addresses count failures per email and per client
	// IP, in the store: every replica sharing it counts the same ones.
	Accounts  *Throttle
	Addresses *Throttle
	Logger    *slog.Logger
	// Audit records sign-ins and refused attempts; nil records nothing.
	Audit Auditor
}

// NewAuth builds the sign-in handlers. Five failures per account or thirty
// per address within fifteen minutes pause further attempts; failures
// counts them, for every process sharing it.
func NewAuth(base Base, users AuthUsers, failures ThrottleStore, local bool, providers []views.LoginProvider, isAdmin func(string) bool, logger *slog.Logger) *Auth {
	return &Auth{
		Base: base, Users: users, LocalAccounts: local, Providers: providers, IsAdminEmail: isAdmin,
		Accounts:  NewThrottle(failures, models.SignInScopeAccount, 5, 15*time.Minute),
		Addresses: NewThrottle(failures, models.SignInScopeAddress, 30, 15*time.Minute),
		Logger:    logger,
	}
}

const msgBadCredentials = "Email or password is incorrect."

// ShowLogin renders the sign-in page, or sends a signed-in user on.
func (h *Auth) ShowLogin(c echo.Context) error {
	next := SafeNext(c.QueryParam("next"))
	if u := UserFrom(c); u != nil {
		return c.Redirect(http.StatusSeeOther, landing(u, next))
	}
	return h.renderLogin(c, http.StatusOK, "", "", next)
}

// Login checks an email and password. Unknown email, wrong password and a
// password-less (OIDC) account all get the same answer in the same time.
// When the throttles cannot be read or written, sign-in fails rather than
// going on unthrottled: an outage of the count must not be a window for
// guessing.
func (h *Auth) Login(c echo.Context) error {
	if !h.LocalAccounts {
		return echo.NewHTTPError(http.StatusNotFound, "Password sign-in is turned off.")
	}
	email := strings.ToLower(strings.TrimSpace(c.FormValue("email")))
	password := c.FormValue("password")
	next := SafeNext(c.FormValue("next"))
	ip := c.RealIP()
	ctx := c.Request().Context()

	// Each attempt counts as failed until the password proves otherwise;
	// see Throttle.Attempt. Addresses are counted by addressKey (an IPv6
	// client's whole /64).
	account, err := h.Accounts.Attempt(ctx, email)
	if err != nil {
		return err
	}
	address, err := h.Addresses.Attempt(ctx, addressKey(ip))
	if err != nil {
		h.forgive(ctx, h.Accounts, account)
		return err
	}
	if account.Blocked || address.Blocked {
		// Refused unseen: the attempt was no guess, and must not extend
		// the wait.
		h.forgive(ctx, h.Accounts, account)
		h.forgive(ctx, h.Addresses, address)
		h.Logger.Warn("sign-in throttled", "email", email, "ip", ip)
		msg := fmt.Sprintf("Too many failed attempts. Try again in %d minutes.", int(max(account.Wait, address.Wait).Minutes())+1)
		return h.renderLogin(c, http.StatusTooManyRequests, msg, email, next)
	}

	u, err := h.Users.GetUserByEmail(ctx, email)
	switch {
	case errors.Is(err, models.ErrNotFound), err == nil && u.PasswordHash == "":
		models.CheckPasswordDummy(password)
		return h.fail(c, email, ip, next)
	case err != nil:
		return err
	case !models.CheckPassword(u.PasswordHash, password):
		return h.fail(c, email, ip, next)
	}
	// The password was right: a failure to forget the old failures must
	// not turn the user away. They leave the window on their own.
	if err := h.Accounts.Reset(ctx, email); err != nil {
		h.Logger.Error("sign-in: clear failed attempts", "email", email, "error", err)
	}
	h.forgive(ctx, h.Addresses, address)
	if u.Disabled {
		return h.renderLogin(c, http.StatusForbidden, "This account is disabled. Ask an administrator to enable it.", email, next)
	}
	return h.complete(c, u, next)
}

// fail gives the failure answer; the attempt is already counted.
func (h *Auth) fail(c echo.Context, email, ip, next string) error {
	audit(c, h.Audit, h.Logger, &models.AuditEvent{Kind: models.AuditKindSignIn, UserEmail: email, Decision: models.AuditDeny},
		"wrong email or password")
	h.Logger.Info("sign-in failed", "email", email, "ip", ip)
	return h.renderLogin(c, http.StatusUnauthorized, msgBadCredentials, email, next)
}

// forgive takes back an attempt that did not fail; should the store not
// answer, the attempt stays counted a while, which errs the safe way.
func (h *Auth) forgive(ctx context.Context, t *Throttle, a Attempt) {
	if err := t.Forgive(ctx, a); err != nil {
		h.Logger.Error("sign-in: forgive an attempt", "error", err)
	}
}

// complete signs u in after any method: the admins list, a fresh session,
// the sign-in time, and the way on.
func (h *Auth) complete(c echo.Context, u *models.User, next string) error {
	ctx := c.Request().Context()
	if !u.IsAdmin && h.IsAdminEmail(u.Email) {
		if err := h.Users.SetAdmin(models.WithActor(ctx, "configuration (admins)"), u.ID, true); err != nil {
			return err
		}
		u.IsAdmin = true
	}
	if !u.IsAuditor && h.IsAuditorEmail != nil && h.IsAuditorEmail(u.Email) {
		if err := h.Users.SetAuditor(models.WithActor(ctx, "configuration (auditors)"), u.ID, true); err != nil {
			return err
		}
		u.IsAuditor = true
	}
	if err := h.Sessions.SignIn(c, u); err != nil {
		return err
	}
	if err := h.Users.RecordSignIn(ctx, u.ID, time.Now()); err != nil {
		return err
	}
	h.Logger.Info("signed in", "user", u.Email, "provider", u.Provider, "ip", c.RealIP())
	uid, email := userRef(u)
	audit(c, h.Audit, h.Logger, &models.AuditEvent{Kind: models.AuditKindSignIn, UserID: uid, UserEmail: email}, "signed in with "+u.Provider)
	return c.Redirect(http.StatusSeeOther, landing(u, next))
}

// Logout ends the session. It is a POST (CSRF-checked), never a link.
func (h *Auth) Logout(c echo.Context) error {
	if err := h.Sessions.SignOut(c); err != nil {
		h.Logger.Error("sign out", "error", err)
		return echo.NewHTTPError(http.StatusServiceUnavailable, "Drawbridge could not sign you out just now. Try again in a moment.")
	}
	h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashInfo, Message: "You are signed out."})
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (h *Auth) renderLogin(c echo.Context, status int, msg, email, next string) error {
	if target := authorizeRedirect(next); target != "" {
		allowFormTarget(c, target)
	} else if id := routeSignInID(next); id != 0 {
		h.allowRouteHost(c, id)
	}
	providers := make([]views.LoginProvider, len(h.Providers))
	for i, p := range h.Providers {
		p.URL = withNext(p.URL, next)
		providers[i] = p
	}
	return Render(c, status, views.LoginPage(views.LoginProps{
		Page:          h.Page(c, "Sign in", ""),
		Email:         email,
		Error:         msg,
		Next:          next,
		LocalAccounts: h.LocalAccounts,
		Providers:     providers,
	}))
}

// allowRouteHost lets the sign-in form end, after /login/route, at the
// host of the route with this id, which is where a browser route (an
// mcp_client or http route) hands its sign-in back. Without it the browser
// refuses that last redirect of the submission.
func (h *Auth) allowRouteHost(c echo.Context, id uint) {
	r, err := h.Users.GetRoute(c.Request().Context(), id)
	if err != nil || !r.Enabled || r.Kind == models.KindMCPServer {
		return // /login/route refuses it too
	}
	allowFormSource(c, originSource(r.From))
}

// landing is where a user goes after sign-in: next if given, otherwise the
// console for admins and the portal for everyone else.
func landing(u *models.User, next string) string {
	switch {
	case next != "":
		return next
	case u.IsAdmin:
		return "/admin"
	default:
		return "/"
	}
}
