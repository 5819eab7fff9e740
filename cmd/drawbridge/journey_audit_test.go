package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// liveWait bounds the wait for the live tail to show a call; the tail
// looks for new events every second.
const liveWait = 10 * time.Second

// TestSecurityTeamJourney is a security team answering "who called which
// tool, and what happened": an agent with a service account calls the
// demo's echo (allowed) and admin_reset (denied by the demo policy), and
// another user's agent calls echo; the admin finds the denied call by
// filtering on the tool prefix, reads why it was denied, filters on the
// first agent's user and exports that view, watches new calls arrive
// live (and paused), exports the whole log as CSV, verifies the hash
// chains, and makes a colleague an auditor, who sees the dashboard and
// the audit log only and clicks from the calls chart into the log.
func TestSecurityTeamJourney(t *testing.T) {
	t.Parallel()
	demoPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	inst := startDrawbridge(t, "--demo", "--demo-address", "127.0.0.1:"+demoPort)
	routeURL := "http://localhost:" + inst.port(t) // the demo route, beside a console at 127.0.0.1
	const agentOwner, otherOwner = "ci-owner@example.com", "ops-owner@example.com"
	const auditor, auditorPassword = "audrey@example.com", "audrey-has-a-long-password"
	for _, owner := range []string{agentOwner, otherOwner} {
		inst.cli(t, "a long enough password\n", "user", "create", "--email", owner, "--password-stdin")
	}
	inst.cli(t, auditorPassword+"\n", "user", "create", "--email", auditor, "--password-stdin")

	// 1. An agent calls the demo route with a service account's token,
	// and another user's agent with its own.
	agent := connectAgent(t, inst, routeURL, agentOwner, "ci")
	agent.echo(t, "first")
	agent.adminReset(t)
	other := connectAgent(t, inst, routeURL, otherOwner, "nightly")
	other.echo(t, "from another user")
	agentWho, otherWho := "ci via "+agentOwner, "nightly via "+otherOwner

	// 2. The admin finds every call, then only the denied one.
	ctx := newTab(t)
	signIn(t, ctx, inst.URL, inst.Email, inst.Password)
	follow(t, ctx, "open Audit log", testID("nav-audit"))
	wantPath(t, ctx, "/admin/audit")
	step(t, ctx, "see the audit table", chromedp.WaitVisible(testID("audit-table")))
	rows := auditRows(t, ctx)
	var echoes []string
	for _, r := range rowsWith(rows, "tools/call", "echo") {
		echoes = append(echoes, r.Decision+" by "+r.Who)
	}
	slices.Sort(echoes)
	if want := []string{"allow by " + agentWho, "allow by " + otherWho}; !slices.Equal(echoes, want) {
		t.Errorf("the log shows the echo calls as %q; want %q", echoes, want)
	}
	denied := rowsWith(rows, "tools/call", "admin_reset")
	if len(denied) != 1 || denied[0].Decision != "deny" {
		t.Fatalf("the log shows the admin_reset call as %+v; want one denied row (all rows: %+v)", denied, rows)
	}
	deniedRow := fmt.Sprintf(`[data-testid="audit-row"][data-audit-id="%d"]`, denied[0].ID)
	badge := chromedp.CSS(deniedRow + ` [data-testid="audit-decision"]`)
	if got := text(t, ctx, badge); got != "deny" {
		t.Errorf("the denied row's badge says %q, want deny", got)
	}
	if got := attr(t, ctx, badge, "class"); !strings.Contains(got, "badge-danger") {
		t.Errorf("the denied row's badge has class %q, want badge-danger", got)
	}
	if got := text(t, ctx, chromedp.CSS(deniedRow+` [data-testid="audit-who"]`)); got != agentWho {
		t.Errorf("the denied row names who called as %q, want %s", got, agentWho)
	}

	fill(t, ctx, chromedp.CSS(`#audit-tool`), "admin_")
	follow(t, ctx, "apply the filter", testID("audit-apply"))
	wantPath(t, ctx, "/admin/audit")
	if got := location(t, ctx).Query().Get("tool"); got != "admin_" {
		t.Errorf("the filtered view's URL has tool=%q, want admin_", got)
	}
	if got := auditRows(t, ctx); len(got) != 1 || got[0].ID != denied[0].ID {
		t.Errorf("filtered by tool admin_, the log shows %+v; want the denied call (#%d) only", got, denied[0].ID)
	}
	if got := text(t, ctx, chromedp.CSS(`[data-testid="chip"][data-param="tool"]`)); !strings.Contains(got, "admin_") {
		t.Errorf("the tool filter's chip reads %q", got)
	}
	pageShot(t, ctx, "audit-filtered")

	// 3. The denied call in full: what, the decision, and why.
	follow(t, ctx, "open the denied call", chromedp.CSS(deniedRow+` [data-testid="audit-time"]`))
	wantPath(t, ctx, fmt.Sprintf("/admin/audit/%d", denied[0].ID))
	if got := text(t, ctx, testID("field-tool")); got != "admin_reset" {
		t.Errorf("the event's tool = %q, want admin_reset", got)
	}
	if got := text(t, ctx, testID("field-decision")); got != "deny" {
		t.Errorf("the event's decision = %q, want deny", got)
	}
	if got := text(t, ctx, testID("outcome-explained")); !strings.HasPrefix(got, "Refused by policy") {
		t.Errorf("the outcome is explained as %q, want Refused by policy…", got)
	}
	reasons := evaluate[[][]string](t, ctx, `[...document.querySelectorAll('[data-testid="reason"]')]
		.map(r => [...r.cells].map(c => c.textContent.trim()))`)
	if !slices.ContainsFunc(reasons, func(r []string) bool {
		return len(r) == 6 && r[0] == demoPolicyName && r[1] == "deny" && strings.Contains(r[3], "mcp_tool")
	}) {
		t.Errorf("the event's reasons are %q; want the %s policy's deny block, on mcp_tool", reasons, demoPolicyName)
	}
	if got := text(t, ctx, testID("arguments")); !strings.Contains(got, `"confirm": true`) {
		t.Errorf("the event's arguments read %q, want the call's", got)
	}
	pageShot(t, ctx, "audit-event")

	// 4. By user: the agent's user's events, none of the other user's,
	// and an export of that view holds those events only.
	follow(t, ctx, "back to the log", testID("audit-back"))
	wantPath(t, ctx, "/admin/audit")
	step(t, ctx, "see the filter form", chromedp.WaitVisible(testID("audit-filter")))
	fill(t, ctx, chromedp.CSS(`#audit-tool`), "")
	fill(t, ctx, chromedp.CSS(`#audit-user`), agentOwner)
	follow(t, ctx, "apply the user filter", testID("audit-apply"))
	wantPath(t, ctx, "/admin/audit")
	if q := location(t, ctx).Query(); q.Get("user") != agentOwner || q.Get("tool") != "" {
		t.Errorf("the filtered view's URL has user=%q, tool=%q; want user=%s and no tool", q.Get("user"), q.Get("tool"), agentOwner)
	}
	if got := text(t, ctx, chromedp.CSS(`[data-testid="chip"][data-param="user"]`)); !strings.Contains(got, agentOwner) {
		t.Errorf("the user filter's chip reads %q", got)
	}
	byUser := auditRows(t, ctx)
	for _, r := range byUser {
		if r.Who != agentWho && r.Who != agentOwner {
			t.Errorf("filtered by user %s, the log shows event #%d (%s %s) by %q", agentOwner, r.ID, r.Method, r.Tool, r.Who)
		}
	}
	for _, r := range rows {
		if r.Method != "tools/call" {
			continue
		}
		shown := slices.Contains(rowIDs(byUser), r.ID)
		if r.Who == agentWho && !shown {
			t.Errorf("filtered by user %s, the log leaves out their %s call #%d", agentOwner, r.Tool, r.ID)
		}
		if r.Who != agentWho && shown {
			t.Errorf("filtered by user %s, the log shows %s's %s call #%d", agentOwner, r.Who, r.Tool, r.ID)
		}
	}
	pageShot(t, ctx, "audit-by-user")
	if n := count(t, ctx, testID("audit-older")); n != 0 {
		t.Fatalf("the user's view has more than one page (%d rows shown); the export cannot be compared with it", len(byUser))
	}
	// The export's own record is the admin's, so it is not in this view.
	userCSV := exportedRows(t, download(t, ctx, "export the user's view as CSV", testID("export-csv")))
	var userIDs []uint64
	for _, rec := range userCSV {
		userIDs = append(userIDs, rec.ID)
		if rec.Get("user_email") != agentOwner {
			t.Errorf("the export of %s's view has event #%d by %q", agentOwner, rec.ID, rec.Get("user_email"))
		}
	}
	if !slices.Equal(userIDs, rowIDs(byUser)) {
		t.Errorf("the export of %s's view has events %v; the page shows %v", agentOwner, userIDs, rowIDs(byUser))
	}

	// 5. Live: a call made now shows without a reload; paused, it waits.
	follow(t, ctx, "reset the filters", testID("audit-reset"))
	if q := location(t, ctx).RawQuery; q != "" {
		t.Errorf("Reset leads to /admin/audit?%s; want the unfiltered log", q)
	}
	step(t, ctx, "switch the live tail on",
		chromedp.WaitVisible(testID("live-toggle")),
		chromedp.Click(testID("live-toggle")),
		pollFor(`document.querySelector('[data-testid="live-status"]').textContent === "Live"`, liveWait),
	)
	if got := attr(t, ctx, testID("live-toggle"), "aria-pressed"); got != "true" {
		t.Errorf("the Live button's aria-pressed = %q once on, want true", got)
	}
	// The page is marked: a reload would lose the mark.
	evaluate[bool](t, ctx, `(document.body.dataset.journeyMark = "before", true)`)
	seen := rowIDs(auditRows(t, ctx))
	agent.echo(t, "live")
	step(t, ctx, "see the live call's row", pollFor(newRowJS(seen, "echo"), liveWait))
	live := auditRows(t, ctx)[0]
	if live.Tool != "echo" || live.Method != "tools/call" || live.Decision != "allow" || slices.Contains(seen, live.ID) {
		t.Errorf("the top row after the live call is %+v; want a new row for the echo call", live)
	}

	step(t, ctx, "pause", chromedp.Click(testID("live-pause")))
	if got := text(t, ctx, testID("live-pause")); got != "Resume" {
		t.Errorf("the pause button reads %q once paused, want Resume", got)
	}
	seen = rowIDs(auditRows(t, ctx))
	agent.echo(t, "while paused")
	step(t, ctx, "see the new-row counter",
		pollFor(`document.querySelector('[data-testid="live-pause"]').textContent === "Resume · 1 new"`, liveWait))
	if evaluate[bool](t, ctx, newRowJS(seen, "")) {
		t.Errorf("a call made while paused is in the table before Resume")
	}
	if got := text(t, ctx, testID("live-status")); got != "Paused" {
		t.Errorf("the live status reads %q while paused", got)
	}
	step(t, ctx, "resume",
		chromedp.Click(testID("live-pause")),
		pollFor(newRowJS(seen, "echo"), time.Second),
	)
	if got := text(t, ctx, testID("live-pause")); got != "Pause" {
		t.Errorf("the pause button reads %q after Resume, want Pause", got)
	}
	if !evaluate[bool](t, ctx, `document.body.dataset.journeyMark === "before"`) {
		t.Errorf("the page was reloaded: the rows did not come live")
	}
	top := auditRows(t, ctx)
	if len(top) < 2 || top[0].ID <= top[1].ID {
		t.Errorf("after Resume the table is not newest first: %+v", top[:min(len(top), 3)])
	}
	pageShot(t, ctx, "audit-live")

	// 6. The CSV export is the page's rows, and the record of the export
	// itself: it is written before the rows stream, so it is the newest.
	// The button submits the page's export form, a POST: a link would let
	// another site make exports.
	pageIDs := rowIDs(top)
	if n := count(t, ctx, testID("audit-older")); n != 0 {
		t.Fatalf("the log has more than one page (%d rows shown); the export cannot be compared with it", len(pageIDs))
	}
	if m, a := attr(t, ctx, testID("audit-exports"), "method"), attr(t, ctx, testID("audit-exports"), "action"); m != "post" || a != "/admin/audit/export" {
		t.Errorf("the export form is method %q, action %q; want a POST to /admin/audit/export", m, a)
	}
	exported := exportedRows(t, download(t, ctx, "export the view as CSV", testID("export-csv")))
	if len(exported) == 0 {
		t.Fatal("the CSV export has no rows")
	}
	var csvIDs, calls []uint64 // calls: the tools/call events
	for _, rec := range exported {
		csvIDs = append(csvIDs, rec.ID)
		if rec.Get("mcp_method") == "tools/call" {
			calls = append(calls, rec.ID)
		}
	}
	if self := exported[0]; self.Get("kind") != "export" || self.Get("user_email") != inst.Email {
		t.Errorf("the export's newest row is %s by %s; want the export's own record, by %s", self.Get("kind"), self.Get("user_email"), inst.Email)
	} else if !slices.Equal(csvIDs[1:], pageIDs) {
		t.Errorf("the CSV export has events %v besides its own; the page shows %v", csvIDs[1:], pageIDs)
	}
	if i := slices.Index(csvIDs, live.ID); i < 0 {
		t.Errorf("the CSV export has no row for the live call, #%d", live.ID)
	} else if got := exported[i]; got.Get("tool") != "echo" || got.Get("decision") != "allow" || got.Get("service_account") != "ci" {
		t.Errorf("the live call's CSV row has tool %q, decision %q, service account %q; want echo, allow, ci",
			got.Get("tool"), got.Get("decision"), got.Get("service_account"))
	}
	if made := agent.calls + other.calls; len(calls) != made {
		t.Errorf("the CSV export has %d tools/call events; the agents made %d calls", len(calls), made)
	}
	// The tail is still on, and shows the export's record.
	step(t, ctx, "see the export's own record arrive", pollFor(fmt.Sprintf(`!!document.querySelector('[data-audit-id="%d"]')`, csvIDs[0]), liveWait))

	// 7. Every chain verifies.
	follow(t, ctx, "verify now", chromedp.CSS(`[data-testid="audit-verify"] button`))
	wantPath(t, ctx, "/admin/audit")
	// One process wrote every event: the server's writer.
	wantFlash(t, ctx, "success", "Every chain of the audit log verifies (1 writer): nothing was edited, deleted or reordered.")
	if n := count(t, ctx, chromedp.CSS(`[data-testid="flash"][data-kind="error"]`)); n != 0 {
		t.Errorf("Verify now reports %d broken chain(s)", n)
	}
	if got := text(t, ctx, testID("verified-result")); got != "intact" {
		t.Errorf("the last verification reads %q, want intact", got)
	}
	if got := text(t, ctx, testID("verified-by")); got != inst.Email {
		t.Errorf("the last verification was by %q, want %s", got, inst.Email)
	}
	// What it found in each chain is stored with it: a reload, which the
	// flash does not survive, still shows the chain and its events (every
	// event so far, the CSV's).
	step(t, ctx, "reload the log", chromedp.Reload(), chromedp.WaitVisible(testID("chain-table")))
	if n := count(t, ctx, testID("flash")); n != 0 {
		t.Errorf("%d flashes after a reload", n)
	}
	type chainRow struct {
		OK     string `json:"ok"`
		Events string `json:"events"`
		State  string `json:"state"`
	}
	chainRows := evaluate[[]chainRow](t, ctx, `[...document.querySelectorAll('[data-testid="chain-row"]')].map(r => ({
		ok: r.dataset.ok, events: r.cells[1].textContent.trim(), state: r.querySelector('[data-testid="chain-state"]').textContent.trim(),
	}))`)
	if want := []chainRow{{OK: "true", Events: strconv.Itoa(len(csvIDs)), State: "intact"}}; !slices.Equal(chainRows, want) {
		t.Errorf("the chains after a reload are %+v; want %+v", chainRows, want)
	}
	pageShot(t, ctx, "audit-verified")

	// 8. A colleague becomes an auditor: the dashboard and the log only.
	follow(t, ctx, "open Users", testID("nav-users"))
	row := rowOf(t, ctx, auditor)
	follow(t, ctx, "make them an auditor", chromedp.CSS(row+` [data-testid="action-grant-auditor"] button`))
	wantFlash(t, ctx, "success", auditor+" is now an auditor: they read the audit log and the dashboard.")
	if got := text(t, ctx, chromedp.CSS(rowOf(t, ctx, auditor)+` [data-testid="role-badge"]`)); got != "auditor" {
		t.Errorf("their role badge reads %q, want auditor", got)
	}

	actx := newTab(t)
	signIn(t, actx, inst.URL, auditor, auditorPassword)
	step(t, actx, "see the console navigation", chromedp.WaitVisible(testID("nav")))
	pageShot(t, actx, "auditor-landing")
	nav := evaluate[[]string](t, actx, `[...document.querySelectorAll('[data-testid="nav"] .nav-list:not(.nav-secondary) .nav-link')]
		.map(a => a.textContent.trim())`)
	if !slices.Equal(nav, []string{"Dashboard", "Audit log"}) {
		t.Errorf("an auditor's console navigation is %q; want Dashboard and Audit log only", nav)
	}
	resp, err := chromedp.Run(actx, chromedp.NavigateResponse(inst.URL+"/admin/routes"))
	if err != nil {
		t.Fatalf("open /admin/routes as the auditor: %v", err)
	}
	if resp.Status != http.StatusForbidden {
		t.Errorf("/admin/routes answered the auditor %d, want 403", resp.Status)
	}

	// 9. The dashboard's calls chart leads into the log: every tools/call
	// made is in a bar, and a bar opens its calls.
	step(t, actx, "open the dashboard", chromedp.Navigate(inst.URL+"/admin"))
	step(t, actx, "see the calls chart", chromedp.WaitVisible(chromedp.CSS(`[data-testid="activity"] svg`)))
	type chartBar struct {
		Total int    `json:"total"`
		Href  string `json:"href"`
	}
	bars := evaluate[[]chartBar](t, actx, `[...document.querySelectorAll('[data-testid="activity"] [data-testid="chart-bar"]')]
		.map(b => ({total: Number(b.dataset.total), href: b.getAttribute("href") || ""}))`)
	sum, newest := 0, -1
	for i, b := range bars {
		sum += b.Total
		if b.Total > 0 {
			newest = i // two, when the calls straddle an hour
		}
	}
	if sum != len(calls) || newest < 0 || bars[newest].Href == "" {
		t.Fatalf("the calls chart's bars hold %d calls (%+v); the log has %d", sum, bars, len(calls))
	}
	pageShot(t, actx, "dashboard")
	bar := bars[newest]
	follow(t, actx, "click the newest bar with calls", chromedp.CSS(fmt.Sprintf(`[data-testid="activity"] a[data-testid="chart-bar"][href=%q]`, bar.Href)))
	wantPath(t, actx, "/admin/audit")
	q := location(t, actx).Query()
	if q.Get("range") != "custom" || q.Get("method") != "tools/call" || q.Get("from") == "" || q.Get("to") == "" {
		t.Errorf("the bar (%s) opens the log at ?%s; want a custom range with method tools/call", bar.Href, q.Encode())
	}
	got := auditRows(t, actx)
	if len(got) != bar.Total {
		t.Errorf("the bar counts %d calls; the log it opens shows %d: %+v", bar.Total, len(got), got)
	}
	for _, r := range got {
		if !slices.Contains(calls, r.ID) {
			t.Errorf("the bar's log shows event #%d (%s %s), which is not one of the agent's calls %v", r.ID, r.Method, r.Tool, calls)
		}
	}
	pageShot(t, actx, "dashboard-bucket")
}

