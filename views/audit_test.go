package views

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// auditNow is the moment the sample events are relative to.
var auditNow = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func pint(n int) *int       { return &n }
func pint64(n int64) *int64 { return &n }
func pbool(b bool) *bool    { return &b }

// sampleAuditRows covers every outcome: a plain success, a tool error and
// a JSON-RPC error inside HTTP 200s, a denial, a gateway error, a call
// still running, a service account, an event that is not MCP, and one
// whose every text field is h.
func sampleAuditRows(h string) []AuditRow {
	at := func(ago time.Duration) time.Time { return auditNow.Add(-ago) }
	return []AuditRow{
		{ID: 109, At: at(40 * time.Second), Kind: AuditKindMCP, UserEmail: "alice@company.com", ClientID: "claude-code", RouteName: "GitHub",
			HTTPMethod: "POST", MCPMethod: "tools/call", Tool: "create_issue", Decision: "allow", Status: pint(200), IsError: pbool(false),
			DurationMicros: pint64(182_400), DetailURL: "/admin/audit/109"},
		{ID: 108, At: at(3 * time.Minute), Kind: AuditKindMCP, UserEmail: "alice@company.com", ClientID: "claude-code", RouteName: "GitHub",
			HTTPMethod: "POST", MCPMethod: "tools/call", Tool: "merge_pull_request", Decision: "allow", Status: pint(200), IsError: pbool(true),
			DurationMicros: pint64(1_240_000), DetailURL: "/admin/audit/108"},
		{ID: 107, At: at(9 * time.Minute), Kind: AuditKindMCP, UserEmail: "bob@company.com", ClientID: "https://cursor.com/oauth/client-metadata.json", RouteName: "Linear",
			HTTPMethod: "POST", MCPMethod: "tools/call", Tool: "update_issue", Decision: "allow", Status: pint(200), RPCErrorCode: pint(-32602),
			DurationMicros: pint64(8_300), DetailURL: "/admin/audit/107"},
		{ID: 106, At: at(22 * time.Minute), Kind: AuditKindMCP, UserEmail: "bob@company.com", ClientID: "claude-code", RouteName: "GitHub",
			HTTPMethod: "POST", MCPMethod: "tools/call", Tool: "admin_delete_repo", Decision: "deny", Status: pint(200), RPCErrorCode: pint(-32600),
			DurationMicros: pint64(900), DetailURL: "/admin/audit/106"},
		{ID: 105, At: at(48 * time.Minute), Kind: AuditKindMCP, UserEmail: "carol@company.com", ClientID: "codex", RouteName: "Docs",
			HTTPMethod: "POST", MCPMethod: "resources/read", Decision: "error", Status: pint(502), DurationMicros: pint64(30_000_000), DetailURL: "/admin/audit/105"},
		{ID: 104, At: at(2 * time.Hour), Kind: AuditKindMCP, UserEmail: "carol@company.com", ClientID: "codex", RouteName: "Docs",
			HTTPMethod: "POST", MCPMethod: "tools/call", Tool: "search_docs", Decision: "allow", DetailURL: "/admin/audit/104"},
		{ID: 103, At: at(3 * time.Hour), Kind: AuditKindMCP, UserEmail: "bob@company.com", ServiceAccount: "ci-deploy", RouteName: "GitHub",
			HTTPMethod: "POST", MCPMethod: "tools/list", Decision: "allow", Status: pint(200), DurationMicros: pint64(41_000), DetailURL: "/admin/audit/103"},
		{ID: 102, At: at(5 * time.Hour), Kind: AuditKindSignIn, UserEmail: "dave@company.com", HTTPMethod: "GET", Decision: "allow", Status: pint(302), DetailURL: "/admin/audit/102"},
		{ID: 101, At: at(7 * time.Hour), Kind: AuditKindMCP, UserEmail: h, ServiceAccount: h, ClientID: h, RouteName: h,
			HTTPMethod: "POST", MCPMethod: h, Tool: h, Decision: "deny", Status: pint(403), DurationMicros: pint64(700), DetailURL: "/admin/audit/101?q=" + url.QueryEscape(h)},
	}
}

