package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy"
	"github.com/drawbridge/drawbridge/proxy/token"
	"github.com/drawbridge/drawbridge/views"
)

// ServiceAccountStore is what the service accounts pages need.
type ServiceAccountStore interface {
	ListServiceAccounts(ctx context.Context, f models.ServiceAccountFilter) ([]models.ServiceAccount, int64, error)
	CreateServiceAccountWithToken(ctx context.Context, a *models.ServiceAccount, mint models.MintFunc) (string, error)
	CreateOwnServiceAccountWithToken(ctx context.Context, a *models.ServiceAccount, mint models.MintFunc, maxActive int) (string, error)
	GetServiceAccount(ctx context.Context, id uint) (*models.ServiceAccount, error)
	RevokeServiceAccount(ctx context.Context, id uint) error
	RotateServiceAccount(ctx context.Context, id uint, newHash string, grace time.Duration) error
	GetUserByEmail(ctx context.Context, email string) (*models.User, error)
	GetSettings(ctx context.Context) (models.Settings, error)
}

// ServiceAccounts are the pages where long-lived tokens for CI and agents
// are issued: in the console for any user (Admin), and in the portal, when
// the settings allow it, for the viewer alone.
type ServiceAccounts struct {
	Base
	Store   ServiceAccountStore
	Gateway Gateway
	Issuer  *token.ServiceAccountIssuer
	Admin   bool
}

const serviceAccountsPerPage = 25

var serviceAccountLabels = map[string]string{
	"name": "Name", "description": "Description", "user": "Acts as", "expires_at": "Expires", "routes": "Routes",
}

// graces are the rotation grace periods the page offers, in seconds.
var graces = map[string]time.Duration{"0": 0, "3600": time.Hour, "86400": 24 * time.Hour, "604800": 7 * 24 * time.Hour}

func (h *ServiceAccounts) base() string {
	if h.Admin {
		return "/admin/service-accounts"
	}
	return "/service-accounts"
}

// maxOwnAccounts caps the active accounts a user issues for themselves:
// each one is configuration every process reloads.
const maxOwnAccounts = 20

// selfService reports whether users may issue their own accounts.
func (h *ServiceAccounts) selfService(c echo.Context) (bool, error) {
	st, err := h.Store.GetSettings(c.Request().Context())
	return st.UserServiceAccounts, err
}

// mayIssue refuses the portal's create and rotate while self-service is
// off. Listing and revoking one's own accounts stay open: a user who
// leaked a token can always stop it.
func (h *ServiceAccounts) mayIssue(c echo.Context) (bool, error) {
	on, err := h.selfService(c)
	if err == nil && !h.Admin && !on {
		err = echo.NewHTTPError(http.StatusForbidden, "Service accounts are issued by administrators here. Ask one for a token.")
	}
	return on, err
}

// List shows a page of accounts, filtered by ?q=, ?user= and ?status=,
// and the form that creates one.
func (h *ServiceAccounts) List(c echo.Context) error {
	selfService, err := h.selfService(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, views.ServiceAccountForm{Expiry: "never"}, nil, selfService)
}

func (h *ServiceAccounts) render(c echo.Context, status int, form views.ServiceAccountForm, problems map[string]string, selfService bool) error {
	ctx := c.Request().Context()
	q, page := listParams(c)
	f := models.ServiceAccountFilter{Query: q, Status: c.QueryParam("status"), Offset: (page - 1) * serviceAccountsPerPage, Limit: serviceAccountsPerPage}
	userQuery := ""
	if h.Admin {
		userQuery = strings.TrimSpace(c.QueryParam("user"))
		if userQuery != "" {
			u, err := h.Store.GetUserByEmail(ctx, userQuery)
			if err != nil && !errors.Is(err, models.ErrNotFound) {
				return err
			}
			f.UserID = ^uint(0) // no such user: nothing matches
			if u != nil {
				f.UserID = u.ID
			}
		}
	} else {
		f.UserID = UserFrom(c).ID
	}
	if !validStatus(f.Status) {
		f.Status = ""
	}
	rows, total, err := h.Store.ListServiceAccounts(ctx, f)
	if err != nil {
		return err
	}
	snap := h.Gateway.Snapshot()
	now := time.Now()
	props := views.ServiceAccountsProps{
		Page: h.Page(c, "Service accounts", h.section()), Admin: h.Admin, Base: h.base(),
		Query: q, User: userQuery, Status: f.Status, Now: now,
		Form: form, Errors: problems, Routes: h.routeOptions(c, snap), SelfService: selfService,
		Pagination: paginate(h.base(), url.Values{"q": {q}, "user": {userQuery}, "status": {f.Status}}, page, serviceAccountsPerPage, int(total)),
	}
	for i := range rows {
		props.Accounts = append(props.Accounts, accountRow(&rows[i], snap, now))
	}
	return Render(c, status, views.ServiceAccountsPage(props))
}

