package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/policy"
	"github.com/drawbridge/drawbridge/views"
)

// SimulatorStore is what the policy simulator needs of the store.
type SimulatorStore interface {
	ListUsers(ctx context.Context, f models.UserFilter) ([]models.User, int64, error)
	GetUser(ctx context.Context, id uint) (*models.User, error)
	ListRoutes(ctx context.Context, f models.RouteFilter) ([]models.Route, int64, error)
	GetRoute(ctx context.Context, id uint) (*models.Route, error)
	GetPolicy(ctx context.Context, id uint) (*models.Policy, error)
}

// Simulator answers "would this call be allowed, and why": the same
// evaluation the proxy runs, with every rule's outcome shown.
type Simulator struct {
	Base
	Store SimulatorStore
}

// choiceLimit bounds the user and route pickers; beyond it, type the
// identity instead.
const choiceLimit = 500

// ShowSimulator renders the empty simulator.
func (h *Simulator) ShowSimulator(c echo.Context) error {
	form := views.SimulatorForm{HTTPMethod: http.MethodPost, MCPMethod: "tools/call", Arguments: "{}"}
	return h.render(c, http.StatusOK, form, nil)
}

// Simulate evaluates the route's policies for the described call.
func (h *Simulator) Simulate(c echo.Context) error {
	ctx := c.Request().Context()
	form := views.SimulatorForm{
		UserID:     c.FormValue("user"),
		Email:      strings.TrimSpace(c.FormValue("email")),
		Groups:     strings.TrimSpace(c.FormValue("groups")),
		RouteID:    c.FormValue("route"),
		HTTPMethod: strings.ToUpper(strings.TrimSpace(c.FormValue("http_method"))),
		MCPMethod:  strings.TrimSpace(c.FormValue("mcp_method")),
		Tool:       strings.TrimSpace(c.FormValue("tool")),
		Arguments:  strings.TrimSpace(c.FormValue("arguments")),
		Errors:     map[string]string{},
	}
	in := &policy.Input{Authenticated: true, HTTPMethod: form.HTTPMethod, MCPMethod: form.MCPMethod, Now: time.Now()}
	if form.UserID != "" {
		u, err := h.Store.GetUser(ctx, formID(form.UserID))
		if err != nil {
			form.Errors["user"] = "Choose a user from the list, or type an identity."
		} else {
			in.UserID, in.Email, in.Groups = strconv.FormatUint(uint64(u.ID), 10), u.Email, u.Groups
			form.Email, form.Groups = u.Email, strings.Join(u.Groups, ", ")
		}
	} else {
		in.Email, in.Groups = form.Email, splitList(form.Groups)
		in.Authenticated = form.Email != ""
	}
	if in.MCPMethod == "tools/call" {
		in.MCPTool = form.Tool
		if form.Arguments != "" {
			var args map[string]json.RawMessage
			if err := json.Unmarshal([]byte(form.Arguments), &args); err != nil {
				form.Errors["arguments"] = "Arguments must be a JSON object, like {\"repo\": \"acme/api\"}."
			}
			in.Arguments = json.RawMessage(form.Arguments)
		}
	}
	r, err := h.Store.GetRoute(ctx, formID(form.RouteID))
	if err != nil {
		form.Errors["route"] = "Choose the route the call goes to."
	}
	if len(form.Errors) > 0 {
		return h.render(c, http.StatusUnprocessableEntity, form, nil)
	}
	if u, err := url.Parse(r.From); err == nil {
		in.HTTPPath = u.Path
	}
	result, err := h.evaluate(ctx, r, in)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, form, result)
}

// evaluate explains each of the route's policies and combines them as the
// proxy does: allowed when one allows and none denies.
func (h *Simulator) evaluate(ctx context.Context, r *models.Route, in *policy.Input) (*views.SimulationResult, error) {
	compiled := make([]*policy.Policy, 0, len(r.Policies))
	var steps []views.SimulationStep
	for _, ref := range r.Policies {
		p, err := h.Store.GetPolicy(ctx, ref.ID)
		if err != nil {
			return nil, err
		}
		cp, err := policy.Parse(p.Name, []byte(p.Source))
		if err != nil {
			return nil, fmt.Errorf("policy %s no longer compiles: %w", p.Name, err)
		}
		compiled = append(compiled, cp)
		ex := cp.Explain(in)
		deciding := map[string]bool{}
		for _, reason := range ex.Decision.Reasons {
			deciding[reason.Rule] = true
		}
		for _, s := range ex.Steps {
			detail := ""
			if !s.Operator {
				detail = s.Name + " = " + s.Value
			}
			steps = append(steps, views.SimulationStep{
				Policy: p.Name, Rule: s.Path, Line: s.Line, Matched: s.Matched, Detail: detail,
				Depth: s.Depth, Decides: s.Matched && deciding[s.Path],
			})
		}
	}
	d := policy.Evaluate(compiled, in)
	return &views.SimulationResult{Allow: d.Allow, Summary: summarize(d), Steps: steps}, nil
}

// summarize says in one sentence what decided, for people rather than
// logs: which policy, which rule on which line, and the value it saw.
func summarize(d policy.Decision) string {
	if len(d.Reasons) == 0 {
		return ""
	}
	r := d.Reasons[0]
	verb := "denies"
	if d.Allow {
		verb = "allows"
	}
	switch {
	case r.Note == policy.NoteNoPolicy:
		return "The route has no policy, so nobody may use it."
	case r.Note == policy.NoteNoAllow:
		return fmt.Sprintf("No allow rule of policy %s matched, so it denies the call.", r.Policy)
	case r.Note != "":
		return fmt.Sprintf("Policy %s denies the call: %s.", r.Policy, r.Note)
	case r.Matched != "":
		return fmt.Sprintf("Policy %s %s the call: rule %s on line %d matched %q.", r.Policy, verb, r.Rule, r.Line, r.Matched)
	}
	return fmt.Sprintf("Policy %s %s the call: rule %s on line %d matched.", r.Policy, verb, r.Rule, r.Line)
}

func (h *Simulator) render(c echo.Context, status int, form views.SimulatorForm, result *views.SimulationResult) error {
	ctx := c.Request().Context()
	users, _, err := h.Store.ListUsers(ctx, models.UserFilter{Limit: choiceLimit})
	if err != nil {
		return err
	}
	routes, _, err := h.Store.ListRoutes(ctx, models.RouteFilter{Limit: choiceLimit})
	if err != nil {
		return err
	}
	props := views.SimulatorProps{Page: h.Page(c, "Policy simulator", views.SectionPolicies), Form: form, Result: result}
	for _, u := range users {
		id := strconv.FormatUint(uint64(u.ID), 10)
		props.Users = append(props.Users, views.Option{Value: id, Label: u.Email, Hint: strings.Join(u.Groups, ", "), Selected: id == form.UserID})
	}
	for _, r := range routes {
		id := strconv.FormatUint(uint64(r.ID), 10)
		props.Routes = append(props.Routes, views.Option{Value: id, Label: r.Name, Hint: r.From, Selected: id == form.RouteID})
	}
	return Render(c, status, views.SimulatorPage(props))
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