// auditProps is an audit log page with every part showing, h in every
// text a person or client controls.
func auditProps(h string, flashes ...Flash) AuditLogProps {
	f := AuditFilterForm{Range: "7d", User: h, ServiceAccount: h, Route: "2", Tool: "admin_", Method: "tools/call",
		Decision: "deny", Outcome: AuditOutcomeRPCError, Client: h, Kind: AuditKindMCP, Text: h}
	q := "?text=" + url.QueryEscape(h) + "&user=" + url.QueryEscape(h)
	return AuditLogProps{
		Page:   page(SectionAudit, adminViewer(), flashes...),
		Filter: f,
		Routes: []Option{{Value: "1", Label: "GitHub"}, {Value: "2", Label: h}},
		Events: sampleAuditRows(h),
		// The first page: the tail and the Older link show.
		OlderURL:     AuditBase + q + "&before=101",
		Truncated:    true,
		ExportAction: AuditBase + "/export",
		TailURL:      AuditBase + "/tail" + q,
		Chains: []AuditChainRow{{Writer: "gw-1", Events: 12480, LastSeq: 12480, OK: true}, {Writer: h, Events: 310, LastSeq: 402, Problem: h, CheckpointSeq: 90},
			{Writer: "gw-3", Events: 7, LastSeq: 7, Problem: h, BrokenID: 88412, BrokenURL: AuditBase + "/88412"}},
		LastVerified: &AuditVerification{At: auditNow.Add(-3 * time.Hour), By: h, OK: false},
		VerifyAction: AuditBase + "/verify",
		Now:          auditNow,
	}
}

// auditEventProps is the detail page of a tool call with everything
// recorded, h in what others control.
func auditEventProps(h string, flashes ...Flash) AuditEventProps {
	e := sampleAuditRows(h)[1]
	e.UserEmail, e.ServiceAccount, e.ClientID, e.RouteName, e.Tool = h, h, h, h, h
	return AuditEventProps{
		Page: page(SectionAudit, adminViewer(), flashes...), Event: e,
		RequestID: h, Writer: "gw-1", Hash: "9f2c4e1a0b7d3c5e8f6a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e", PrevHash: "1e2d3c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d",
		SourceIP: "203.0.113.7", Seq: 12480, ConfigVersion: 42, ResponseBytes: pint64(12_400), OutcomeAt: ptime("2026-03-02T11:57:01Z"),
		Arguments: "{\n  \"repo\": \"" + h + "\",\n  \"token\": \"[redacted]\"\n}",
		Reasons:   []AuditReason{{Policy: h, Block: "allow", Rule: "allow.and[0]", Criterion: "domain", Matched: "company.com", Detail: h}},
		UserURL:   "/admin/users/3", RouteURL: "/admin/routes/1", ClientURL: "/admin/clients/2", AccountURL: "/admin/service-accounts/4",
		ChangeURL: "/admin/history/17", SameRequestURL: AuditBase + "?request=" + url.QueryEscape(h), BackURL: AuditBase + "?range=7d",
		Now: auditNow,
	}
}

// auditPages are the audit pages for the checks every page gets.
func auditPages() map[string]templ.Component {
	flash := Flash{Kind: FlashError, Message: hostile}
	hidden := auditEventProps(hostile, flash)
	hidden.Arguments, hidden.ArgumentsHidden, hidden.Reasons = "", true, nil
	pending := auditEventProps(hostile, flash)
	pending.Event.Status, pending.Event.IsError, pending.Event.DurationMicros = nil, nil, nil
	empty := AuditLogProps{Page: page(SectionAudit, adminViewer(), flash), Filter: AuditFilterForm{Range: "all", Text: hostile}, TailURL: AuditBase + "/tail", Now: auditNow}
	return map[string]templ.Component{
		"audit":                AuditLogPage(auditProps(hostile, flash)),
		"audit-empty":          AuditLogPage(empty),
		"audit-event":          AuditEventPage(auditEventProps(hostile, flash)),
		"audit-event-hidden":   AuditEventPage(hidden),
		"audit-event-pending":  AuditEventPage(pending),
		"dashboard-activity":   DashboardPage(dashboardProps(hostile, flash)),
		"dashboard-activity-0": DashboardPage(DashboardProps{Page: page(SectionDashboard, adminViewer(), flash), ConsoleURL: hostile, Activity: &DashboardActivity{Window: "7d"}}),
	}
}

// mustOneIn returns the single element under s matching sel.
func mustOneIn(t *testing.T, s *goquery.Selection, sel string) *goquery.Selection {
	t.Helper()
	found := s.Find(sel)
	if found.Length() != 1 {
		t.Fatalf("%s: found %d elements, want 1", sel, found.Length())
	}
	return found
}

// cells is the text of each cell of a table row, joined by " | ".
func cells(row *goquery.Selection) string {
	return strings.Join(row.Children().Map(func(_ int, c *goquery.Selection) string { return text(c) }), " | ")
}

// auditRowSel is the row of one event.
func auditRowSel(t *testing.T, doc *goquery.Document, id string) *goquery.Selection {
	t.Helper()
	return mustOne(t, doc, testid("audit-row")+`[data-audit-id="`+id+`"]`)
}

