package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// AppStore is what the upstream apps pages need of the store.
type AppStore interface {
	ListUpstreamApps(ctx context.Context, f models.AppFilter) ([]models.UpstreamApp, int64, error)
	GetUpstreamApp(ctx context.Context, id uint) (*models.UpstreamApp, error)
	CreateUpstreamApp(ctx context.Context, a *models.UpstreamApp) error
	UpdateUpstreamApp(ctx context.Context, a *models.UpstreamApp) error
	DeleteUpstreamApp(ctx context.Context, id uint) error
	RoutesUsingApp(ctx context.Context, appID uint) ([]models.Route, error)
	UpstreamConnectionCounts(ctx context.Context) (map[uint]models.ConnectionCounts, error)
	ListUpstreamConnections(ctx context.Context, f models.ConnectionFilter) ([]models.UpstreamConnection, error)
	HistoryStore
}

// Apps lets admins register the upstream OAuth apps through which users
// connect their own accounts (GitHub, Notion, …).
type Apps struct {
	Base
	Store       AppStore
	CallbackURL string // console_url + /oauth/upstream/callback
}

const appsPerPage = 25

var appFieldLabels = map[string]string{
	"name": "Name", "preset": "Preset", "client_id": "Client ID", "client_secret": "Client secret",
	"auth_url": "Authorization URL", "token_url": "Token URL", "revocation_url": "Revocation URL",
	"scopes": "Scopes", "auth_style": "Client authentication", "extra_params": "Extra parameters",
}