// download clicks sel, which starts a download, and returns the file
// once Chromium has saved it: into a directory of the test's, named by
// the download's GUID.
func download(t *testing.T, ctx context.Context, what string, sel chromedp.CSS) string {
	t.Helper()
	dir := t.TempDir()
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Subscribed before the click, so that no event is missed.
	progress := chromedp.Events(wait, browser.DownloadProgress)
	step(t, ctx, what,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior:         browser.SetDownloadBehaviorBehaviorAllowAndName,
				BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
				DownloadPath:     dir,
				EventsEnabled:    new(true),
			})
			return err
		}),
		chromedp.Click(sel),
	)
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("%s: no finished download: %v", what, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatalf("%s: read the download: %v", what, err)
			}
			return string(b)
		case browser.DownloadProgressStateCanceled:
			t.Fatalf("%s: the download was canceled", what)
		}
	}
	t.Fatalf("%s: the browser stopped before the download finished", what)
	return ""
}

// csvRow is one event of a CSV export, its fields by column name.
type csvRow struct {
	ID     uint64
	fields map[string]string
}

// Get is the row's value in the named column, "" when there is none.
func (r csvRow) Get(column string) string { return r.fields[column] }

// exportedRows parses a CSV export of the audit log, newest first as it
// comes, failing the test unless it has a header and a numeric id on
// every row.
func exportedRows(t *testing.T, body string) []csvRow {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(records) == 0 {
		t.Fatalf("the CSV export does not parse (%v): %q", err, body)
	}
	header := records[0]
	if !slices.Contains(header, "id") {
		t.Fatalf("the CSV export has no id column: %q", header)
	}
	rows := make([]csvRow, 0, len(records)-1)
	for _, rec := range records[1:] {
		r := csvRow{fields: make(map[string]string, len(header))}
		for i, name := range header {
			r.fields[name] = rec[i]
		}
		if r.ID, err = strconv.ParseUint(r.Get("id"), 10, 64); err != nil {
			t.Fatalf("a CSV row has id %q", r.Get("id"))
		}
		rows = append(rows, r)
	}
	return rows
}