func TestAuditRowsKeepOutcomePartsApart(t *testing.T) {
	doc, _ := render(t, AuditLogPage(auditProps("x")))
	tests := []struct {
		id, status, rpc string
		isError         bool
		pending         bool
		decision        string
		latency         string
	}{
		{id: "109", status: "200", decision: "allow", latency: "182"},
		{id: "108", status: "200", isError: true, decision: "allow", latency: "1,240"},
		{id: "107", status: "200", rpc: "RPC -32602", decision: "allow", latency: "8.3"},
		{id: "106", status: "200", rpc: "RPC -32600", decision: "deny", latency: "0.9"},
		{id: "105", status: "502", decision: "error", latency: "30,000"},
		{id: "104", pending: true, decision: "allow", latency: "—"},
	}
	for _, tt := range tests {
		row := auditRowSel(t, doc, tt.id)
		out := row.Find(testid("audit-outcome"))
		if got := text(out.Find(testid("outcome-status"))); got != tt.status {
			t.Errorf("%s: status %q, want %q", tt.id, got, tt.status)
		}
		if got := text(out.Find(testid("outcome-rpc"))); got != tt.rpc {
			t.Errorf("%s: JSON-RPC part %q, want %q", tt.id, got, tt.rpc)
		}
		if got := out.Find(testid("outcome-iserror")).Length() == 1; got != tt.isError {
			t.Errorf("%s: isError shown %v, want %v", tt.id, got, tt.isError)
		}
		if got := out.Find(testid("outcome-pending")).Length() == 1; got != tt.pending {
			t.Errorf("%s: pending shown %v, want %v", tt.id, got, tt.pending)
		}
		// Each part is its own element: a 200 with an error reads as both.
		if tt.rpc != "" && out.Children().Length() != 2 {
			t.Errorf("%s: %d outcome parts, want the status and the RPC code apart", tt.id, out.Children().Length())
		}
		if got := text(row.Find(testid("audit-decision"))); got != tt.decision {
			t.Errorf("%s: decision %q, want %q", tt.id, got, tt.decision)
		}
		if d, _ := row.Attr("data-decision"); d != tt.decision {
			t.Errorf("%s: data-decision %q", tt.id, d)
		}
		if got := text(row.Find(testid("audit-latency"))); got != tt.latency {
			t.Errorf("%s: latency %q, want %q", tt.id, got, tt.latency)
		}
	}
	if title, _ := auditRowSel(t, doc, "107").Find(testid("outcome-rpc")).Attr("title"); title != "JSON-RPC error -32602 (Invalid params)" {
		t.Errorf("RPC code title = %q", title)
	}
}

func TestAuditRowColumns(t *testing.T) {
	doc, _ := render(t, AuditLogPage(auditProps("x")))
	first := auditRowSel(t, doc, "109")
	time := first.Find(testid("audit-time"))
	if href, _ := time.Attr("href"); href != "/admin/audit/109" {
		t.Errorf("time links to %q", href)
	}
	if got := text(time); got != "40 s ago" {
		t.Errorf("time = %q", got)
	}
	if title, _ := time.Find("time").Attr("title"); title != "2 Mar 2026 11:59:20 UTC" {
		t.Errorf("exact time in title = %q", title)
	}
	for id, want := range map[string]string{"108": "3 min ago", "104": "2 h ago"} {
		if got := text(auditRowSel(t, doc, id).Find(testid("audit-time"))); got != want {
			t.Errorf("%s: time = %q, want %q", id, got, want)
		}
	}
	for id, want := range map[string]string{"audit-who": "alice@company.com", "audit-client": "claude-code", "audit-route": "GitHub",
		"audit-method": "tools/call", "audit-tool": "create_issue"} {
		if got := text(first.Find(testid(id))); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := text(auditRowSel(t, doc, "103").Find(testid("audit-who"))); got != "ci-deploy via bob@company.com" {
		t.Errorf("service account shown as %q", got)
	}
	signIn := auditRowSel(t, doc, "102")
	if got := text(signIn.Find(testid("audit-kind"))); got != "Sign-in" {
		t.Errorf("kind = %q", got)
	}
	if got := text(signIn.Find(testid("audit-tool"))); got != "—" {
		t.Errorf("no tool shown as %q", got)
	}
	// A long client ID is cut short on screen, whole in its title.
	long := "https://cursor.com/oauth/client-metadata.json"
	if title, _ := auditRowSel(t, doc, "107").Find(testid("audit-client")).Attr("title"); title != long {
		t.Errorf("client title = %q", title)
	}
}

// The live tail sends rows rendered alone: one <tr>, nothing around it.
func TestAuditTableRowAlone(t *testing.T) {
	var buf bytes.Buffer
	if err := AuditTableRow(sampleAuditRows(hostile)[8], auditNow).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := strings.TrimSpace(buf.String())
	if !strings.HasPrefix(html, "<tr ") || !strings.HasSuffix(html, "</tr>") || strings.Count(html, "<tr") != 1 {
		t.Errorf("row is not a lone <tr>: %s", html)
	}
	if strings.Contains(html, "<script") || !strings.Contains(html, "&lt;script&gt;") {
		t.Errorf("hostile text not escaped: %s", html)
	}
	doc, _ := render(t, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "<table><tbody>"+html+"</tbody></table>")
		return err
	}))
	row := mustOne(t, doc, testid("audit-row"))
	if got := text(row.Find(testid("audit-tool"))); got != hostile {
		t.Errorf("tool = %q", got)
	}
	if got := text(row.Find(testid("audit-who"))); got != hostile+" via "+hostile {
		t.Errorf("who = %q", got)
	}
}

