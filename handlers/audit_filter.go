package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// auditRanges are the time range presets of the audit log's filter bar.
var auditRanges = map[string]time.Duration{
	"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour,
}

// auditFormTime is how the filter bar's datetime-local fields spell a
// time: minutes, in UTC. auditFormSeconds is the same with seconds,
// which a browser sends when the value it was given had them.
const (
	auditFormTime    = "2006-01-02T15:04"
	auditFormSeconds = "2006-01-02T15:04:05"
)

// auditParams is what an audit page's query (or the export's form)
// asks for: the filter bar as typed, the store's filter, and the keyset
// cursors of paging (before) and of the live tail (after), 0 when absent.
type auditParams struct {
	Form          views.AuditFilterForm
	Filter        models.AuditFilter
	Before, After uint64
}

// readAuditParams reads the audit pages' parameters from q: the list,
// the export and the live tail all read them here, so that a value one
// refuses, all refuse. A value that cannot be read, or a filter the
// store would refuse, is a 400 naming each parameter and what it may be
// (badParams); the error is of another kind only when the store fails.
func readAuditParams(ctx context.Context, q url.Values, users interface {
	GetUserByEmail(ctx context.Context, email string) (*models.User, error)
}, now time.Time) (auditParams, error) {
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	form := views.AuditFilterForm{
		Range: get("range"), From: get("from"), To: get("to"),
		User: get("user"), ServiceAccount: get("service_account"), Route: get("route"), Tool: get("tool"),
		Method: get("method"), Decision: get("decision"), Outcome: get("outcome"), Client: get("client"),
		Kind: get("kind"), Text: get("text"),
	}
	if form.Range == "" {
		form.Range = views.AuditDefaultRange
	}
	p := auditParams{Form: form, Filter: models.AuditFilter{
		ServiceAccount: form.ServiceAccount, ToolPrefix: form.Tool, MCPMethod: form.Method,
		Decision: form.Decision, Outcome: form.Outcome, ClientID: form.Client, Kind: form.Kind, Text: form.Text,
	}}
	var bad models.ValidationError

	// The dates are checked whatever the range: the filter bar sends
	// them along, hidden, once a custom range was shown; only a custom
	// range uses them.
	from, to := readFormTime(&bad, "from", form.From), readFormTime(&bad, "to", form.To)
	switch d, ok := auditRanges[form.Range]; {
	case ok:
		p.Filter.From = now.Add(-d)
	case form.Range == "all":
	case form.Range == "custom":
		p.Filter.From, p.Filter.To = from, to
	default:
		bad.Add("range", "must be 1h, 24h, 7d, 30d, all or custom"+got(form.Range))
	}
	if form.Route != "" {
		if id, err := strconv.ParseUint(form.Route, 10, 32); err != nil || id == 0 {
			bad.Add("route", "must be a route's number, as the filter bar's Route list gives it"+got(form.Route))
		} else {
			r := uint(id)
			p.Filter.RouteID = &r
		}
	}
	oneOf(&bad, "decision", form.Decision, []string{models.AuditAllow, models.AuditDeny, models.AuditError})
	oneOf(&bad, "outcome", form.Outcome, models.AuditOutcomes)
	oneOf(&bad, "kind", form.Kind, models.AuditKinds)
	p.Before = readCursor(&bad, "before", get("before"))
	p.After = readCursor(&bad, "after", get("after"))
	// What is left for the store to refuse (a range that ends before it
	// starts, a search too long), under the parameters' own names.
	var verr *models.ValidationError
	if errors.As(p.Filter.Validate(), &verr) {
		for _, fe := range verr.Fields {
			field := map[string]string{"tool_prefix": "tool"}[fe.Field]
			if field == "" {
				field = fe.Field
			}
			if bad.For(field) == "" {
				bad.Add(field, fe.Message)
			}
		}
	}
	if err := bad.Err(); err != nil {
		return p, badParams(&bad)
	}

	if form.User != "" {
		u, err := users.GetUserByEmail(ctx, form.User)
		switch {
		case errors.Is(err, models.ErrNotFound):
			none := ^uint(0) // no such user: nothing matches
			p.Filter.UserID = &none
		case err != nil:
			return p, err
		default:
			p.Filter.UserID = &u.ID
		}
	}
	return p, nil
}

// readFormTime reads a datetime-local value in UTC; the zero time for "".
func readFormTime(bad *models.ValidationError, param, v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{auditFormTime, auditFormSeconds} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t
		}
	}
	bad.Add(param, "must be a date and time in UTC, as YYYY-MM-DDTHH:MM"+got(v))
	return time.Time{}
}

// readCursor reads a keyset cursor: an event's number; 0 for "".
func readCursor(bad *models.ValidationError, param, v string) uint64 {
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		bad.Add(param, "must be an event's number, as the Older and Newest links give it"+got(v))
		return 0
	}
	return n
}

// oneOf checks that v, when set, is one of allowed.
func oneOf(bad *models.ValidationError, param, v string, allowed []string) {
	if v != "" && !slices.Contains(allowed, v) {
		bad.Add(param, "must be "+orList(allowed)+got(v))
	}
}

// orList is "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// got is the value a message was about, quoted and cut short: it is
// whatever the address held.
func got(v string) string {
	if r := []rune(v); len(r) > 40 {
		v = string(r[:40]) + "…"
	}
	return fmt.Sprintf(", not %q", v)
}

// badParams is the answer to an address whose parameters a page cannot
// read: 400, naming each parameter and what it may be, rather than a
// page that quietly shows something else than what was asked for. The
// fields stay attached, for the error handler's JSON answer.
func badParams(v *models.ValidationError) error {
	parts := make([]string, len(v.Fields))
	for i, f := range v.Fields {
		parts[i] = f.Field + " " + f.Message
	}
	msg := "This address asks for something the page cannot show: " + strings.Join(parts, "; ") +
		". Correct the address, or open the page without it."
	return echo.NewHTTPError(http.StatusBadRequest, msg).SetInternal(v)
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
