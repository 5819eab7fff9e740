package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// RouteStore is what the routes pages need of the store.
type RouteStore interface {
	ListRoutes(ctx context.Context, f models.RouteFilter) ([]models.Route, int64, error)
	GetRoute(ctx context.Context, id uint) (*models.Route, error)
	CreateRoute(ctx context.Context, r *models.Route, policyIDs []uint) error
	UpdateRoute(ctx context.Context, r *models.Route, policyIDs []uint) error
	DeleteRoute(ctx context.Context, id uint) error
	AllPolicies(ctx context.Context) ([]models.Policy, error)
	AllUpstreamApps(ctx context.Context) ([]models.UpstreamApp, error)
	HistoryStore
}

// ConnectionTester runs an MCP initialize and tools/list against an
// upstream and reports what it found.
type ConnectionTester interface {
	TestConnection(ctx context.Context, upstream string) views.ConnectionTest
}

// Routes lets admins manage routes: a public from URL, an upstream, the
// policies that guard it and the upstream app that signs users in there.
type Routes struct {
	Base
	Store  RouteStore
	Tester ConnectionTester
}

// NewRoutes builds the routes handlers.
func NewRoutes(base Base, store RouteStore, tester ConnectionTester) *Routes {
	return &Routes{Base: base, Store: store, Tester: tester}
}

const routesPerPage = 25

var routeFieldLabels = map[string]string{
	"name": "Name", "description": "Description", "from": "From", "to": "To", "kind": "Kind",
	"policies": "Policies", "upstream_app": "Upstream app", "timeout_seconds": "Timeout",
	"max_request_bytes": "Maximum request size", "pass_upstream_token": "Pass the access token",
}

// ListRoutes shows one page of routes matching ?q=.
func (h *Routes) ListRoutes(c echo.Context) error {
	q, page := listParams(c)
	routes, total, err := h.Store.ListRoutes(c.Request().Context(), models.RouteFilter{
		Query: q, Offset: (page - 1) * routesPerPage, Limit: routesPerPage,
	})
	if err != nil {
		return err
	}
	rows := make([]views.RouteRow, len(routes))
	for i := range routes {
		rows[i] = routeRow(&routes[i])
	}
	return Render(c, http.StatusOK, views.RoutesPage(views.RoutesProps{
		Page:       h.Page(c, "Routes", views.SectionRoutes),
		Query:      q,
		Routes:     rows,
		Pagination: paginate("/admin/routes", url.Values{"q": {q}}, page, routesPerPage, int(total)),
	}))
}

// NewRoute shows an empty route form.
func (h *Routes) NewRoute(c echo.Context) error {
	form := views.RouteForm{Kind: models.KindMCPServer, Enabled: true}
	return h.renderForm(c, http.StatusOK, &views.RouteFormProps{IsNew: true, Form: form}, nil, nil)
}

// CreateRoute saves a new route.
func (h *Routes) CreateRoute(c echo.Context) error {
	r, policyIDs, form := routeFromForm(c)
	if err := h.Store.CreateRoute(c.Request().Context(), r, policyIDs); err != nil {
		return h.formError(c, &views.RouteFormProps{IsNew: true, Form: form}, policyIDs, r.UpstreamAppID, err)
	}
	return h.redirectWithFlash(c, fmt.Sprintf("/admin/routes/%d", r.ID), views.FlashSuccess, fmt.Sprintf("Created route %s.", r.Name))
}

// EditRoute shows the form for one route, with its recent history.
func (h *Routes) EditRoute(c echo.Context) error {
	r, err := h.route(c)
	if err != nil {
		return err
	}
	return h.renderEdit(c, r, nil)
}

// UpdateRoute saves changes to a route.
func (h *Routes) UpdateRoute(c echo.Context) error {
	existing, err := h.route(c)
	if err != nil {
		return err
	}
	r, policyIDs, form := routeFromForm(c)
	r.ID = existing.ID
	if err := h.Store.UpdateRoute(c.Request().Context(), r, policyIDs); err != nil {
		return h.formError(c, &views.RouteFormProps{ID: r.ID, Form: form}, policyIDs, r.UpstreamAppID, err)
	}
	return h.redirectWithFlash(c, fmt.Sprintf("/admin/routes/%d", r.ID), views.FlashSuccess, fmt.Sprintf("Saved route %s.", r.Name))
}

// DeleteRoute removes a route; the proxy stops serving it at once.
func (h *Routes) DeleteRoute(c echo.Context) error {
	r, err := h.route(c)
	if err != nil {
		return err
	}
	if err := h.Store.DeleteRoute(c.Request().Context(), r.ID); err != nil {
		return err
	}
	return h.redirectWithFlash(c, "/admin/routes", views.FlashSuccess, fmt.Sprintf("Deleted route %s.", r.Name))
}

// TestRoute runs an MCP initialize and tools/list against the route's
// upstream and shows the result on the edit page.
func (h *Routes) TestRoute(c echo.Context) error {
	r, err := h.route(c)
	if err != nil {
		return err
	}
	result := h.Tester.TestConnection(c.Request().Context(), r.To)
	return h.renderEdit(c, r, &result)
}