func TestAuditFiltersRoundTrip(t *testing.T) {
	p := auditProps(hostile)
	doc, _ := render(t, AuditLogPage(p))
	form := mustOne(t, doc, `form`+testid("audit-filter"))
	if m, _ := form.Attr("method"); m != "get" {
		t.Errorf("filter form method %q", m)
	}
	for name, want := range map[string]string{"text": hostile, "user": hostile, "service_account": hostile, "tool": "admin_",
		"method": "tools/call", "client": hostile, "from": "", "to": ""} {
		if v, _ := mustOneIn(t, form, `input[name="`+name+`"]`).Attr("value"); v != want {
			t.Errorf("input %s = %q, want %q", name, v, want)
		}
	}
	for name, want := range map[string]string{"range": "7d", "route": "2", "decision": "deny", "outcome": AuditOutcomeRPCError, "kind": AuditKindMCP} {
		sel := mustOneIn(t, form, `select[name="`+name+`"] option[selected]`)
		if v, _ := sel.Attr("value"); v != want {
			t.Errorf("select %s = %q, want %q", name, v, want)
		}
	}
	if _, open := mustOneIn(t, form, testid("audit-more")).Attr("open"); !open {
		t.Error("More filters folded while some of them are set")
	}
	if href, _ := mustOneIn(t, form, testid("audit-reset")).Attr("href"); href != AuditBase {
		t.Errorf("reset = %q", href)
	}

	// One chip per filter, each linking to the view without it.
	chips := doc.Find(testid("chip"))
	wantParams := []string{"range", "user", "service_account", "route", "tool", "method", "decision", "outcome", "client", "kind", "text"}
	if chips.Length() != len(wantParams) {
		t.Fatalf("%d chips, want %d", chips.Length(), len(wantParams))
	}
	chips.Each(func(i int, c *goquery.Selection) {
		param, _ := c.Attr("data-param")
		if param != wantParams[i] {
			t.Errorf("chip %d is %q, want %q", i, param, wantParams[i])
		}
		href, _ := c.Attr("href")
		u, err := url.Parse(href)
		if err != nil || u.Path != AuditBase {
			t.Fatalf("chip %s links to %q", param, href)
		}
		q := u.Query()
		if q.Has(param) {
			t.Errorf("chip %s: its link keeps it: %q", param, href)
		}
		for _, other := range wantParams {
			if other != param && !q.Has(other) {
				t.Errorf("chip %s: its link drops %s too: %q", param, other, href)
			}
		}
	})
	for param, want := range map[string]string{"range": "Time Last 7 days", "route": "Route " + hostile, "tool": "Tool admin_*",
		"decision": "Decision Denied", "outcome": "Outcome JSON-RPC error", "text": "In arguments “" + hostile + "”"} {
		if got := text(mustOne(t, doc, testid("chip")+`[data-param="`+param+`"]`)); got != want+", remove" {
			t.Errorf("chip %s reads %q, want %q", param, got, want)
		}
	}
}

