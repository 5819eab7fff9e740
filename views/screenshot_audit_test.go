//go:build screenshot

package views

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWriteAuditScreenshotPages writes the audit log, an event and the
// dashboard as standalone HTML to $SHOTS_DIR (default /tmp/shots-audit),
// like TestWriteScreenshotPages, for a headless browser to screenshot in
// both colour schemes and at phone width:
//
//	go test -tags screenshot -run TestWriteAuditScreenshotPages ./views/
//	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1400 \
//	  --screenshot=/tmp/shots-audit/audit.png file:///tmp/shots-audit/audit.html
//	(add --force-dark-mode for the dark scheme, --window-size=390,1400 for a phone)
func TestWriteAuditScreenshotPages(t *testing.T) {
	rows := shotAuditRows()
	routes := []Option{{Value: "1", Label: "GitHub"}, {Value: "2", Label: "Linear"}, {Value: "3", Label: "Docs"}}
	log := AuditLogProps{
		Page: page(SectionAudit, adminViewer()), Routes: routes, Events: rows,
		OlderURL: AuditBase + "?before=93", ExportAction: AuditBase + "/export", TailURL: AuditBase + "/tail",
		Chains:       []AuditChainRow{{Writer: "gw-1", Events: 1_204_880, LastSeq: 1_204_880, OK: true, CheckpointSeq: 200_000}, {Writer: "gw-2", Events: 310_442, LastSeq: 310_442, OK: true}},
		LastVerified: &AuditVerification{At: auditNow.Add(-3 * time.Hour), By: "alice@company.com", OK: true},
		VerifyAction: AuditBase + "/verify", Now: auditNow,
	}
	filtered := log
	filtered.Filter = AuditFilterForm{Range: "7d", Route: "1", Tool: "admin_", Decision: "deny", Text: "drawbridge/infra"}
	filtered.Events = []AuditRow{rows[3], rows[9]}
	filtered.OlderURL, filtered.Truncated = "", true
	more := log
	more.Filter = AuditFilterForm{Range: "custom", From: "2026-03-01T09:00", To: "2026-03-02T09:00", Kind: AuditKindMCP, Method: "tools/call"}
	more.NewestURL = AuditBase
	broken := log
	broken.Chains = []AuditChainRow{{Writer: "gw-1", Events: 88_411, LastSeq: 288_411, Problem: "the event does not match its hash: it was altered after it was written", CheckpointSeq: 200_000,
		BrokenID: 288_412, BrokenURL: AuditBase + "/288412"},
		{Writer: "gw-2", Events: 310_442, LastSeq: 310_442, OK: true},
		{Writer: "gw-3", Events: 1_032, LastSeq: 1_940, Problem: "starts from a retention checkpoint (seq 908), but retention is off: its older events were deleted by something else"}}
	broken.LastVerified = &AuditVerification{At: auditNow.Add(-2 * time.Minute), By: "drawbridge audit verify", OK: false}
	empty := AuditLogProps{Page: page(SectionAudit, adminViewer()), Routes: routes, TailURL: AuditBase + "/tail", VerifyAction: AuditBase + "/verify", Now: auditNow}
	emptyFiltered := empty
	emptyFiltered.Filter = AuditFilterForm{Range: "1h", User: "bob@company.com", Tool: "admin_"}
	never := empty
	never.Filter.Range = "all"

	event := auditEventProps("x")
	event.Event = rows[1]
	event.RequestID = "019c9d3e-6a41-7b2f-9c1d-4e8a2f6b7c90"
	event.Arguments = "{\n  \"owner\": \"drawbridge\",\n  \"repo\": \"infra\",\n  \"pull_number\": 412,\n  \"merge_method\": \"squash\",\n  \"token\": \"[redacted]\"\n}"
	event.Reasons = []AuditReason{
		{Policy: "company-only", Block: "allow", Rule: "allow.and[0]", Criterion: "domain", Matched: "is company.com", Detail: "alice@company.com is in company.com"},
		{Policy: "no-admin-tools", Block: "deny", Rule: "deny.or[0]", Criterion: "mcp_tool", Matched: "no match", Detail: "merge_pull_request does not start with admin_"},
	}
	event.SameRequestURL = AuditBase + "?request=019c9d3e-6a41-7b2f-9c1d-4e8a2f6b7c90"
	event.AccountURL = ""
	denied := event
	denied.Event = rows[3]
	denied.Arguments, denied.ArgumentsHidden = "", true
	denied.Reasons = []AuditReason{{Policy: "no-admin-tools", Block: "deny", Rule: "deny.or[0]", Criterion: "mcp_tool", Matched: "starts_with admin_", Detail: "admin_delete_repo starts with admin_"}}
	pending := event
	pending.Event = rows[6]
	pending.Event.Status, pending.Event.DurationMicros = nil, nil
	pending.AccountURL = "/admin/service-accounts?q=ci-deploy"
	pending.ResponseBytes, pending.OutcomeAt, pending.Reasons = nil, nil, nil

	dash := dashboardProps("Attach a policy to every route")
	dash.Activity.TopTools[2].Label = "list_pull_requests"
	dash.Activity.TopUsers = append(dash.Activity.TopUsers[:1],
		RankedCount{Label: "bob.nguyen@engineering.company.com", Count: 480, URL: "/admin/audit?user=bob"},
		RankedCount{Label: "ci-deploy via carol@company.com", Count: 210, URL: "/admin/audit?service_account=ci-deploy"})
	dash.Activity.RouteErrors[1].Route = "GitHub"
	dash.Activity.ExpiringAccounts[1] = ExpiringAccount{Name: "nightly-backup", UserEmail: "carol@company.com", ExpiresAt: auditNow.Add(11 * 24 * time.Hour), URL: "/admin/service-accounts?q=nightly"}
	week := dash
	weekAct := *dash.Activity
	weekAct.Window = "7d"
	weekAct.Buckets = nil
	for i := range 7 * 24 {
		b := ActivityBucket{Start: time.Date(2026, 2, 23, 13, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour), URL: "/admin/audit"}
		h := (13 + i) % 24
		if h >= 7 && h <= 19 {
			b.Allow, b.Deny, b.Error = 30+(i*37)%60, (i*7)%5, (i*3)%3
		} else if i%3 == 0 {
			b.Allow = 2
		}
		weekAct.Buckets = append(weekAct.Buckets, b)
	}
	weekAct.Calls, weekAct.Denials, weekAct.Errors = 9_812, 311, 97
	week.Activity = &weekAct
	quiet := DashboardProps{Page: page(SectionDashboard, adminViewer()), Users: 3, Admins: 1, ConsoleURL: "http://console.localhost:8080",
		Activity: &DashboardActivity{Window: "24h", Buckets: make([]ActivityBucket, 24)}, Now: auditNow}
	for i := range quiet.Activity.Buckets {
		quiet.Activity.Buckets[i].Start = time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
	}
	fresh := DashboardProps{Page: page(SectionDashboard, adminViewer()), Users: 1, Admins: 1, ConsoleURL: "http://console.localhost:8080",
		Steps: []SetupStep{{Title: "Sign in", Done: true}, {Title: "Add a route", Body: "Put an MCP server behind the gateway.", URL: "/admin/routes"}, {Title: "Attach a policy", URL: "/admin/policies"}}}

	pages := map[string]shotPage{
		"audit":                {c: AuditLogPage(log)},
		"audit-filtered":       {c: AuditLogPage(filtered)},
		"audit-more":           {c: AuditLogPage(more)},
		"audit-broken":         {c: AuditLogPage(broken)},
		"audit-empty":          {c: AuditLogPage(empty)},
		"audit-empty-filtered": {c: AuditLogPage(emptyFiltered)},
		"audit-empty-never":    {c: AuditLogPage(never)},
		"audit-hostile":        {c: AuditLogPage(auditProps(hostile))},
		"audit-event":          {c: AuditEventPage(event)},
		"audit-event-denied":   {c: AuditEventPage(denied)},
		"audit-event-pending":  {c: AuditEventPage(pending)},
		"dashboard":            {c: DashboardPage(dash)},
		"dashboard-7d":         {c: DashboardPage(week)},
		"dashboard-quiet":      {c: DashboardPage(quiet)},
		"dashboard-fresh":      {c: DashboardPage(fresh)},
		"dashboard-hostile":    {c: DashboardPage(dashboardProps(hostile))},
	}
	writeShotPages(t, "/tmp/shots-audit", pages)
}

