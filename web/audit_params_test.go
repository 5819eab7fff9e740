package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/drawbridge/drawbridge/models"
)

// paramsWorld is a console whose audit log holds more calls than one
// page shows, and an admin signed in to it.
func paramsWorld(t *testing.T) (*testApp, *browser) {
	t.Helper()
	app := newTestApp(t)
	app.user(t, "root@example.com", true)
	var events []*models.AuditEvent
	for i := range 60 {
		decision := models.AuditAllow
		if i%5 == 0 {
			decision = models.AuditDeny
		}
		events = append(events, &models.AuditEvent{
			At: time.Now().Add(-time.Duration(60-i) * time.Minute), Kind: models.AuditKindMCP, UserEmail: "root@example.com",
			HTTPMethod: "POST", MCPMethod: "tools/call", Tool: "search_" + strconv.Itoa(i%3), Decision: decision, Reasons: "[]",
		})
	}
	if err := app.Store.AppendAuditEvents(context.Background(), "fixture", events); err != nil {
		t.Fatal(err)
	}
	admin := app.browser(t)
	admin.login("root@example.com")
	return app, admin
}

// A parameter the audit pages cannot read is a 400 that names it and
// says what it may be, on the list, the live tail, the export and the
// dashboard alike, rather than a page quietly showing something else.
func TestAuditPagesRefuseBadParameters(t *testing.T) {
	_, admin := paramsWorld(t)
	tests := []struct {
		name, path string
		form       url.Values // POSTed when set
		want       []string   // in the page's message
	}{
		{"before", "/admin/audit?before=abc", nil, []string{"before must be an event's number", `not "abc"`}},
		{"range", "/admin/audit?range=5y", nil, []string{"range must be 1h, 24h, 7d, 30d, all or custom", `not "5y"`}},
		{"outcome", "/admin/audit?outcome=bogus", nil, []string{"outcome must be ok, rpc_error, tool_error, http_error or pending", `not "bogus"`}},
		{"decision", "/admin/audit?decision=maybe", nil, []string{"decision must be allow, deny or error", `not "maybe"`}},
		{"kind", "/admin/audit?kind=x", nil, []string{"kind must be mcp, sign_in", `not "x"`}},
		{"route", "/admin/audit?route=github", nil, []string{"route must be a route's number", `not "github"`}},
		{"from", "/admin/audit?range=custom&from=yesterday", nil, []string{"from must be a date and time in UTC, as YYYY-MM-DDTHH:MM", `not "yesterday"`}},
		{"to before from", "/admin/audit?range=custom&from=2026-03-02T10:00&to=2026-03-01T10:00", nil, []string{"to must be after from"}},
		{"two at once", "/admin/audit?range=5y&outcome=bogus", nil, []string{"range must be", "outcome must be"}},
		{"tail", "/admin/audit/tail?outcome=bogus", nil, []string{"outcome must be"}},
		{"tail after", "/admin/audit/tail?after=-1", nil, []string{"after must be an event's number", `not "-1"`}},
		{"export", "/admin/audit/export", url.Values{"format": {"csv"}, "outcome": {"bogus"}}, []string{"outcome must be"}},
		{"export format", "/admin/audit/export", url.Values{"format": {"xlsx"}}, []string{"format must be csv or jsonl", `not "xlsx"`}},
		{"window", "/admin?window=5y", nil, []string{"window must be 24h or 7d", `not "5y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *http.Response
			var body string
			if tt.form != nil {
				resp, body = admin.post(tt.path, tt.form)
			} else {
				resp, body = admin.get(tt.path)
			}
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s: %d, want 400", tt.path, resp.StatusCode)
			}
			msg := doc(t, body).Find(`[data-testid="error-message"]`).Text()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: the page says %q; want it to say %q", tt.path, msg, w)
				}
			}
		})
	}
}

// A program asking for JSON gets the bad parameters as fields.
func TestAuditBadParametersAsJSON(t *testing.T) {
	app, admin := paramsWorld(t)
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/admin/audit?range=5y&before=x", nil)
	req.Header.Set("Accept", "application/json")
	resp, body := admin.do(req)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%d, want 400", resp.StatusCode)
	}
	var got struct {
		Error  string              `json:"error"`
		Fields []models.FieldError `json:"fields"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var fields []string
	for _, f := range got.Fields {
		fields = append(fields, f.Field)
	}
	if strings.Join(fields, ",") != "range,before" {
		t.Errorf("fields %v, want range and before (%s)", fields, body)
	}
}

// Every link the list and the dashboard give, and every filter the bar
// can make, still opens: only what nobody's link holds is refused.
func TestAuditPagesKeepTheirOwnLinksWorking(t *testing.T) {
	_, admin := paramsWorld(t)
	visited := map[string]bool{}
	open := func(path string) string {
		t.Helper()
		resp, body := admin.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d, want 200", path, resp.StatusCode)
		}
		visited[path] = true
		return body
	}
	var links []string
	collect := func(body string) {
		d := doc(t, body)
		d.Find(`a[href^="/admin/audit?"], a[href^="/admin?"], a[href="/admin/audit"]`).Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			links = append(links, href)
		})
	}
	for _, p := range []string{"/admin", "/admin?window=7d", "/admin/audit",
		"/admin/audit?" + url.Values{"range": {"7d"}, "decision": {"deny"}, "outcome": {"pending"}, "kind": {"mcp"}, "tool": {"search_"}}.Encode(),
		"/admin/audit?" + url.Values{"range": {"custom"}, "from": {"2026-03-01T09:00"}, "to": {"2026-03-02T09:00:30"}}.Encode(),
		// The bar sends the custom dates along, hidden, with a preset.
		"/admin/audit?" + url.Values{"range": {"24h"}, "from": {""}, "to": {""}, "route": {""}, "decision": {""}}.Encode(),
	} {
		collect(open(p))
	}
	older := 0
	for _, l := range links {
		if strings.Contains(l, "before=") {
			older++
		}
		if !visited[l] {
			open(l)
		}
	}
	if older == 0 || len(links) < 10 {
		t.Errorf("followed %d links, %d of them to older events: the pages should have given more", len(links), older)
	}
	if t.Failed() {
		t.Logf("links followed: %v", links)
	}
	// The export of what the page shows.
	if resp, body := admin.post("/admin/audit/export", url.Values{"format": {"jsonl"}, "range": {"24h"}, "decision": {"deny"}}); resp.StatusCode != http.StatusOK ||
		strings.Count(body, "\n") != 12 {
		t.Errorf("export: %d, %d lines, want 200 and the 12 denials", resp.StatusCode, strings.Count(body, "\n"))
	}
}