func TestAuditDefaultRangeAndCustomRange(t *testing.T) {
	p := AuditLogProps{Page: page(SectionAudit, adminViewer()), Events: sampleAuditRows("x")[:1], Now: auditNow}
	doc, _ := render(t, AuditLogPage(p))
	if v, _ := mustOne(t, doc, `select[name="range"] option[selected]`).Attr("value"); v != "24h" {
		t.Errorf("default range %q, want 24h", v)
	}
	if doc.Find(testid("audit-chips")).Length() != 0 {
		t.Error("chips shown with no filter")
	}
	if _, open := mustOne(t, doc, testid("audit-more")).Attr("open"); open {
		t.Error("More filters open with none of them set")
	}

	p.Filter = AuditFilterForm{Range: "custom", From: "2026-03-01T09:00", To: "2026-03-02T09:30", Decision: "deny"}
	doc, _ = render(t, AuditLogPage(p))
	for name, want := range map[string]string{"from": "2026-03-01T09:00", "to": "2026-03-02T09:30"} {
		in := mustOne(t, doc, `input[name="`+name+`"]`)
		if v, _ := in.Attr("value"); v != want {
			t.Errorf("%s = %q", name, v)
		}
		if ty, _ := in.Attr("type"); ty != "datetime-local" {
			t.Errorf("%s type %q", name, ty)
		}
	}
	chip := mustOne(t, doc, testid("chip")+`[data-param="range"]`)
	if got := text(chip.Find(".chip-value")); got != "2026-03-01 09:00 to 2026-03-02 09:30 UTC" {
		t.Errorf("custom range chip = %q", got)
	}
	if href, _ := chip.Attr("href"); href != AuditBase+"?decision=deny" {
		t.Errorf("removing the range keeps %q", href)
	}
	if href, _ := mustOne(t, doc, testid("chip")+`[data-param="decision"]`).Attr("href"); href != AuditBase+"?from=2026-03-01T09%3A00&range=custom&to=2026-03-02T09%3A30" {
		t.Errorf("removing the decision keeps %q", href)
	}
}

func TestAuditPagerAndLive(t *testing.T) {
	tests := []struct {
		name              string
		older, newest     string
		wantOlder, wantNw bool
		wantLive          bool
	}{
		{"first page, more", "/admin/audit?before=50", "", true, false, true},
		{"only page", "", "", false, false, true},
		{"middle page", "/admin/audit?before=20", "/admin/audit", true, true, false},
		{"last page", "", "/admin/audit", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := AuditLogProps{Page: page(SectionAudit, adminViewer()), Events: sampleAuditRows("x")[:3], OlderURL: tt.older, NewestURL: tt.newest,
				TailURL: "/admin/audit/tail", Now: auditNow}
			doc, _ := render(t, AuditLogPage(p))
			older := doc.Find(testid("audit-older"))
			if (older.Length() == 1) != tt.wantOlder {
				t.Errorf("Older shown = %v", older.Length() == 1)
			}
			if href, _ := older.Attr("href"); tt.wantOlder && href != tt.older {
				t.Errorf("Older links to %q", href)
			}
			newest := doc.Find(testid("audit-newest"))
			if (newest.Length() == 1) != tt.wantNw {
				t.Errorf("Newest shown = %v", newest.Length() == 1)
			}
			if href, _ := newest.Attr("href"); tt.wantNw && href != tt.newest {
				t.Errorf("Newest links to %q", href)
			}
			if doc.Find(testid("pagination-text")+","+".pagination a:not([data-testid])").Length() != 0 {
				t.Error("page numbers or stray links in the keyset pager")
			}
			live := doc.Find(testid("audit-live"))
			if (live.Length() == 1) != tt.wantLive {
				t.Fatalf("live controls shown = %v, want %v", live.Length() == 1, tt.wantLive)
			}
			if tt.wantLive {
				if _, hidden := live.Attr("hidden"); !hidden {
					t.Error("live controls visible before app.js can run them")
				}
				if u, _ := live.Attr("data-tail-url"); u != "/admin/audit/tail" {
					t.Errorf("data-tail-url = %q", u)
				}
				mustOne(t, doc, "tbody[data-audit-rows]")
				if p, _ := mustOneIn(t, live, "[data-live-toggle]").Attr("aria-pressed"); p != "false" {
					t.Errorf("toggle aria-pressed = %q", p)
				}
				mustOneIn(t, live, "button[data-live-pause][hidden]")
				mustOneIn(t, live, `[data-live-status][role="status"]`)
			}
		})
	}
}

