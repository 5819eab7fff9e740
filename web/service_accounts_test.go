package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// tokenOnPage is the token a token page shows, read from its copy block.
func tokenOnPage(t *testing.T, body string) string {
	t.Helper()
	tok := strings.TrimSpace(doc(t, body).Find(`[data-testid="sa-token"]`).First().Text())
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("no token on the page: %q", tok)
	}
	return tok
}

func TestServiceAccountsConsole(t *testing.T) {
	w := newConnectWorld(t)
	w.app.user(t, "root@example.com", true)
	admin := w.app.browser(t)
	admin.login("root@example.com")

	resp, body := admin.post("/admin/service-accounts", url.Values{
		"name": {"ci deploy"}, "user": {"alice@example.com"}, "expiry": {"30"},
		"routes": {strconv.FormatUint(uint64(w.route.ID), 10)},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create: %d %.500s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("the token page may be cached: %q", cc)
	}
	tok := tokenOnPage(t, body)
	if !strings.Contains(body, "claude mcp add --transport http") || !strings.Contains(body, w.route.From) {
		t.Errorf("the token page has no setup for the route")
	}
	acc, err := w.app.Store.FindServiceAccount(context.Background(), "ci deploy")
	if err != nil || acc.TokenHash != models.HashToken(tok) || acc.ExpiresAt == nil {
		t.Fatalf("stored %+v %v", acc, err)
	}
	// The list shows it, never its token.
	_, body = admin.get("/admin/service-accounts?q=deploy")
	if !strings.Contains(body, "ci deploy") || strings.Contains(body, tok) {
		t.Fatalf("the list does not show the account, or shows its token")
	}

	// The account calls as alice: it needs her connection to the route's
	// app, and says so.
	w.app.waitForGateway(t)
	s, err := w.mcpSession(t, "Drawbridge-"+tok)
	if err == nil {
		_, err = whoami(t, s)
	}
	if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("call before alice connected: %v, want 401", err)
	}
	w.connect(t, w.signedIn(t))
	s, err = w.mcpSession(t, "Drawbridge-"+tok)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := whoami(t, s); err != nil || !strings.HasPrefix(got, "Bearer ") || strings.Contains(got, tok) {
		t.Fatalf("call as the account: %q %v", got, err)
	}

	// Revoked: refused at once.
	resp, _ = admin.post("/admin/service-accounts/"+strconv.FormatUint(uint64(acc.ID), 10)+"/revoke", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	w.app.waitForGateway(t)
	if _, err := whoami(t, s); err == nil || !strings.Contains(err.Error(), "Unauthorized") {
		t.Fatalf("call after revoke: %v", err)
	}
	// Form errors say what is wrong, and keep what was typed.
	resp, body = admin.post("/admin/service-accounts", url.Values{"name": {"ci deploy"}, "user": {"nobody@example.com"}, "expiry": {"date"}, "expiry_date": {"2001-01-01"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "no user has this email") || !strings.Contains(body, "the date has passed") {
		t.Fatalf("bad create: %d %.300s", resp.StatusCode, body)
	}
}

func TestServiceAccountsSelfService(t *testing.T) {
	w := newConnectWorld(t)
	b := w.signedIn(t)
	if resp, body := b.get("/service-accounts"); resp.StatusCode != http.StatusOK || strings.Contains(body, `action="/service-accounts"`) {
		t.Fatalf("self-service while off: %d, want the list without a create form", resp.StatusCode)
	}
	if resp, _ := b.post("/service-accounts", url.Values{"name": {"sneaky"}, "expiry": {"never"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("create while self-service is off: %d, want 403", resp.StatusCode)
	}
	st, _ := w.app.Store.GetSettings(context.Background())
	st.UserServiceAccounts = true
	if err := w.app.Store.UpdateSettings(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	_, body := b.get("/")
	if !strings.Contains(body, `href="/service-accounts"`) {
		t.Errorf("the portal does not link to service accounts")
	}
	// A user cannot make an account act as someone else: the form has no
	// such field, and one posted anyway is ignored.
	w.app.user(t, "bob@example.com", false)
	resp, body := b.post("/service-accounts", url.Values{"name": {"mine"}, "user": {"bob@example.com"}, "expiry": {"never"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create own: %d %.300s", resp.StatusCode, body)
	}
	tokenOnPage(t, body)
	// Its name is kept after alice's email: no user can pick a name a
	// policy rule trusts.
	acc, err := w.app.Store.FindServiceAccount(context.Background(), "alice@example.com/mine")
	if err != nil || acc.UserID != w.alice.ID {
		t.Fatalf("the account: %+v %v, want alice's, named after her", acc, err)
	}
	// Only routes she may use.
	resp, _ = b.post("/service-accounts", url.Values{"name": {"other"}, "expiry": {"never"}, "routes": {"9999"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a route she may not use: %d, want 422", resp.StatusCode)
	}
	// At most 20 active at once: the 21st is refused on the form.
	for i := 1; i < 20; i++ {
		resp, body := b.post("/service-accounts", url.Values{"name": {"bot" + strconv.Itoa(i)}, "expiry": {"never"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("create account %d: %d %.300s", i+1, resp.StatusCode, body)
		}
	}
	resp, body = b.post("/service-accounts", url.Values{"name": {"one-too-many"}, "expiry": {"never"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "20 active service accounts already") {
		t.Errorf("the 21st account: %d %.300s, want 422 saying the cap", resp.StatusCode, body)
	}
	// Nor touch another user's.
	bob, _ := w.app.Store.GetUserByEmail(context.Background(), "bob@example.com")
	other := &models.ServiceAccount{Name: "bobs", UserID: bob.ID}
	if _, err := w.app.Store.CreateServiceAccountWithToken(context.Background(), other, func(uint) (string, error) { return "x.y.z", nil }); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"revoke", "rotate"} {
		if resp, _ := b.post("/service-accounts/"+strconv.FormatUint(uint64(other.ID), 10)+"/"+action, url.Values{"grace": {"0"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s another user's account: %d, want 404", action, resp.StatusCode)
		}
	}
	// The console is for admins; its forms need the CSRF token.
	if resp, _ := b.get("/admin/service-accounts"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a user on the console's page: %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.post("/service-accounts", url.Values{csrfField: {"forged"}, "name": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("create without the CSRF token: %d, want 403", resp.StatusCode)
	}

	// Turned off again, she can still see and revoke her own.
	st.UserServiceAccounts = false
	if err := w.app.Store.UpdateSettings(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.post("/service-accounts/"+strconv.FormatUint(uint64(acc.ID), 10)+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("revoking her own with self-service off: %d, want 303", resp.StatusCode)
	}
	_, body = b.get("/service-accounts")
	if strings.Contains(body, "bobs") {
		t.Errorf("the portal lists another user's account")
	}
}