// shotAuditRows are a morning's events, as a security team would see them.
func shotAuditRows() []AuditRow {
	rows := sampleAuditRows("x")[:8]
	at := func(ago time.Duration) time.Time { return auditNow.Add(-ago) }
	return append(rows,
		AuditRow{ID: 95, At: at(8 * time.Hour), Kind: AuditKindConsent, UserEmail: "erin@company.com", ClientID: "https://cursor.com/oauth/client-metadata.json",
			HTTPMethod: "POST", Decision: "allow", Status: pint(302), DetailURL: "/admin/audit/95"},
		AuditRow{ID: 94, At: at(9 * time.Hour), Kind: AuditKindMCP, UserEmail: "mallory@company.com", ClientID: "mcp-inspector", RouteName: "GitHub",
			HTTPMethod: "POST", MCPMethod: "tools/call", Tool: "admin_transfer_repo", Decision: "deny", Status: pint(200), RPCErrorCode: pint(-32600),
			DurationMicros: pint64(610), DetailURL: "/admin/audit/94"},
		AuditRow{ID: 93, At: at(10 * time.Hour), Kind: AuditKindRefused, ClientID: "", RouteName: "GitHub", HTTPMethod: "POST", Decision: "deny", Status: pint(401),
			DurationMicros: pint64(120), DetailURL: "/admin/audit/93"},
	)
}