func (h *ServiceAccounts) section() string {
	if h.Admin {
		return views.SectionServiceAccounts
	}
	return views.SectionPortalServiceAccounts
}

func validStatus(s string) bool {
	return s == "" || s == models.ServiceAccountActive || s == models.ServiceAccountExpired || s == models.ServiceAccountRevoked
}

// routeOptions are the MCP server routes an account may be restricted
// to: all of them in the console, the viewer's own in the portal.
func (h *ServiceAccounts) routeOptions(c echo.Context, snap *proxy.Snapshot) []views.RouteOption {
	if snap == nil {
		return nil
	}
	var routes []*proxy.Route
	if h.Admin {
		for _, r := range snap.Routes() {
			if r.Kind == models.KindMCPServer {
				routes = append(routes, r)
			}
		}
	} else {
		routes = snap.AllowedServers(identityOf(UserFrom(c)), realIP(c))
	}
	out := make([]views.RouteOption, len(routes))
	for i, r := range routes {
		out[i] = views.RouteOption{ID: r.ID, Name: r.Name, URL: r.From}
	}
	return out
}

func accountRow(a *models.ServiceAccount, snap *proxy.Snapshot, now time.Time) views.ServiceAccountRow {
	row := views.ServiceAccountRow{
		ID: a.ID, Name: a.Name, Description: a.Description, UserEmail: a.UserEmail, CreatedBy: a.CreatedBy,
		CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt, LastUsedAt: a.LastUsedAt, RevokedAt: a.RevokedAt,
		PreviousValidUntil: a.PreviousValidUntil, Status: a.Status(now),
	}
	for _, id := range a.RouteIDs {
		if snap != nil {
			if r := snap.RouteByID(id); r != nil {
				row.Routes = append(row.Routes, r.Name)
			}
		}
	}
	if a.RoutesRestricted && len(row.Routes) == 0 {
		row.Routes = []string{"(none left)"}
	}
	return row
}