func (h *Routes) route(c echo.Context) (*models.Route, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	return h.Store.GetRoute(c.Request().Context(), id)
}

func (h *Routes) renderEdit(c echo.Context, r *models.Route, test *views.ConnectionTest) error {
	ids := make([]uint, len(r.Policies))
	for i, p := range r.Policies {
		ids[i] = p.ID
	}
	props := &views.RouteFormProps{ID: r.ID, Form: routeForm(r), Test: test}
	return h.renderForm(c, http.StatusOK, props, ids, r.UpstreamAppID)
}

// formError shows the form again with the store's complaints, keeping
// everything that was typed.
func (h *Routes) formError(c echo.Context, props *views.RouteFormProps, policyIDs []uint, appID *uint, err error) error {
	status, messages, ok := formProblems(err, routeFieldLabels)
	if !ok {
		return err
	}
	props.Form.Errors = messages
	return h.renderForm(c, status, props, policyIDs, appID)
}

func (h *Routes) renderForm(c echo.Context, status int, props *views.RouteFormProps, policyIDs []uint, appID *uint) error {
	ctx := c.Request().Context()
	policies, err := h.Store.AllPolicies(ctx)
	if err != nil {
		return err
	}
	apps, err := h.Store.AllUpstreamApps(ctx)
	if err != nil {
		return err
	}
	for _, p := range policies {
		props.Policies = append(props.Policies, views.Option{
			Value: strconv.FormatUint(uint64(p.ID), 10), Label: p.Name, Hint: p.Description, Selected: slices.Contains(policyIDs, p.ID),
		})
	}
	for _, a := range apps {
		props.Apps = append(props.Apps, views.Option{
			Value: strconv.FormatUint(uint64(a.ID), 10), Label: a.Name, Selected: appID != nil && *appID == a.ID,
		})
	}
	props.Kinds = []views.Option{
		{Value: models.KindMCPServer, Label: "MCP server", Hint: "An MCP server behind the gateway", Selected: props.Form.Kind == models.KindMCPServer},
		{Value: models.KindMCPClient, Label: "MCP client app", Hint: "An app that receives the signed-in user's access token", Selected: props.Form.Kind == models.KindMCPClient},
		{Value: models.KindHTTP, Label: "HTTP", Hint: "A plain web app behind identity-aware access", Selected: props.Form.Kind == models.KindHTTP},
	}
	title := "New route"
	if !props.IsNew {
		title = props.Form.Name
		if props.History, err = recentHistory(ctx, h.Store, "route", props.ID); err != nil {
			return err
		}
	}
	props.Page = h.Page(c, title, views.SectionRoutes)
	return Render(c, status, views.RouteFormPage(*props))
}

// routeFromForm reads the posted form. A number or ID that does not parse
// becomes an impossible value, so the store reports it with every other
// problem at once.
func routeFromForm(c echo.Context) (*models.Route, []uint, views.RouteForm) {
	form := views.RouteForm{
		Name:              strings.TrimSpace(c.FormValue("name")),
		Description:       strings.TrimSpace(c.FormValue("description")),
		From:              strings.TrimSpace(c.FormValue("from")),
		To:                strings.TrimSpace(c.FormValue("to")),
		Kind:              c.FormValue("kind"),
		TimeoutSeconds:    strings.TrimSpace(c.FormValue("timeout_seconds")),
		MaxRequestBytes:   strings.TrimSpace(c.FormValue("max_request_bytes")),
		Enabled:           c.FormValue("enabled") == "true",
		PassUpstreamToken: c.FormValue("pass_upstream_token") == "true",
	}
	r := &models.Route{
		Name: form.Name, Description: form.Description, From: form.From, To: form.To, Kind: form.Kind,
		Enabled: form.Enabled, PassUpstreamToken: form.PassUpstreamToken,
		TimeoutSeconds:  formInt(form.TimeoutSeconds),
		MaxRequestBytes: int64(formInt(form.MaxRequestBytes)),
	}
	if v := c.FormValue("upstream_app"); v != "" {
		id := formID(v)
		r.UpstreamAppID = &id
	}
	return r, formIDs(c, "policies"), form
}

func routeForm(r *models.Route) views.RouteForm {
	f := views.RouteForm{
		Name: r.Name, Description: r.Description, From: r.From, To: r.To, Kind: r.Kind,
		Enabled: r.Enabled, PassUpstreamToken: r.PassUpstreamToken,
	}
	if r.TimeoutSeconds > 0 {
		f.TimeoutSeconds = strconv.Itoa(r.TimeoutSeconds)
	}
	if r.MaxRequestBytes > 0 {
		f.MaxRequestBytes = strconv.FormatInt(r.MaxRequestBytes, 10)
	}
	return f
}

func routeRow(r *models.Route) views.RouteRow {
	row := views.RouteRow{
		ID: r.ID, Name: r.Name, Description: r.Description, From: r.From, To: r.To, Kind: r.Kind, Enabled: r.Enabled,
	}
	for _, p := range r.Policies {
		row.Policies = append(row.Policies, p.Name)
	}
	if r.UpstreamApp != nil {
		row.UpstreamApp = r.UpstreamApp.Name
	}
	return row
}
