package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// HistoryStore is what the change history needs of the store.
type HistoryStore interface {
	ListChanges(ctx context.Context, f models.ChangeFilter) ([]models.Change, int64, error)
	GetChange(ctx context.Context, id uint) (*models.Change, error)
}

// History shows every configuration change: who, when, what, and a diff.
type History struct {
	Base
	Store HistoryStore
}

const changesPerPage = 50

// historyResources are the kinds of object the history can be filtered by.
var historyResources = []views.Option{
	{Value: "route", Label: "Routes"},
	{Value: "policy", Label: "Policies"},
	{Value: "upstream_app", Label: "Upstream apps"},
	{Value: "user", Label: "Users"},
	{Value: models.ResourceServiceAccount, Label: "Service accounts"},
	{Value: models.ResourceSettings, Label: "Settings"},
}

// ListHistory shows one page of changes, newest first, filtered by
// ?resource=, ?actor= and ?q= (the object's name).
func (h *History) ListHistory(c echo.Context) error {
	q, page := listParams(c)
	resource := c.QueryParam("resource")
	actor := strings.TrimSpace(c.QueryParam("actor"))
	changes, total, err := h.Store.ListChanges(c.Request().Context(), models.ChangeFilter{
		Resource: resource, Actor: actor, Query: q, Offset: (page - 1) * changesPerPage, Limit: changesPerPage,
	})
	if err != nil {
		return err
	}
	resources := make([]views.Option, len(historyResources))
	for i, r := range historyResources {
		r.Selected = r.Value == resource
		resources[i] = r
	}
	return Render(c, http.StatusOK, views.HistoryPage(views.HistoryProps{
		Page:       h.Page(c, "Change history", views.SectionHistory),
		Resource:   resource,
		Actor:      actor,
		Query:      q,
		Resources:  resources,
		Changes:    changeRows(changes),
		Pagination: paginate("/admin/history", url.Values{"q": {q}, "resource": {resource}, "actor": {actor}}, page, changesPerPage, int(total)),
	}))
}

// ShowChange shows one change with a line diff of before and after.
func (h *History) ShowChange(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ch, err := h.Store.GetChange(c.Request().Context(), id)
	if err != nil {
		return err
	}
	row := changeRows([]models.Change{*ch})[0]
	return Render(c, http.StatusOK, views.ChangePage(views.ChangeProps{
		Page:   h.Page(c, fmt.Sprintf("Change #%d", ch.ID), views.SectionHistory),
		Change: row,
		Diff:   lineDiff(ch.Before, ch.After),
	}))
}

// recentHistory is the last few changes of one object, for its edit page.
func recentHistory(ctx context.Context, store HistoryStore, resource string, id uint) ([]views.ChangeRow, error) {
	changes, _, err := store.ListChanges(ctx, models.ChangeFilter{Resource: resource, ResourceID: id, Limit: 10})
	if err != nil {
		return nil, err
	}
	return changeRows(changes), nil
}

func changeRows(changes []models.Change) []views.ChangeRow {
	rows := make([]views.ChangeRow, len(changes))
	for i, ch := range changes {
		rows[i] = views.ChangeRow{
			ID: ch.ID, At: ch.At, Actor: ch.Actor, Resource: ch.Resource,
			ResourceName: ch.ResourceName, Action: ch.Action,
		}
		if ch.Action != "delete" {
			rows[i].ResourceURL = resourceURL(ch.Resource, ch.ResourceID)
		}
	}
	return rows
}

func resourceURL(resource string, id uint) string {
	switch resource {
	case "route":
		return fmt.Sprintf("/admin/routes/%d", id)
	case "policy":
		return fmt.Sprintf("/admin/policies/%d", id)
	case "upstream_app":
		return fmt.Sprintf("/admin/apps/%d", id)
	case "user":
		return "/admin/users"
	case models.ResourceSettings:
		return "/admin/clients"
	}
	return ""
}