func TestAuditEmptyStates(t *testing.T) {
	tests := []struct {
		name    string
		filter  AuditFilterForm
		title   string
		actions map[string]string
	}{
		{"default range", AuditFilterForm{}, "Nothing in the last 24 hours", map[string]string{"audit-widen": AuditBase + "?range=all"}},
		{"nothing ever", AuditFilterForm{Range: "all"}, "No events yet", map[string]string{"audit-open-portal": "/", "audit-routes": "/admin/routes"}},
		{"filtered", AuditFilterForm{Range: "1h", Tool: "admin_"}, "No events match these filters",
			map[string]string{"audit-widen": AuditBase + "?range=all&tool=admin_", "clear-filters-empty": AuditBase}},
		{"filtered over all time", AuditFilterForm{Range: "all", User: "a@b.c"}, "No events match these filters",
			map[string]string{"clear-filters-empty": AuditBase}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, AuditLogPage(AuditLogProps{Page: page(SectionAudit, adminViewer()), Filter: tt.filter, TailURL: "/admin/audit/tail", Now: auditNow}))
			empty := mustOne(t, doc, testid("empty-state"))
			if got := text(empty.Find("h2")); got != tt.title {
				t.Errorf("title %q, want %q", got, tt.title)
			}
			if n := empty.Find("a").Length(); n != len(tt.actions) {
				t.Errorf("%d actions, want %d", n, len(tt.actions))
			}
			for id, want := range tt.actions {
				if href, _ := mustOneIn(t, empty, testid(id)).Attr("href"); href != want {
					t.Errorf("%s links to %q, want %q", id, href, want)
				}
			}
			// The table waits, hidden, for the live tail.
			mustOne(t, doc, "[data-audit-table][hidden] tbody[data-audit-rows]")
			if doc.Find(testid("audit-pager")).Length() != 0 {
				t.Error("pager shown with no events")
			}
		})
	}
	// Without a tail there is no table to fill.
	doc, _ := render(t, AuditLogPage(AuditLogProps{Page: page(SectionAudit, adminViewer()), Now: auditNow}))
	if doc.Find("[data-audit-table]").Length() != 0 {
		t.Error("empty table rendered with no live tail")
	}
}

func TestAuditTruncatedAndExports(t *testing.T) {
	p := auditProps("x")
	doc, _ := render(t, AuditLogPage(p))
	if got := text(mustOne(t, doc, testid("audit-truncated"))); !strings.Contains(got, "Narrow the time range") {
		t.Errorf("truncation notice = %q", got)
	}
	p.Truncated = false
	doc, _ = render(t, AuditLogPage(p))
	if doc.Find(testid("audit-truncated")).Length() != 0 {
		t.Error("truncation notice without truncation")
	}
}

// The exports are one POST form, never links: each export is recorded,
// so another site must not be able to start one. The form carries the
// CSRF token, the filters in force, and the format of the button pressed.
func TestAuditExportsArePostForms(t *testing.T) {
	p := auditProps(hostile)
	doc, _ := render(t, AuditLogPage(p))
	form := mustOne(t, doc, `form`+testid("audit-exports"))
	if m, a := form.AttrOr("method", ""), form.AttrOr("action", ""); m != "post" || a != p.ExportAction {
		t.Errorf("export form: method %q, action %q; want post to %s", m, a, p.ExportAction)
	}
	hidden := map[string][]string{}
	form.Find(`input[type="hidden"]`).Each(func(_ int, in *goquery.Selection) {
		hidden[in.AttrOr("name", "")] = append(hidden[in.AttrOr("name", "")], in.AttrOr("value", ""))
	})
	want := map[string][]string{"_csrf": {testCSRF}}
	for _, kv := range auditParams(p.Filter) {
		want[kv[0]] = []string{kv[1]}
	}
	if !reflect.DeepEqual(hidden, want) {
		t.Errorf("export form's hidden fields = %q, want %q", hidden, want)
	}
	if hidden["range"][0] != "7d" || hidden["text"][0] != hostile {
		t.Errorf("the filters are not carried as typed: %q", hidden)
	}
	for id, format := range map[string]string{"export-csv": "csv", "export-jsonl": "jsonl"} {
		b := mustOneIn(t, form, `button`+testid(id))
		if b.AttrOr("type", "") != "submit" || b.AttrOr("name", "") != "format" || b.AttrOr("value", "") != format {
			t.Errorf("%s: type %q name %q value %q; want a submit button for format=%s", id, b.AttrOr("type", ""), b.AttrOr("name", ""), b.AttrOr("value", ""), format)
		}
	}
	if n := doc.Find(`a[href*="/export"]`).Length(); n != 0 {
		t.Errorf("%d export links: a GET must not export", n)
	}
	p.ExportAction = ""
	doc, _ = render(t, AuditLogPage(p))
	if doc.Find(testid("audit-exports")).Length() != 0 {
		t.Error("export buttons without an action")
	}
}