// ListApps shows one page of upstream apps matching ?q=.
func (h *Apps) ListApps(c echo.Context) error {
	ctx := c.Request().Context()
	q, page := listParams(c)
	apps, total, err := h.Store.ListUpstreamApps(ctx, models.AppFilter{Query: q, Offset: (page - 1) * appsPerPage, Limit: appsPerPage})
	if err != nil {
		return err
	}
	counts, err := h.Store.UpstreamConnectionCounts(ctx)
	if err != nil {
		return err
	}
	rows := make([]views.AppRow, len(apps))
	for i, a := range apps {
		rows[i] = views.AppRow{
			ID: a.ID, Name: a.Name, Preset: a.Preset, ClientID: a.ClientID, HasSecret: a.HasSecret, AuthURL: a.AuthURL,
			Connected: counts[a.ID].Connected, NeedsReconnect: counts[a.ID].NeedsReconnect,
		}
		routes, err := h.Store.RoutesUsingApp(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, r := range routes {
			rows[i].Routes = append(rows[i].Routes, r.Name)
		}
	}
	return Render(c, http.StatusOK, views.AppsPage(views.AppsProps{
		Page:       h.Page(c, "Upstream apps", views.SectionApps),
		Query:      q,
		Apps:       rows,
		Presets:    appPresets,
		Pagination: paginate("/admin/apps", url.Values{"q": {q}}, page, appsPerPage, int(total)),
	}))
}

// NewApp shows an empty form, or one filled from ?preset=.
func (h *Apps) NewApp(c echo.Context) error {
	form := views.AppForm{AuthStyle: "auto"}
	if p, ok := presetByKey(c.QueryParam("preset")); ok {
		form = views.AppForm{
			Name: p.Key, Preset: p.Key, AuthURL: p.AuthURL, TokenURL: p.TokenURL, RevocationURL: p.RevocationURL,
			Scopes: p.Scopes, AuthStyle: p.AuthStyle, ExtraParams: p.ExtraParams, PKCE: p.PKCE,
		}
	}
	return h.renderForm(c, http.StatusOK, &views.AppFormProps{IsNew: true, Form: form})
}

// CreateApp saves a new upstream app; its secret is encrypted at rest.
func (h *Apps) CreateApp(c echo.Context) error {
	a, form := appFromForm(c)
	if err := h.Store.CreateUpstreamApp(c.Request().Context(), a); err != nil {
		return h.formError(c, &views.AppFormProps{IsNew: true, Form: form}, err)
	}
	return h.redirectWithFlash(c, fmt.Sprintf("/admin/apps/%d", a.ID), views.FlashSuccess, fmt.Sprintf("Created upstream app %s.", a.Name))
}

// EditApp shows one app. The secret is never shown, only whether it is set.
func (h *Apps) EditApp(c echo.Context) error {
	a, err := h.app(c)
	if err != nil {
		return err
	}
	return h.renderForm(c, http.StatusOK, &views.AppFormProps{ID: a.ID, Form: appForm(a)})
}

// UpdateApp saves changes; an empty secret field keeps the stored secret.
func (h *Apps) UpdateApp(c echo.Context) error {
	existing, err := h.app(c)
	if err != nil {
		return err
	}
	a, form := appFromForm(c)
	a.ID = existing.ID
	form.HasSecret = existing.HasSecret
	if err := h.Store.UpdateUpstreamApp(c.Request().Context(), a); err != nil {
		return h.formError(c, &views.AppFormProps{ID: a.ID, Form: form}, err)
	}
	return h.redirectWithFlash(c, fmt.Sprintf("/admin/apps/%d", a.ID), views.FlashSuccess, fmt.Sprintf("Saved upstream app %s.", a.Name))
}

// DeleteApp removes an app no route uses.
func (h *Apps) DeleteApp(c echo.Context) error {
	a, err := h.app(c)
	if err != nil {
		return err
	}
	var cerr *models.ConflictError
	if err := h.Store.DeleteUpstreamApp(c.Request().Context(), a.ID); errors.As(err, &cerr) {
		return h.redirectWithFlash(c, fmt.Sprintf("/admin/apps/%d", a.ID), views.FlashError,
			fmt.Sprintf("%s cannot be deleted: it is %s.", a.Name, strings.TrimSuffix(cerr.Message, ".")))
	} else if err != nil {
		return err
	}
	return h.redirectWithFlash(c, "/admin/apps", views.FlashSuccess, fmt.Sprintf("Deleted upstream app %s.", a.Name))
}

func (h *Apps) app(c echo.Context) (*models.UpstreamApp, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	return h.Store.GetUpstreamApp(c.Request().Context(), id)
}

func (h *Apps) formError(c echo.Context, props *views.AppFormProps, err error) error {
	status, messages, ok := formProblems(err, appFieldLabels)
	if !ok {
		return err
	}
	props.Form.Errors = messages
	return h.renderForm(c, status, props)
}

func (h *Apps) renderForm(c echo.Context, status int, props *views.AppFormProps) error {
	ctx := c.Request().Context()
	title := "New upstream app"
	if !props.IsNew {
		title = props.Form.Name
		routes, err := h.Store.RoutesUsingApp(ctx, props.ID)
		if err != nil {
			return err
		}
		for i := range routes {
			props.Routes = append(props.Routes, routeRow(&routes[i]))
		}
		if props.History, err = recentHistory(ctx, h.Store, "upstream_app", props.ID); err != nil {
			return err
		}
		conns, err := h.Store.ListUpstreamConnections(ctx, models.ConnectionFilter{AppID: props.ID})
		if err != nil {
			return err
		}
		for _, conn := range conns {
			props.Connections = append(props.Connections, views.AppConnectionRow{
				UserID: conn.UserID, UserEmail: conn.UserEmail, Account: conn.Account, Status: conn.Status,
				ExpiresAt: conn.ExpiresAt, LastRefreshedAt: conn.LastRefreshedAt, LastUsedAt: conn.LastUsedAt,
			})
		}
		props.Now = time.Now()
	}
	props.Presets = appPresets
	props.CallbackURL = h.CallbackURL
	props.Page = h.Page(c, title, views.SectionApps)
	return Render(c, status, views.AppFormPage(*props))
}

// appFromForm reads the posted form. Malformed extra parameters are kept
// as an impossible key so the store reports them with everything else.
func appFromForm(c echo.Context) (*models.UpstreamApp, views.AppForm) {
	form := views.AppForm{
		Name:          strings.TrimSpace(c.FormValue("name")),
		Preset:        strings.TrimSpace(c.FormValue("preset")),
		ClientID:      strings.TrimSpace(c.FormValue("client_id")),
		AuthURL:       strings.TrimSpace(c.FormValue("auth_url")),
		TokenURL:      strings.TrimSpace(c.FormValue("token_url")),
		RevocationURL: strings.TrimSpace(c.FormValue("revocation_url")),
		Scopes:        strings.TrimSpace(c.FormValue("scopes")),
		AuthStyle:     c.FormValue("auth_style"),
		ExtraParams:   strings.TrimSpace(c.FormValue("extra_params")),
		PKCE:          c.FormValue("pkce") == "true",
	}
	a := &models.UpstreamApp{
		Name: form.Name, Preset: form.Preset, ClientID: form.ClientID,
		ClientSecret: strings.TrimSpace(c.FormValue("client_secret")),
		AuthURL:      form.AuthURL, TokenURL: form.TokenURL, RevocationURL: form.RevocationURL,
		Scopes:          strings.FieldsFunc(form.Scopes, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\r' || r == '\t' }),
		AuthStyle:       form.AuthStyle,
		ExtraAuthParams: parseParams(form.ExtraParams),
		PKCE:            form.PKCE,
	}
	return a, form
}

// parseParams reads key=value lines. A line without "=" becomes a key the
// store refuses, so the form says which line is wrong.
func parseParams(s string) map[string]string {
	if s == "" {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v = line+" (missing =)", ""
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

func appForm(a *models.UpstreamApp) views.AppForm {
	keys := make([]string, 0, len(a.ExtraAuthParams))
	for k := range a.ExtraAuthParams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + a.ExtraAuthParams[k]
	}
	return views.AppForm{
		Name: a.Name, Preset: a.Preset, ClientID: a.ClientID, HasSecret: a.HasSecret,
		AuthURL: a.AuthURL, TokenURL: a.TokenURL, RevocationURL: a.RevocationURL,
		Scopes: strings.Join(a.Scopes, " "), AuthStyle: a.AuthStyle, ExtraParams: strings.Join(lines, "\n"), PKCE: a.PKCE,
	}
}