// agent is an MCP client on the demo route with a service account's
// token, as CI would be.
type agent struct {
	session *sdk.ClientSession
	ctx     context.Context
	calls   int // tools/call requests made
}

// connectAgent creates a service account named name acting as owner
// with the CLI, and connects the Go SDK client to routeURL with its
// token.
func connectAgent(t *testing.T, inst *instance, routeURL, owner, name string) *agent {
	t.Helper()
	out := inst.cli(t, "", "service-account", "create", "--user", owner, "--name", name, "--quiet", "--console-url", inst.URL)
	jwt, ok := strings.CutSuffix(out, "\n")
	if !ok || strings.ContainsAny(jwt, " \n") {
		t.Fatalf("service-account create --quiet printed %q; want a bare JWT", out)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &recordingBearer{bearer: "Drawbridge-" + jwt, base: dialAll(inst.URL).Transport}}
	waitAccepted(t, client, routeURL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	session, err := sdk.NewClient(&sdk.Implementation{Name: name + "-agent", Version: "1"}, nil).Connect(ctx,
		&sdk.StreamableClientTransport{Endpoint: routeURL, HTTPClient: client, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatalf("connect to %s with the service account: %v", routeURL, err)
	}
	t.Cleanup(func() { _ = session.Close() })
	return &agent{session: session, ctx: ctx}
}

// echo calls the demo's echo tool, which the demo policy allows.
func (a *agent) echo(t *testing.T, text string) {
	t.Helper()
	a.calls++
	res, err := a.session.CallTool(a.ctx, &sdk.CallToolParams{Name: "echo", Arguments: map[string]any{"text": text}})
	if err != nil || res.IsError {
		t.Fatalf("call echo: %v %+v", err, res)
	}
	if got, ok := res.Content[0].(*sdk.TextContent); !ok || got.Text != text {
		t.Errorf("echo answered %+v", res.Content)
	}
}

// adminReset calls the demo's admin_reset tool, which the demo policy
// denies.
func (a *agent) adminReset(t *testing.T) {
	t.Helper()
	a.calls++
	_, err := a.session.CallTool(a.ctx, &sdk.CallToolParams{Name: "admin_reset", Arguments: map[string]any{"confirm": true}})
	if err == nil || !strings.Contains(err.Error(), "policy") {
		t.Fatalf("admin_reset answered %v; want the demo policy's refusal", err)
	}
}

// auditRow is a row of the audit table as the page shows it.
type auditRow struct {
	ID       uint64 `json:"id"`
	Decision string `json:"decision"`
	Method   string `json:"method"`
	Tool     string `json:"tool"`
	Who      string `json:"who"`
}

// auditRows reads the audit table's rows, top first.
func auditRows(t *testing.T, ctx context.Context) []auditRow {
	t.Helper()
	return evaluate[[]auditRow](t, ctx, `[...document.querySelectorAll('[data-testid="audit-row"]')].map(r => ({
		id: Number(r.dataset.auditId),
		decision: r.dataset.decision,
		method: r.querySelector('[data-testid="audit-method"]').textContent.replace(/\s+/g, ""),
		tool: r.querySelector('[data-testid="audit-tool"]').textContent.replace(/\s+/g, ""),
		who: r.querySelector('[data-testid="audit-who"]').textContent.replace(/\s+/g, " ").trim(),
	}))`)
}

// rowsWith are the rows of one method and tool.
func rowsWith(rows []auditRow, method, tool string) []auditRow {
	var out []auditRow
	for _, r := range rows {
		if r.Method == method && r.Tool == tool {
			out = append(out, r)
		}
	}
	return out
}

func rowIDs(rows []auditRow) []uint64 {
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

// newRowJS is a JavaScript expression, true once the table has a row not
// among seen (for tool, when tool is not empty).
func newRowJS(seen []uint64, tool string) string {
	ids := make([]string, len(seen))
	for i, id := range seen {
		ids[i] = strconv.FormatUint(id, 10)
	}
	return fmt.Sprintf(`[...document.querySelectorAll('[data-testid="audit-row"]')].some(r =>
		![%s].includes(Number(r.dataset.auditId)) &&
		(%q === "" || r.querySelector('[data-testid="audit-tool"]').textContent.replace(/\s+/g, "") === %q))`,
		strings.Join(ids, ","), tool, tool)
}

// pollFor waits, within timeout, for a JavaScript expression to be true.
func pollFor(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout))
}