func TestAuditIntegrity(t *testing.T) {
	doc, _ := render(t, AuditLogPage(auditProps(hostile)))
	box := mustOne(t, doc, testid("audit-integrity"))
	rows := box.Find(testid("chain-row"))
	if rows.Length() != 3 {
		t.Fatalf("%d chain rows", rows.Length())
	}
	if got := cells(rows.Eq(0)); got != "gw-1 | 12,480 | 12480 | intact" {
		t.Errorf("first chain = %q", got)
	}
	broken := rows.Eq(1)
	if got := text(broken.Find(testid("chain-problem"))); got != hostile {
		t.Errorf("problem = %q", got)
	}
	if got := text(broken.Find(testid("chain-state"))); got != "broken" {
		t.Errorf("broken chain badge = %q", got)
	}
	if got := text(broken.Find(testid("chain-checkpoint"))); !strings.Contains(got, "#90") {
		t.Errorf("checkpoint = %q", got)
	}
	if broken.Find(testid("chain-broken-event")).Length() != 0 {
		t.Error("a problem at no event links to one")
	}
	// A break at an event names it, and links to it.
	atEvent := rows.Eq(2)
	if got := text(atEvent.Find(testid("chain-problem"))); got != "at event #88412: "+hostile {
		t.Errorf("problem at an event = %q", got)
	}
	if href := mustOneIn(t, atEvent, testid("chain-broken-event")).AttrOr("href", ""); href != AuditBase+"/88412" {
		t.Errorf("broken event links to %q", href)
	}
	if got := text(box.Find(testid("last-verified"))); got != "broken Last verified 3 hours ago by "+hostile {
		t.Errorf("last verified = %q", got)
	}
	form := mustOneIn(t, box, `form`+testid("audit-verify"))
	if a, _ := form.Attr("action"); a != AuditBase+"/verify" {
		t.Errorf("verify posts to %q", a)
	}

	p := auditProps("x")
	p.LastVerified, p.VerifyAction, p.Chains = nil, "", nil
	doc, _ = render(t, AuditLogPage(p))
	if got := text(mustOne(t, doc, testid("last-verified"))); got != "Never verified." {
		t.Errorf("never verified = %q", got)
	}
	mustOne(t, doc, testid("no-chains"))
	if doc.Find(testid("audit-verify")).Length() != 0 {
		t.Error("verify button without an action")
	}
}

// Hostile text in attributes the script reads stays an attribute value.
func TestAuditHostileAttributes(t *testing.T) {
	p := auditProps(hostile)
	doc, html := render(t, AuditLogPage(p))
	if u, _ := mustOne(t, doc, testid("audit-live")).Attr("data-tail-url"); u != p.TailURL {
		t.Errorf("data-tail-url = %q, want %q", u, p.TailURL)
	}
	if strings.Contains(html, "<script>alert") {
		t.Error("hostile text broke out of an attribute")
	}
	if v, _ := mustOne(t, doc, `select[name="route"] option[value="2"]`).Html(); v != "&lt;script&gt;alert(1)&lt;/script&gt;@x" {
		t.Errorf("route option = %q", v)
	}
	// A script URL from a client is not a link.
	p.Events = []AuditRow{{ID: 1, At: auditNow, DetailURL: "javascript:alert(1)", Decision: "allow"}}
	doc, _ = render(t, AuditLogPage(p))
	if href, _ := mustOne(t, doc, testid("audit-time")).Attr("href"); strings.HasPrefix(href, "javascript") {
		t.Errorf("script URL kept: %q", href)
	}
}

