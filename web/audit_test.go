package web

import (
	"bufio"
	"context"
	"encoding/csv"
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

func TestAuditExportsParseBackToTheSameRows(t *testing.T) {
	_, admin := auditWorld(t)
	filter := url.Values{"range": {"1h"}, "method": {"tools/call"}}
	_, body := admin.get("/admin/audit?" + filter.Encode())
	var pageIDs []string
	doc(t, body).Find(`tbody tr[data-audit-id]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-audit-id")
		pageIDs = append(pageIDs, id)
	})
	if len(pageIDs) == 0 {
		t.Fatal("no rows to export")
	}

	get := func(format string) string {
		f := url.Values{}
		for k, v := range filter {
			f[k] = v
		}
		f.Set("format", format)
		req, _ := http.NewRequest(http.MethodGet, admin.app.URL+"/admin/audit/export?"+f.Encode(), nil)
		resp, body := admin.do(req)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export %s: %d %v", format, resp.StatusCode, resp.Header)
		}
		return body
	}
	records, err := csv.NewReader(strings.NewReader(get("csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var csvIDs []string
	for _, r := range records[1:] {
		csvIDs = append(csvIDs, r[0])
	}
	var jsonIDs []string
	sc := bufio.NewScanner(strings.NewReader(get("jsonl")))
	for sc.Scan() {
		var e models.AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("JSON line %q: %v", sc.Text(), err)
		}
		jsonIDs = append(jsonIDs, strconv.FormatUint(e.ID, 10))
	}
	if strings.Join(csvIDs, ",") != strings.Join(pageIDs, ",") || strings.Join(jsonIDs, ",") != strings.Join(pageIDs, ",") {
		t.Fatalf("page %v, CSV %v, JSON Lines %v: want the same rows", pageIDs, csvIDs, jsonIDs)
	}
	// The export is itself recorded.
	_, body = admin.get("/admin/audit?" + url.Values{"range": {"1h"}, "kind": {"export"}}.Encode())
	if n := doc(t, body).Find(`tbody tr[data-audit-id]`).Length(); n != 2 {
		t.Errorf("%d export events, want 2", n)
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
// old events removed by something other than retention: Verify says so.
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
}