// Create issues an account and shows its token, once. An account a user
// issues for themselves is named after them, "alice@example.com/ci",
// so that no user can pick the name a policy rule trusts.
func (h *ServiceAccounts) Create(c echo.Context) error {
	selfService, err := h.mayIssue(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	form := views.ServiceAccountForm{
		Name: strings.TrimSpace(c.FormValue("name")), Description: strings.TrimSpace(c.FormValue("description")),
		UserEmail: strings.TrimSpace(c.FormValue("user")), Expiry: c.FormValue("expiry"), ExpiryDate: strings.TrimSpace(c.FormValue("expiry_date")),
		RouteIDs: formIDs(c, "routes"),
	}
	problems := map[string]string{}
	a := &models.ServiceAccount{Name: form.Name, Description: form.Description, RouteIDs: form.RouteIDs}
	if h.Admin {
		u, err := h.Store.GetUserByEmail(ctx, form.UserEmail)
		switch {
		case errors.Is(err, models.ErrNotFound) || form.UserEmail == "":
			problems["user"] = "Acts as: no user has this email."
		case err != nil:
			return err
		default:
			a.UserID = u.ID
		}
	} else {
		u := UserFrom(c)
		a.UserID = u.ID
		if form.Name != "" {
			a.Name = u.Email + "/" + form.Name
		}
		if !h.mayUseAll(c, form.RouteIDs) {
			problems["routes"] = "Routes: you may only choose routes you can use."
		}
	}
	expires, msg := parseExpiry(form.Expiry, form.ExpiryDate, time.Now())
	if msg != "" {
		problems["expires_at"] = "Expires: " + msg
	}
	a.ExpiresAt = expires
	if len(problems) > 0 {
		return h.render(c, http.StatusUnprocessableEntity, form, problems, selfService)
	}
	var raw string
	if h.Admin {
		raw, err = h.Store.CreateServiceAccountWithToken(ctx, a, h.mint(expires))
	} else {
		raw, err = h.Store.CreateOwnServiceAccountWithToken(ctx, a, h.mint(expires), maxOwnAccounts)
	}
	if status, messages, ok := formProblems(err, serviceAccountLabels); ok {
		return h.render(c, status, form, messages, selfService)
	}
	if err != nil {
		return err
	}
	return h.showToken(c, a, raw, false, nil)
}

// mayUseAll reports whether the viewer may use every route in ids.
func (h *ServiceAccounts) mayUseAll(c echo.Context, ids []uint) bool {
	snap := h.Gateway.Snapshot()
	if snap == nil {
		return len(ids) == 0
	}
	for _, id := range ids {
		r := snap.RouteByID(id)
		if r == nil || !proxy.MayUse(r, identityOf(UserFrom(c)), realIP(c)) {
			return false
		}
	}
	return true
}

func (h *ServiceAccounts) mint(expires *time.Time) models.MintFunc {
	return func(id uint) (string, error) {
		var at time.Time
		if expires != nil {
			at = *expires
		}
		raw, _, err := h.Issuer.Issue(id, at)
		return raw, err
	}
}

// parseExpiry reads the form's expiry choice: never, a number of days,
// or a date (the whole of that day, UTC).
func parseExpiry(choice, date string, now time.Time) (*time.Time, string) {
	switch choice {
	case "", "never":
		return nil, ""
	case "30", "90", "365":
		days, _ := strconv.Atoi(choice)
		t := now.Add(time.Duration(days) * 24 * time.Hour).UTC().Truncate(time.Second)
		return &t, ""
	case "date":
		d, err := time.Parse("2006-01-02", date)
		if err != nil {
			return nil, "pick a date, as YYYY-MM-DD."
		}
		t := d.Add(24 * time.Hour) // the end of that day
		if !t.After(now) {
			return nil, "the date has passed."
		}
		return &t, ""
	}
	return nil, "choose never, 30, 90 or 365 days, or a date."
}

// Revoke stops an account's token at once.
func (h *ServiceAccounts) Revoke(c echo.Context) error {
	a, err := h.account(c)
	if err != nil {
		return err
	}
	if err := h.Store.RevokeServiceAccount(c.Request().Context(), a.ID); err != nil {
		return err
	}
	h.Sessions.AddFlash(c, views.Flash{Kind: views.FlashSuccess, Message: "Revoked " + a.Name + ". Its token is refused from now on."})
	return c.Redirect(http.StatusSeeOther, h.base())
}

// Rotate gives an account a new token, shown once; the old one works for
// the grace period chosen.
func (h *ServiceAccounts) Rotate(c echo.Context) error {
	if _, err := h.mayIssue(c); err != nil {
		return err
	}
	a, err := h.account(c)
	if err != nil {
		return err
	}
	if st := a.Status(time.Now()); st != models.ServiceAccountActive {
		return echo.NewHTTPError(http.StatusConflict, a.Name+" is "+st+": create a new account instead of rotating it.")
	}
	grace, ok := graces[c.FormValue("grace")]
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose how long the old token keeps working.")
	}
	raw, err := h.mint(a.ExpiresAt)(a.ID)
	if err != nil {
		return err
	}
	err = h.Store.RotateServiceAccount(c.Request().Context(), a.ID, models.HashToken(raw), grace)
	if errors.Is(err, models.ErrConflict) {
		return echo.NewHTTPError(http.StatusConflict, a.Name+" is revoked; create a new account instead.")
	}
	if err != nil {
		return err
	}
	var until *time.Time
	if grace > 0 {
		t := time.Now().Add(grace)
		until = &t
	}
	return h.showToken(c, a, raw, true, until)
}

// account is the account in the path, if the viewer may manage it.
func (h *ServiceAccounts) account(c echo.Context) (*models.ServiceAccount, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	a, err := h.Store.GetServiceAccount(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !h.Admin && a.UserID != UserFrom(c).ID {
		return nil, echo.NewHTTPError(http.StatusNotFound, "There is no such service account.")
	}
	return a, nil
}

// showToken renders the token page: the only time the token is shown.
func (h *ServiceAccounts) showToken(c echo.Context, a *models.ServiceAccount, raw string, rotated bool, until *time.Time) error {
	snap := h.Gateway.Snapshot()
	now := time.Now()
	props := views.ServiceAccountTokenProps{
		Page: h.Page(c, "Token for "+a.Name, h.section()), Base: h.base(),
		Account: accountRow(a, snap, now), Token: raw, Rotated: rotated, GraceUntil: until, Now: now,
	}
	if snap != nil {
		owner := &proxy.Identity{UserID: strconv.FormatUint(uint64(a.UserID), 10), ServiceAccount: a.Name}
		if u := snap.User(a.UserID); u != nil {
			owner.Email, owner.Groups = u.Email, u.Groups
		}
		for _, r := range snap.AllowedServers(owner, realIP(c)) {
			if len(a.RouteIDs) == 0 || containsID(a.RouteIDs, r.ID) {
				props.Routes = append(props.Routes, views.RouteOption{ID: r.ID, Name: r.Name, URL: r.From})
			}
		}
	}
	// The page holds a secret: never cache it, anywhere.
	c.Response().Header().Set("Cache-Control", "no-store")
	return Render(c, http.StatusOK, views.ServiceAccountTokenPage(props))
}

func containsID(ids []uint, id uint) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