func TestAuditEventPage(t *testing.T) {
	p := auditEventProps("x")
	doc, _ := render(t, AuditEventPage(p))
	if got := text(mustOne(t, doc, "h1")); got != "tools/call x" {
		t.Errorf("title = %q", got)
	}
	for id, want := range map[string]string{
		"field-at":         "2 Mar 2026, 11:57:00.000 UTC · 3 minutes ago",
		"field-kind":       "MCP request",
		"field-user":       "x",
		"field-account":    "x acting as the user above",
		"field-client":     "x",
		"field-route":      "x",
		"field-method":     "tools/call over HTTP POST",
		"field-tool":       "x",
		"field-decision":   "allow",
		"field-latency":    "1,240 ms",
		"field-size":       "12.4 KB",
		"field-outcome-at": "2 Mar 2026, 11:57:01.000 UTC",
		"field-source-ip":  "203.0.113.7",
		"field-request-id": "x",
		"field-config":     "Version 42 · configuration at the time",
	} {
		if got := text(mustOne(t, doc, testid(id))); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := text(mustOne(t, doc, testid("outcome-explained"))); got != "The upstream answered HTTP 200, and the tool reported a failure (isError: true): the call failed, although its HTTP status says OK." {
		t.Errorf("explanation = %q", got)
	}
	if got := mustOne(t, doc, "pre "+testid("arguments")).Text(); got != p.Arguments {
		t.Errorf("arguments = %q", got)
	}
	if got := cells(mustOne(t, doc, testid("reason"))); got != "x | allow | allow.and[0] | domain | company.com | x" {
		t.Errorf("reason = %q", got)
	}
	for id, want := range map[string]string{"link-user": p.UserURL, "link-account": p.AccountURL, "link-route": p.RouteURL, "link-client": p.ClientURL,
		"link-change": p.ChangeURL, "link-same-request": p.SameRequestURL, "change-link": p.ChangeURL, "same-request": p.SameRequestURL, "audit-back": p.BackURL} {
		if href, _ := mustOne(t, doc, testid(id)).Attr("href"); href != want {
			t.Errorf("%s links to %q, want %q", id, href, want)
		}
	}
	if href, _ := mustOne(t, doc, ".breadcrumb a").Attr("href"); href != p.BackURL {
		t.Errorf("breadcrumb links to %q", href)
	}

	// Arguments hidden from this viewer, and none to link to.
	p.ArgumentsHidden, p.Arguments = true, ""
	p.UserURL, p.RouteURL, p.ClientURL, p.AccountURL, p.ChangeURL, p.SameRequestURL, p.BackURL = "", "", "", "", "", "", ""
	doc, _ = render(t, AuditEventPage(p))
	if got := text(mustOne(t, doc, testid("arguments-hidden"))); got != "Hidden: only administrators and auditors see arguments." {
		t.Errorf("hidden arguments = %q", got)
	}
	if doc.Find(testid("arguments")).Length() != 0 {
		t.Error("arguments shown while hidden")
	}
	if doc.Find(testid("audit-related")+" a").Length() != 0 {
		t.Error("related links without URLs")
	}
	if href, _ := mustOne(t, doc, testid("audit-back")).Attr("href"); href != AuditBase {
		t.Errorf("back without BackURL = %q", href)
	}
	if got := text(mustOne(t, doc, testid("field-user"))); got != "x" {
		t.Errorf("user without a link = %q", got)
	}

	p.ArgumentsHidden = false
	doc, _ = render(t, AuditEventPage(p))
	mustOne(t, doc, testid("arguments-none"))
}

func TestOutcomeExplanation(t *testing.T) {
	tests := []struct {
		e    AuditRow
		want string
	}{
		{AuditRow{Decision: "allow", Status: pint(200), IsError: pbool(false)}, "The upstream answered HTTP 200, and the tool reported no error: it succeeded."},
		{AuditRow{Decision: "allow", Status: pint(200), RPCErrorCode: pint(-32601)},
			"The upstream answered HTTP 200 with JSON-RPC error -32601 (Method not found): the call failed, although its HTTP status says OK."},
		{AuditRow{Decision: "allow", Status: pint(502)}, "The upstream answered HTTP 502: the call failed."},
		{AuditRow{Decision: "deny", Status: pint(200), RPCErrorCode: pint(-32600)},
			"Refused by policy: nothing of it reached the upstream. The client was answered HTTP 200 with JSON-RPC error -32600 (Invalid request)."},
		{AuditRow{Decision: "error", Status: pint(502)}, "The gateway failed to decide or to pass it on, so it did not reach the upstream. The client was answered HTTP 502."},
		{AuditRow{Decision: "allow"}, "No outcome recorded yet: the call may still be running, or the gateway stopped before the answer ended."},
	}
	for _, tt := range tests {
		if got := outcomeExplanation(tt.e); got != tt.want {
			t.Errorf("outcomeExplanation(%+v)\n got %q\nwant %q", tt.e, got, tt.want)
		}
	}
}

func TestShortRelativeTime(t *testing.T) {
	for ago, want := range map[time.Duration]string{0: "just now", 42 * time.Second: "42 s ago", 22 * time.Minute: "22 min ago",
		5 * time.Hour: "5 h ago", 47 * time.Hour: "47 h ago", 3 * 24 * time.Hour: "3 d ago", 40 * 24 * time.Hour: "21 Jan 12:00", -time.Hour: "2 Mar 13:00"} {
		if got := shortRelativeTime(auditNow.Add(-ago), auditNow); got != want {
			t.Errorf("%v ago: %q, want %q", ago, got, want)
		}
	}
	if got := shortRelativeTime(auditNow, time.Time{}); got != "2 Mar 12:00" {
		t.Errorf("without now: %q", got)
	}
}

func TestLatencyText(t *testing.T) {
	for us, want := range map[int64]string{0: "0.0 ms", 420: "0.4 ms", 9_949: "9.9 ms", 10_000: "10 ms", 182_400: "182 ms", 2_310_600: "2,311 ms"} {
		if got := latencyText(&us); got != want {
			t.Errorf("latencyText(%d) = %q, want %q", us, got, want)
		}
	}
	if got := latencyText(nil); got != "—" {
		t.Errorf("latencyText(nil) = %q", got)
	}
}
