package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/drawbridge/drawbridge/models"
)

// addClient stores an MCP client as registration, a metadata document or
// the console would.
func (a *testApp) addClient(t *testing.T, clientID, name, source string) *models.OAuthClient {
	t.Helper()
	c := &models.OAuthClient{
		ClientID: clientID, Name: name, Source: source,
		ClientURI: "https://evil.example/home", LogoURI: "https://evil.example/logo.png",
		RedirectURIs:            []string{"http://127.0.0.1:33418/callback"},
		GrantTypes:              []string{models.GrantAuthorizationCode, models.GrantRefreshToken},
		TokenEndpointAuthMethod: models.AuthMethodNone,
	}
	if err := a.Store.CreateOAuthClient(context.Background(), c); err != nil {
		t.Fatalf("create client %s: %v", clientID, err)
	}
	return c
}

const clientsTestResource = "http://github.localhost:8080"

// authorizeClient does in the store what a user's sign-in through the
// client leaves behind: a consent, a redeemed code, a refresh token and
// an access token, which CountActiveTokens counts as 2.
func (a *testApp) authorizeClient(t *testing.T, clientID string, userID uint) {
	t.Helper()
	ctx := context.Background()
	if err := a.Store.GrantConsent(ctx, &models.Consent{UserID: userID, ClientID: clientID, Resource: clientsTestResource, Scope: "mcp"}); err != nil {
		t.Fatal(err)
	}
	raw := rand.Text()
	sum := sha256.Sum256([]byte(rand.Text()))
	code := &models.AuthCode{
		CodeHash: models.HashToken(raw), ClientID: clientID, UserID: userID,
		RedirectURI:   "http://127.0.0.1:33418/callback",
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]),
		Resource:      clientsTestResource, Scope: "mcp", ExpiresAt: time.Now().Add(10 * time.Minute),
	}
	if err := a.Store.CreateAuthCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	redeemed, err := a.Store.RedeemAuthCode(ctx, models.HashToken(raw), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hour := time.Now().Add(time.Hour)
	err = a.Store.CreateRefreshToken(ctx, &models.RefreshToken{TokenHash: models.HashToken(rand.Text()), FamilyID: redeemed.FamilyID,
		ClientID: clientID, UserID: userID, Resource: clientsTestResource, Scope: "mcp", ExpiresAt: hour})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Store.RecordAccessToken(ctx, &models.AccessTokenRecord{JTI: rand.Text(), FamilyID: redeemed.FamilyID,
		ClientID: clientID, UserID: userID, Resource: clientsTestResource, ExpiresAt: hour})
	if err != nil {
		t.Fatal(err)
	}
}