// liveCSP is the console's Content-Security-Policy (web/middleware.go), so
// that the tail is checked under the same rules as in production.
const liveCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// TestAuditLiveTailInChromium opens the audit log in headless Chromium
// against a server whose tail the test feeds, and checks what app.js does
// with it: Live inserts rows on top, Pause holds them and counts them,
// Resume puts them in, in order, a repeated row is dropped, a hostile row
// stays text, and on an empty page the first row brings the table.
func TestAuditLiveTailInChromium(t *testing.T) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium")
	}
	static, err := filepath.Abs("../static")
	if err != nil {
		t.Fatal(err)
	}
	feed := make(chan AuditRow, 10)
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.Dir(static))))
	mux.HandleFunc("/admin/audit", func(w http.ResponseWriter, r *http.Request) {
		p := AuditLogProps{Page: page(SectionAudit, adminViewer()), Events: shotAuditRows()[:3], TailURL: "/admin/audit/tail?tool=x", Now: auditNow}
		if r.URL.Query().Get("empty") != "" {
			p.Events = nil
		}
		_ = AuditLogPage(p).Render(r.Context(), w)
	})
	mux.HandleFunc("/admin/audit/tail", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		for {
			select {
			case <-r.Context().Done():
				return
			case row := <-feed:
				var buf bytes.Buffer
				_ = AuditTableRow(row, time.Now()).Render(r.Context(), &buf)
				fmt.Fprintf(w, "event: row\nid: %d\n", row.ID)
				for _, line := range strings.Split(buf.String(), "\n") {
					fmt.Fprintf(w, "data: %s\n", line)
				}
				fmt.Fprint(w, "\n")
				w.(http.Flusher).Flush()
			}
		}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", liveCSP)
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true), chromedp.UserDataDir(t.TempDir()))
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	ctx, cancelTimeout := context.WithTimeout(browser, 60*time.Second)
	defer cancelTimeout()

	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	waitFor := func(js string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v (rows %q, status %q, pause %q)", js, err,
				eval(`[...document.querySelectorAll("tbody[data-audit-rows] tr")].map(r => r.dataset.auditId).join(" ")`),
				eval(`document.querySelector("[data-live-status]").textContent`), eval(`document.querySelector("[data-live-pause]").textContent`))
		}
	}
	ids := func() string {
		return eval(`[...document.querySelectorAll("tbody[data-audit-rows] tr")].map(r => r.dataset.auditId).join(" ")`)
	}
	click := func(sel string) { do("click "+sel, chromedp.Click(chromedp.CSS(sel))) }
	row := func(id uint64, tool string) AuditRow {
		r := sampleAuditRows("x")[0]
		r.ID, r.Tool, r.At, r.DetailURL = id, tool, time.Now(), fmt.Sprintf("/admin/audit/%d", id)
		return r
	}

	do("open the audit log", chromedp.EmulateViewport(1280, 1000), chromedp.Navigate(srv.URL+"/admin/audit"), chromedp.WaitVisible(chromedp.CSS(`[data-live-toggle]`)))
	if got := ids(); got != "109 108 107" {
		t.Fatalf("rows before live: %q", got)
	}
	click(`[data-live-toggle]`)
	waitFor(`document.querySelector("[data-live-status]").textContent === "Live"`)
	if got := eval(`document.querySelector("[data-live-toggle]").getAttribute("aria-pressed")`); got != "true" {
		t.Errorf("toggle aria-pressed %q while live", got)
	}
	feed <- row(200, "live_one")
	waitFor(`document.querySelector("tbody[data-audit-rows] tr").dataset.auditId === "200"`)
	if got := eval(`document.querySelector('tr[data-audit-id="200"] [data-testid="audit-tool"]').textContent`); got != "live_one" {
		t.Errorf("live row tool %q", got)
	}

	// Paused: rows wait, counted on the Resume button.
	click(`[data-live-pause]`)
	feed <- row(201, "held_one")
	feed <- row(202, hostile)
	waitFor(`document.querySelector("[data-live-pause]").textContent === "Resume · 2 new"`)
	if got := ids(); got != "200 109 108 107" {
		t.Errorf("rows while paused: %q", got)
	}
	if got := eval(`document.querySelector("[data-live-status]").textContent`); got != "Paused" {
		t.Errorf("status while paused %q", got)
	}
	if dir := os.Getenv("SHOTS_DIR"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			_ = os.WriteFile(filepath.Join(dir, "audit-live-paused.png"), png, 0o644)
		}
	}
	click(`[data-live-pause]`)
	waitFor(`document.querySelectorAll("tbody[data-audit-rows] tr").length === 6`)
	if got := ids(); got != "202 201 200 109 108 107" {
		t.Errorf("rows after resume: %q", got)
	}
	if got := eval(`document.querySelector('tr[data-audit-id="202"] [data-testid="audit-tool"]').textContent`); got != hostile {
		t.Errorf("hostile tool shown as %q", got)
	}
	if got := eval(`String(document.querySelectorAll("tbody script").length)`); got != "0" {
		t.Errorf("%s scripts in the table", got)
	}
	// A row seen already (sent again after a reconnect, say) is not repeated.
	feed <- row(202, "again")
	feed <- row(203, "after")
	waitFor(`document.querySelector("tbody[data-audit-rows] tr").dataset.auditId === "203"`)
	if got := ids(); got != "203 202 201 200 109 108 107" {
		t.Errorf("rows after a repeat: %q", got)
	}

	// On an empty page the first row brings the table in place of the
	// empty state; switched off, the controls say so.
	do("open an empty audit log", chromedp.Navigate(srv.URL+"/admin/audit?empty=1"), chromedp.WaitVisible(chromedp.CSS(`[data-live-toggle]`)))
	click(`[data-live-toggle]`)
	waitFor(`document.querySelector("[data-live-status]").textContent === "Live"`)
	feed <- row(300, "first_ever")
	waitFor(`!document.querySelector("[data-audit-table]").hidden && document.querySelector("[data-audit-empty]").hidden`)
	click(`[data-live-toggle]`)
	waitFor(`document.querySelector("[data-live-toggle]").getAttribute("aria-pressed") === "false" && document.querySelector("[data-live-pause]").hidden && document.querySelector("[data-live-status]").textContent === ""`)
}
