package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAuditFailOpenSetting: an admin can let calls through when the audit
// log is down, after which every console page warns of it, and turn it
// off again; nobody else can.
func TestAuditFailOpenSetting(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "root@example.com", true)
	app.user(t, "ada@example.com", false)

	user := app.browser(t)
	user.login("ada@example.com")
	if resp, _ := user.post("/admin/settings/audit", url.Values{"fail_open": {"true"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a non-admin turned fail-open on: %d", resp.StatusCode)
	}

	admin := app.browser(t)
	admin.login("root@example.com")
	if resp, _ := admin.post("/admin/settings/audit", url.Values{"fail_open": {"true"}, csrfField: {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("fail-open without the CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := admin.post("/admin/settings/audit", url.Values{"fail_open": {"maybe"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("fail_open=maybe: %d", resp.StatusCode)
	}
	if resp, _ := admin.post("/admin/settings/audit", url.Values{"fail_open": {"true"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("turn fail-open on: %d", resp.StatusCode)
	}
	st, err := app.Store.GetSettings(context.Background())
	if err != nil || !st.AuditFailOpen {
		t.Fatalf("settings after turning it on: %+v, %v", st, err)
	}
	for _, path := range []string{"/admin", "/admin/routes"} {
		_, body := admin.get(path)
		if doc(t, body).Find(`[data-testid="console-warning"]`).Length() != 1 {
			t.Errorf("%s does not warn that audit fail-open is on", path)
		}
	}
	if resp, _ := admin.post("/admin/settings/audit", url.Values{"fail_open": {"false"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("turn fail-open off: %d", resp.StatusCode)
	}
	if _, body := admin.get("/admin"); strings.Contains(body, `data-testid="console-warning"`) {
		t.Error("the warning stayed after fail-open was turned off")
	}
}