func (a *testApp) activeTokens(t *testing.T, clientID string) int64 {
	t.Helper()
	n, err := a.Store.CountActiveTokens(context.Background(), clientID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// postThen posts a form, expects a 303, and returns where it leads and
// the flash shown there.
func (b *browser) postThen(path string, form url.Values) (location, flash string) {
	b.t.Helper()
	resp, body := b.post(path, form)
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("POST %s: status %d, want 303: %.300s", path, resp.StatusCode, body)
	}
	location = resp.Header.Get("Location")
	_, page := b.get(location)
	return location, strings.Join(strings.Fields(doc(b.t, page).Find(`[data-testid="flash"]`).Text()), " ")
}

func TestClientsListSearchFilterAndPages(t *testing.T) {
	app, b := adminBrowser(t)
	resp, body := b.get("/admin/clients")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if d := doc(t, body); d.Find(`[data-testid="empty-state"]`).Length() != 1 || d.Find(`[data-testid="client-settings"]`).Length() != 1 {
		t.Fatal("an empty list shows no empty state or no settings")
	}

	claude := app.addClient(t, "b1946ac92492d2347c6235b4d2611184", "Claude Code", models.ClientSourceDCR)
	app.addClient(t, "https://vscode.dev/oauth/client-metadata.json", "Visual Studio Code", models.ClientSourceMetadataDocument)
	app.addClient(t, "chat-app", "Chat", models.ClientSourceConsole)
	alice := app.user(t, "alice@example.com", false)
	app.authorizeClient(t, claude.ClientID, alice.ID)

	cases := []struct {
		query string
		want  []string
	}{
		{"", []string{"Chat", "Claude Code", "Visual Studio Code"}},
		{"?q=claude", []string{"Claude Code"}},
		{"?q=vscode.dev", []string{"Visual Studio Code"}},                          // by client ID
		{"?q=evil.example", []string{"Chat", "Claude Code", "Visual Studio Code"}}, // by client URI
		{"?source=dcr", []string{"Claude Code"}},
		{"?source=metadata_document", []string{"Visual Studio Code"}},
		{"?source=console&q=chat", []string{"Chat"}},
		{"?source=dcr&q=chat", nil},
		{"?source=bogus", []string{"Chat", "Claude Code", "Visual Studio Code"}},
	}
	for _, tc := range cases {
		_, body := b.get("/admin/clients" + tc.query)
		d := doc(t, body)
		var names []string
		d.Find(`[data-testid="client-name"]`).Each(func(_ int, s *goquery.Selection) { names = append(names, strings.TrimSpace(s.Text())) })
		if strings.Join(names, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s lists %v, want %v", tc.query, names, tc.want)
		}
		if len(tc.want) == 0 && !strings.Contains(d.Find(`[data-testid="empty-state"]`).Text(), "No clients match") {
			t.Errorf("%s: no empty state for a search", tc.query)
		}
	}

	_, body = b.get("/admin/clients?q=claude")
	row := doc(t, body).Find(`[data-testid="client-row"]`)
	for id, want := range map[string]string{"client-tokens": "2", "client-source-badge": "Registered", "client-status": "active", "last-used": "never"} {
		if got := strings.TrimSpace(row.Find(`[data-testid="` + id + `"]`).Text()); got != want {
			t.Errorf("Claude Code %s = %q, want %q", id, got, want)
		}
	}

	for i := range 25 {
		app.addClient(t, fmt.Sprintf("bulk-%02d", i), fmt.Sprintf("Zed %02d", i), models.ClientSourceDCR)
	}
	_, body = b.get("/admin/clients")
	d := doc(t, body)
	if n := d.Find(`[data-testid="client-row"]`).Length(); n != 25 {
		t.Errorf("first page has %d rows, want 25", n)
	}
	next, _ := d.Find(`[data-testid="pagination-next"]`).Attr("href")
	if next != "/admin/clients?page=2" {
		t.Fatalf("next page link = %q", next)
	}
	_, body = b.get(next)
	if n := doc(t, body).Find(`[data-testid="client-row"]`).Length(); n != 3 {
		t.Errorf("second page has %d rows, want 3", n)
	}
	_, body = b.get("/admin/clients?source=dcr")
	next, _ = doc(t, body).Find(`[data-testid="pagination-next"]`).Attr("href")
	if next != "/admin/clients?page=2&source=dcr" {
		t.Errorf("the next page forgets the filter: %q", next)
	}
}

func TestClientDetailAndRevokeTokens(t *testing.T) {
	app, b := adminBrowser(t)
	c := app.addClient(t, "b1946ac92492d2347c6235b4d2611184", "<script>alert(1)</script>", models.ClientSourceDCR)
	other := app.addClient(t, "other", "Other", models.ClientSourceDCR)
	alice := app.user(t, "alice@example.com", false)
	bob := app.user(t, "bob@example.com", false)
	app.authorizeClient(t, c.ClientID, alice.ID)
	app.authorizeClient(t, c.ClientID, bob.ID)
	app.authorizeClient(t, other.ClientID, alice.ID)

	page := fmt.Sprintf("/admin/clients/%d", c.ID)
	resp, body := b.get(page)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if strings.Contains(body, "<script>alert(1)</script>") {
		t.Error("the client's name rendered as markup")
	}
	d := doc(t, body)
	for id, want := range map[string]string{"client-id-value": c.ClientID, "client-tokens": "4", "client-uri": "https://evil.example/home"} {
		if got := strings.TrimSpace(d.Find(`[data-testid="` + id + `"]`).Text()); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if d.Find("img").Length() != 0 || d.Find(`[href*="evil.example"], [src*="evil.example"]`).Length() != 0 {
		t.Error("the page loads or links what the client said about itself")
	}

	loc, flash := b.postThen(page+"/revoke-tokens", url.Values{})
	if loc != page || flash != "Revoked 4 tokens of <script>alert(1)</script>." {
		t.Errorf("revoke: %s, %q", loc, flash)
	}
	if n := app.activeTokens(t, c.ClientID); n != 0 {
		t.Errorf("%d tokens left after revoking", n)
	}
	if n := app.activeTokens(t, other.ClientID); n != 2 {
		t.Errorf("another client lost tokens: %d left", n)
	}
	if _, flash := b.postThen(page+"/revoke-tokens", url.Values{}); !strings.Contains(flash, "had no tokens to revoke") {
		t.Errorf("revoking again: %q", flash)
	}

	for _, path := range []string{"/admin/clients/9999", "/admin/clients/nope"} {
		if resp, _ := b.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	for _, action := range []string{"revoke-tokens", "disable", "enable", "delete"} {
		if resp, _ := b.post("/admin/clients/9999/"+action, url.Values{}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s of an unknown client: %d, want 404", action, resp.StatusCode)
		}
	}
}

func TestClientTurnOffOnAndDelete(t *testing.T) {
	app, b := adminBrowser(t)
	ctx := context.Background()
	c := app.addClient(t, "b1946ac92492d2347c6235b4d2611184", "Claude Code", models.ClientSourceDCR)
	alice := app.user(t, "alice@example.com", false)
	app.authorizeClient(t, c.ClientID, alice.ID)
	page := fmt.Sprintf("/admin/clients/%d", c.ID)

	_, flash := b.postThen(page+"/disable", url.Values{})
	if flash != "Turned off Claude Code. Its 2 tokens stopped working." {
		t.Errorf("turn off: %q", flash)
	}
	got, _ := app.Store.GetOAuthClient(ctx, c.ClientID)
	if !got.Disabled {
		t.Error("not turned off")
	}
	if n := app.activeTokens(t, c.ClientID); n != 0 {
		t.Errorf("%d tokens still work after turning off", n)
	}
	if revoked, _ := app.Store.RevokedAccessTokens(ctx, time.Now()); len(revoked) != 1 {
		t.Errorf("revoked access tokens = %v, want the client's one", revoked)
	}
	_, body := b.get(page)
	if doc(t, body).Find(`[data-testid="action-enable"]`).Length() != 1 {
		t.Error("a turned-off client offers no way to turn it on")
	}

	if _, flash := b.postThen(page+"/enable", url.Values{}); !strings.HasPrefix(flash, "Turned on Claude Code.") {
		t.Errorf("turn on: %q", flash)
	}
	if got, _ := app.Store.GetOAuthClient(ctx, c.ClientID); got.Disabled {
		t.Error("not turned on")
	}

	app.authorizeClient(t, c.ClientID, alice.ID)
	loc, flash := b.postThen(page+"/delete", url.Values{})
	if loc != "/admin/clients" || flash != "Deleted Claude Code and revoked its 2 tokens." {
		t.Errorf("delete: %s, %q", loc, flash)
	}
	if _, err := app.Store.GetOAuthClient(ctx, c.ClientID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if ok, _ := app.Store.HasConsent(ctx, alice.ID, c.ClientID, clientsTestResource); ok {
		t.Error("the consent outlived its client")
	}
}

func TestClientSettings(t *testing.T) {
	app, b := adminBrowser(t)
	ctx := context.Background()
	_, body := b.get("/admin/clients")
	d := doc(t, body)
	for _, name := range []string{"registration_enabled", "metadata_documents_enabled"} {
		if _, checked := d.Find(`input[name="` + name + `"]`).Attr("checked"); !checked {
			t.Errorf("%s is off on a fresh database", name)
		}
	}

	loc, flash := b.postThen("/admin/clients/settings", url.Values{
		"metadata_documents_enabled": {"true"}, "metadata_document_hosts": {"vscode.dev\r\n\r\n  *.Example.com \r\n"},
	})
	if loc != "/admin/clients" || flash != "Saved the client registration settings." {
		t.Errorf("save: %s, %q", loc, flash)
	}
	st, err := app.Store.GetSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.RegistrationEnabled || !st.MetadataDocumentsEnabled || strings.Join(st.MetadataDocumentHosts, ",") != "vscode.dev,*.example.com" {
		t.Errorf("saved %+v", st)
	}
	_, body = b.get("/admin/clients")
	d = doc(t, body)
	if _, checked := d.Find(`input[name="registration_enabled"]`).Attr("checked"); checked {
		t.Error("registration still shown on")
	}
	if got := strings.TrimSpace(d.Find(`textarea[name="metadata_document_hosts"]`).Text()); got != "vscode.dev\n*.example.com" {
		t.Errorf("hosts shown = %q", got)
	}
	changes, _, _ := app.Store.ListChanges(ctx, models.ChangeFilter{Resource: models.ResourceSettings})
	if len(changes) != 1 || changes[0].Actor != "admin@example.com" {
		t.Errorf("history of the settings: %+v", changes)
	}

	// A bad host is shown on its line, with everything typed kept; nothing
	// is saved.
	bad := "vscode.dev\n\nhttps://claude.ai/x\nvscode.dev"
	resp, body := b.post("/admin/clients/settings", url.Values{"registration_enabled": {"true"}, "metadata_document_hosts": {bad}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad hosts: status %d, want 422", resp.StatusCode)
	}
	d = doc(t, body)
	msg := d.Find(`[data-testid="field-error-metadata_document_hosts"]`).Text()
	for _, want := range []string{"Line 3, “https://claude.ai/x”", "without a scheme", "Line 4, “vscode.dev”, repeats line 1."} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if got := strings.TrimPrefix(d.Find(`textarea[name="metadata_document_hosts"]`).Text(), "\n"); got != bad {
		t.Errorf("the form lost what was typed: %q", got)
	}
	if _, checked := d.Find(`input[name="registration_enabled"]`).Attr("checked"); !checked {
		t.Error("the form lost the ticked box")
	}
	if after, _ := app.Store.GetSettings(ctx); after.RegistrationEnabled || len(after.MetadataDocumentHosts) != 2 {
		t.Errorf("bad settings were saved: %+v", after)
	}

	// Without the session's CSRF token, nothing changes.
	resp, _ = b.post("/admin/clients/settings", url.Values{csrfField: {""}, "registration_enabled": {"true"}, "metadata_documents_enabled": {"true"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: status %d, want 403", resp.StatusCode)
	}
	if after, _ := app.Store.GetSettings(ctx); after.RegistrationEnabled {
		t.Error("settings changed without a CSRF token")
	}
}

func TestClientsAreForAdmins(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "alice@example.com", false)
	c := app.addClient(t, "claude", "Claude Code", models.ClientSourceDCR)
	b := app.browser(t)
	b.login("alice@example.com")
	if resp, _ := b.get("/admin/clients"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /admin/clients: %d, want 403", resp.StatusCode)
	}
	for _, path := range []string{fmt.Sprintf("/admin/clients/%d/disable", c.ID), fmt.Sprintf("/admin/clients/%d/delete", c.ID), "/admin/clients/settings"} {
		if resp, _ := b.post(path, url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s: %d, want 403", path, resp.StatusCode)
		}
	}
	if got, err := app.Store.GetOAuthClient(context.Background(), "claude"); err != nil || got.Disabled {
		t.Errorf("a non-admin changed a client: %+v %v", got, err)
	}
}

func TestAuthorizedApps(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	alice := app.user(t, "alice@example.com", false)
	bob := app.user(t, "bob@example.com", false)
	claude := app.addClient(t, "b1946ac92492d2347c6235b4d2611184", "Claude Code", models.ClientSourceDCR)
	cursor := app.addClient(t, "https://cursor.com/oauth/client.json", "Cursor", models.ClientSourceMetadataDocument)
	app.authorizeClient(t, claude.ClientID, alice.ID)
	app.authorizeClient(t, claude.ClientID, bob.ID)
	app.authorizeClient(t, cursor.ClientID, bob.ID)

	if resp, _ := app.browser(t).get("/authorizations"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous /authorizations: %d, want a redirect to sign in", resp.StatusCode)
	}

	b := app.browser(t)
	b.login("alice@example.com")
	resp, body := b.get("/authorizations")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rows := doc(t, body).Find(`[data-testid="authorized-app"]`)
	if rows.Length() != 1 {
		t.Fatalf("alice sees %d apps, want her one", rows.Length())
	}
	if id, _ := rows.Attr("data-client-id"); id != claude.ClientID {
		t.Errorf("alice sees %q", id)
	}
	if got := strings.TrimSpace(rows.Find(`[data-testid="authorized-app-resources"]`).Text()); got != clientsTestResource {
		t.Errorf("resources = %q", got)
	}

	// Another user's app: nothing to take back, and bob keeps it.
	loc, flash := b.postThen("/authorizations/revoke", url.Values{"client_id": {cursor.ClientID}})
	if loc != "/authorizations" || !strings.Contains(flash, "no access") {
		t.Errorf("revoking bob's app: %s, %q", loc, flash)
	}
	if n := app.activeTokens(t, cursor.ClientID); n != 2 {
		t.Errorf("bob's Cursor tokens: %d, want 2", n)
	}
	if ok, _ := app.Store.HasConsent(ctx, bob.ID, cursor.ClientID, clientsTestResource); !ok {
		t.Error("bob's consent went")
	}

	// Her own: withdrawn, her tokens revoked, bob's kept. A return path
	// elsewhere is not followed.
	loc, flash = b.postThen("/authorizations/revoke", url.Values{"client_id": {claude.ClientID}, "return": {"//evil.example/"}})
	if loc != "/authorizations" || flash != "Claude Code can no longer act for you. Its tokens stopped working." {
		t.Errorf("revoke: %s, %q", loc, flash)
	}
	if n := app.activeTokens(t, claude.ClientID); n != 2 {
		t.Errorf("Claude Code holds %d tokens, want bob's 2", n)
	}
	if ok, _ := app.Store.HasConsent(ctx, alice.ID, claude.ClientID, clientsTestResource); ok {
		t.Error("alice's consent is still there")
	}
	if ok, _ := app.Store.HasConsent(ctx, bob.ID, claude.ClientID, clientsTestResource); !ok {
		t.Error("bob's consent went with alice's")
	}
	_, body = b.get("/authorizations")
	if doc(t, body).Find(`[data-testid="empty-state"]`).Length() != 1 {
		t.Error("no empty state once every app is revoked")
	}

	// From the portal, the revoke comes back to the portal.
	app.authorizeClient(t, claude.ClientID, alice.ID)
	if loc, _ := b.postThen("/authorizations/revoke", url.Values{"client_id": {claude.ClientID}, "return": {"/"}}); loc != "/" {
		t.Errorf("return to the portal: %s", loc)
	}

	// Without the CSRF token, nothing is revoked.
	app.authorizeClient(t, claude.ClientID, alice.ID)
	if resp, _ := b.post("/authorizations/revoke", url.Values{csrfField: {""}, "client_id": {claude.ClientID}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %d, want 403", resp.StatusCode)
	}
	if ok, _ := app.Store.HasConsent(ctx, alice.ID, claude.ClientID, clientsTestResource); !ok {
		t.Error("revoked without a CSRF token")
	}
}
