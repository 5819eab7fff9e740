package handlers

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// auditRanges are the time range presets of the audit log's filter bar.
var auditRanges = map[string]time.Duration{
	"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour,
}

// auditFormTime is how the filter bar's datetime-local fields spell a
// time: minutes, in UTC.
const auditFormTime = "2006-01-02T15:04"

// readAuditFilter reads the filter bar from q, a page's query or the
// export's form: the form as typed, the store's filter, and what was
// wrong with it, by field.
func readAuditFilter(ctx context.Context, q url.Values, users interface {
	GetUserByEmail(ctx context.Context, email string) (*models.User, error)
}, now time.Time) (views.AuditFilterForm, models.AuditFilter, map[string]string, error) {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	form := views.AuditFilterForm{
		Range: get("range"), From: get("from"), To: get("to"),
		User: get("user"), ServiceAccount: get("service_account"), Route: get("route"), Tool: get("tool"),
		Method: get("method"), Decision: get("decision"), Outcome: get("outcome"), Client: get("client"),
		Kind: get("kind"), Text: get("text"),
	}
	if form.Range == "" {
		form.Range = "24h"
	}
	f := models.AuditFilter{
		ServiceAccount: form.ServiceAccount, ToolPrefix: form.Tool, MCPMethod: form.Method,
		Decision: form.Decision, Outcome: form.Outcome, ClientID: form.Client, Kind: form.Kind, Text: form.Text,
	}
	problems := map[string]string{}
	switch d, ok := auditRanges[form.Range]; {
	case ok:
		f.From = now.Add(-d)
	case form.Range == "all":
	case form.Range == "custom":
		for _, p := range []struct {
			field, value string
			dst          *time.Time
		}{{"from", form.From, &f.From}, {"to", form.To, &f.To}} {
			if p.value == "" {
				continue
			}
			t, err := time.ParseInLocation(auditFormTime, p.value, time.UTC)
			if err != nil {
				problems[p.field] = "a date and time, as YYYY-MM-DDTHH:MM (UTC)"
				continue
			}
			*p.dst = t
		}
	default:
		problems["range"] = "one of the presets, all, or custom"
	}
	if form.User != "" {
		u, err := users.GetUserByEmail(ctx, form.User)
		switch {
		case errors.Is(err, models.ErrNotFound):
			none := ^uint(0) // no such user: nothing matches
			f.UserID = &none
		case err != nil:
			return form, f, nil, err
		default:
			f.UserID = &u.ID
		}
	}
	if form.Route != "" {
		id, err := strconv.ParseUint(form.Route, 10, 32)
		if err != nil {
			problems["route"] = "a route"
		} else {
			r := uint(id)
			f.RouteID = &r
		}
	}
	return form, f, problems, nil
}

// auditQuery is the filter bar's form as a query, for links that keep
// the view (paging, the live tail) and for the record of an export.
func auditQuery(form views.AuditFilterForm) url.Values {
	v := url.Values{}
	for k, val := range map[string]string{
		"range": form.Range, "from": form.From, "to": form.To, "user": form.User,
		"service_account": form.ServiceAccount, "route": form.Route, "tool": form.Tool, "method": form.Method,
		"decision": form.Decision, "outcome": form.Outcome, "client": form.Client, "kind": form.Kind, "text": form.Text,
	} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}
