package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/policy"
	"github.com/drawbridge/drawbridge/views"
)

// PolicyStore is what the policies pages need of the store.
type PolicyStore interface {
	ListPolicies(ctx context.Context, f models.PolicyFilter) ([]models.Policy, int64, error)
	GetPolicy(ctx context.Context, id uint) (*models.Policy, error)
	CreatePolicy(ctx context.Context, p *models.Policy) error
	UpdatePolicy(ctx context.Context, p *models.Policy) error
	DeletePolicy(ctx context.Context, id uint) error
	RoutesUsingPolicy(ctx context.Context, policyID uint) ([]models.Route, error)
	HistoryStore
}

// Policies lets admins write the rules routes enforce. The store refuses a
// policy that does not compile, so a route never points at a broken one.
type Policies struct {
	Base
	Store PolicyStore
}

const policiesPerPage = 25

var policyFieldLabels = map[string]string{"name": "Name", "description": "Description", "source": "Policy"}

// newPolicySource is what the editor starts with: a working policy that
// says what it does.
const newPolicySource = `# Who may use the routes this policy guards, and which tools they may call.
allow:
  and:
    - authenticated_user: true
deny:
  or:
    - mcp_tool: {starts_with: admin_}
`

// ListPolicies shows one page of policies matching ?q=.
func (h *Policies) ListPolicies(c echo.Context) error {
	ctx := c.Request().Context()
	q, page := listParams(c)
	policies, total, err := h.Store.ListPolicies(ctx, models.PolicyFilter{Query: q, Offset: (page - 1) * policiesPerPage, Limit: policiesPerPage})
	if err != nil {
		return err
	}
	rows := make([]views.PolicyRow, len(policies))
	for i, p := range policies {
		rows[i] = views.PolicyRow{ID: p.ID, Name: p.Name, Description: p.Description, UpdatedAt: p.UpdatedAt}
		routes, err := h.Store.RoutesUsingPolicy(ctx, p.ID)
		if err != nil {
			return err
		}
		for _, r := range routes {
			rows[i].Routes = append(rows[i].Routes, r.Name)
		}
	}
	return Render(c, http.StatusOK, views.PoliciesPage(views.PoliciesProps{
		Page:       h.Page(c, "Policies", views.SectionPolicies),
		Query:      q,
		Policies:   rows,
		Pagination: paginate("/admin/policies", url.Values{"q": {q}}, page, policiesPerPage, int(total)),
	}))
}

// NewPolicy shows the editor with a starting policy.
func (h *Policies) NewPolicy(c echo.Context) error {
	return h.renderForm(c, http.StatusOK, &views.PolicyFormProps{IsNew: true, Form: views.PolicyForm{Source: newPolicySource}})
}

// CreatePolicy saves a new policy if it compiles.
func (h *Policies) CreatePolicy(c echo.Context) error {
	p, form := policyFromForm(c)
	if err := h.Store.CreatePolicy(c.Request().Context(), p); err != nil {
		return h.formError(c, &views.PolicyFormProps{IsNew: true, Form: form}, err)
	}
	return h.redirectWithFlash(c, fmt.Sprintf("/admin/policies/%d", p.ID), views.FlashSuccess, fmt.Sprintf("Created policy %s.", p.Name))
}

// EditPolicy shows the editor for one policy.
func (h *Policies) EditPolicy(c echo.Context) error {
	p, err := h.policy(c)
	if err != nil {
		return err
	}
	form := views.PolicyForm{Name: p.Name, Description: p.Description, Source: p.Source}
	return h.renderForm(c, http.StatusOK, &views.PolicyFormProps{ID: p.ID, Form: form})
}

// UpdatePolicy saves changes; routes using the policy enforce them at once.
func (h *Policies) UpdatePolicy(c echo.Context) error {
	existing, err := h.policy(c)
	if err != nil {
		return err
	}
	p, form := policyFromForm(c)
	p.ID = existing.ID
	if err := h.Store.UpdatePolicy(c.Request().Context(), p); err != nil {
		return h.formError(c, &views.PolicyFormProps{ID: p.ID, Form: form}, err)
	}
	return h.redirectWithFlash(c, fmt.Sprintf("/admin/policies/%d", p.ID), views.FlashSuccess, fmt.Sprintf("Saved policy %s.", p.Name))
}

// DeletePolicy removes a policy that no route uses.
func (h *Policies) DeletePolicy(c echo.Context) error {
	p, err := h.policy(c)
	if err != nil {
		return err
	}
	var cerr *models.ConflictError
	if err := h.Store.DeletePolicy(c.Request().Context(), p.ID); errors.As(err, &cerr) {
		return h.redirectWithFlash(c, fmt.Sprintf("/admin/policies/%d", p.ID), views.FlashError,
			fmt.Sprintf("%s cannot be deleted: it is %s. Detach it from those routes first.", p.Name, strings.TrimSuffix(cerr.Message, ".")))
	} else if err != nil {
		return err
	}
	return h.redirectWithFlash(c, "/admin/policies", views.FlashSuccess, fmt.Sprintf("Deleted policy %s.", p.Name))
}

func (h *Policies) policy(c echo.Context) (*models.Policy, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	return h.Store.GetPolicy(c.Request().Context(), id)
}

// formError shows the editor again with every problem: the form's fields
// and the language's own errors, each at its line.
func (h *Policies) formError(c echo.Context, props *views.PolicyFormProps, err error) error {
	// The store may report bad fields and a bad source together.
	var perrs policy.Errors
	hasP := errors.As(err, &perrs)
	status, messages, ok := formProblems(err, policyFieldLabels)
	switch {
	case !ok && !hasP:
		return err
	case !ok:
		status, messages = http.StatusUnprocessableEntity, map[string]string{}
	}
	if hasP {
		props.Form.SourceErrors = sourceErrors(perrs)
		messages["source"] = fmt.Sprintf("The policy has %s; see below.", plural(len(perrs), "problem"))
	}
	props.Form.Errors = messages
	return h.renderForm(c, status, props)
}

func (h *Policies) renderForm(c echo.Context, status int, props *views.PolicyFormProps) error {
	ctx := c.Request().Context()
	title := "New policy"
	if !props.IsNew {
		title = props.Form.Name
		routes, err := h.Store.RoutesUsingPolicy(ctx, props.ID)
		if err != nil {
			return err
		}
		for i := range routes {
			props.Routes = append(props.Routes, routeRow(&routes[i]))
		}
		if props.History, err = recentHistory(ctx, h.Store, "policy", props.ID); err != nil {
			return err
		}
	}
	props.Page = h.Page(c, title, views.SectionPolicies)
	return Render(c, status, views.PolicyFormPage(*props))
}

func policyFromForm(c echo.Context) (*models.Policy, views.PolicyForm) {
	form := views.PolicyForm{
		Name:        strings.TrimSpace(c.FormValue("name")),
		Description: strings.TrimSpace(c.FormValue("description")),
		// Browsers post textareas with CRLF; the language reads either, but
		// history diffs read better with one kind of line end.
		Source: strings.ReplaceAll(c.FormValue("source"), "\r\n", "\n"),
	}
	return &models.Policy{Name: form.Name, Description: form.Description, Source: form.Source}, form
}

func sourceErrors(perrs policy.Errors) []views.SourceError {
	out := make([]views.SourceError, len(perrs))
	for i, e := range perrs {
		msg := e.Message
		if e.Hint != "" {
			msg += "; " + e.Hint
		}
		out[i] = views.SourceError{Line: e.Line, Column: e.Column, Message: msg}
	}
	return out
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
