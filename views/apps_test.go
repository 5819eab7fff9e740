package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestAppsTableRows(t *testing.T) {
	doc, _ := render(t, AppsPage(AppsProps{Page: page(SectionApps, adminViewer()), Apps: sampleApps(), Presets: samplePresets(),
		Pagination: Pagination{Page: 1, PerPage: 25, Total: 3}}))
	rows := doc.Find(testid("apps-table") + " " + testid("app-row"))
	if rows.Length() != 3 {
		t.Fatalf("%d rows, want 3", rows.Length())
	}
	tests := []struct {
		i                                int
		id, name, preset, client, secret string
		routes                           string
	}{
		{0, "1", "github", "GitHub", "Iv23liAbC", "Set", "GitHub"},
		// A preset the list does not know is shown as custom.
		{1, "2", "linear", "Custom", "b1946ac9", "Not set", "Not used"},
		{2, "3", hostile, "Custom", hostile, "Set", hostile},
	}
	for _, tt := range tests {
		row := rows.Eq(tt.i)
		if id, _ := row.Attr("data-app-id"); id != tt.id {
			t.Errorf("row %d id = %q", tt.i, id)
		}
		name := row.Find("a" + testid("app-name"))
		if text(name) != tt.name {
			t.Errorf("app %s name = %q", tt.id, text(name))
		}
		if href, _ := name.Attr("href"); href != "/admin/apps/"+tt.id {
			t.Errorf("app %s links to %q", tt.id, href)
		}
		for id, want := range map[string]string{"app-preset": tt.preset, "app-client-id": tt.client, "secret-status": tt.secret, "app-routes": tt.routes} {
			if got := text(row.Find(testid(id))); got != want {
				t.Errorf("app %s %s = %q, want %q", tt.id, id, got, want)
			}
		}
	}
	mustOne(t, doc, testid("app-search"))
	if href, _ := mustOne(t, doc, testid("new-app-button")).Attr("href"); href != "/admin/apps/new" {
		t.Errorf("new app href = %q", href)
	}
}

func TestAppsEmptyStateOffersPresets(t *testing.T) {
	doc, _ := render(t, AppsPage(AppsProps{Page: page(SectionApps, adminViewer()), Presets: samplePresets()}))
	empty := mustOne(t, doc, testid("empty-state"))
	if !strings.Contains(text(empty), "No upstream apps yet") {
		t.Errorf("empty state = %q", text(empty))
	}
	cards := empty.Find("a" + testid("preset-card"))
	if cards.Length() != 3 {
		t.Fatalf("%d preset cards, want 3", cards.Length())
	}
	want := []struct{ href, label string }{
		{"/admin/apps/new?preset=github", "GitHub github.com"},
		{"/admin/apps/new?preset=google", "Google accounts.google.com"},
		{"/admin/apps/new?preset=notion", "Notion api.notion.com"},
	}
	cards.Each(func(i int, c *goquery.Selection) {
		if href, _ := c.Attr("href"); href != want[i].href {
			t.Errorf("card %d links to %q, want %q", i, href, want[i].href)
		}
		if got := text(c.Find(".preset-text")); got != want[i].label {
			t.Errorf("card %d = %q, want %q", i, got, want[i].label)
		}
	})
	if href, _ := mustOne(t, doc, testid("preset-card-custom")).Attr("href"); href != "/admin/apps/new" {
		t.Errorf("custom card links to %q", href)
	}
	if doc.Find(testid("app-search")).Length() != 0 {
		t.Error("search shown with no apps")
	}
}

// The secret is write-only: whatever else the form holds, the secret field
// is never filled in, on a new app, an edit, or a form shown again after
// an error.
func TestAppFormNeverRendersSecret(t *testing.T) {
	const secret = "sk_live_TOPSECRET_0123456789"
	form := AppForm{
		Name: secret, Preset: "github", ClientID: secret, HasSecret: true,
		AuthURL: secret, TokenURL: secret, RevocationURL: secret, Scopes: secret,
		AuthStyle: "params", ExtraParams: secret, PKCE: true,
		Errors: map[string]string{"client_secret": "The client secret is too short.", "name": secret},
	}
	for _, isNew := range []bool{true, false} {
		doc, _ := render(t, AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), IsNew: isNew, ID: 3, Form: form, Presets: samplePresets(), CallbackURL: secret}))
		in := mustOne(t, doc, `input[name="client_secret"]`)
		if v, has := in.Attr("value"); has {
			t.Errorf("new=%v: client_secret has value %q", isNew, v)
		}
		for attr, want := range map[string]string{"type": "password", "autocomplete": "off", "aria-invalid": "true", "aria-describedby": "client_secret-error"} {
			if got, _ := in.Attr(attr); got != want {
				t.Errorf("new=%v: client_secret %s = %q, want %q", isNew, attr, got, want)
			}
		}
		if doc.Find(`[name="client_secret"]`).Length() != 1 {
			t.Errorf("new=%v: more than one client_secret field", isNew)
		}
	}
}

func TestAppFormSecretStatus(t *testing.T) {
	tests := []struct {
		name      string
		isNew     bool
		hasSecret bool
		badge     string
		hint      string
	}{
		{"new", true, false, "", "Stored encrypted"},
		{"set", false, true, "Secret set", "Leave empty to keep the current secret."},
		{"unset", false, false, "Secret not set", "No secret is stored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), IsNew: tt.isNew, ID: 3, Form: AppForm{Name: "github", HasSecret: tt.hasSecret}}))
			field := mustOne(t, doc, ".field:has(#client_secret)")
			if got := text(field.Find(testid("secret-status"))); got != tt.badge {
				t.Errorf("badge = %q, want %q", got, tt.badge)
			}
			if got := text(mustOne(t, doc, "#client_secret-hint")); !strings.Contains(got, tt.hint) {
				t.Errorf("hint = %q, want it to contain %q", got, tt.hint)
			}
			if d, _ := mustOne(t, doc, "#client_secret").Attr("aria-describedby"); d != "client_secret-hint" {
				t.Errorf("aria-describedby = %q", d)
			}
		})
	}
}

func TestAppFormNewWithPreset(t *testing.T) {
	p := samplePresets()
	doc, _ := render(t, AppFormPage(AppFormProps{
		Page: page(SectionApps, adminViewer()), IsNew: true, Presets: p,
		CallbackURL: "http://console.localhost:8080/oauth/upstream/callback",
		Form:        AppForm{Name: "google", Preset: "google", AuthURL: p[1].AuthURL, TokenURL: p[1].TokenURL, RevocationURL: p[1].RevocationURL, Scopes: p[1].Scopes, AuthStyle: "params", ExtraParams: p[1].ExtraParams, PKCE: true},
	}))
	form := mustOne(t, doc, testid("app-form"))
	if a, _ := form.Attr("action"); a != "/admin/apps" {
		t.Errorf("action = %q", a)
	}
	if v, _ := form.Find(`input[type="hidden"][name="preset"]`).Attr("value"); v != "google" {
		t.Errorf("preset input = %q", v)
	}
	// Every preset is a link that works without JavaScript, and carries
	// what app.js needs to fill the form in place.
	options := doc.Find(testid("preset-picker") + " a" + testid("preset-option"))
	if options.Length() != 4 {
		t.Fatalf("%d preset options, want 3 and custom", options.Length())
	}
	google := options.Eq(1)
	for attr, want := range map[string]string{
		"href": "/admin/apps/new?preset=google", "data-preset": "google", "aria-current": "true",
		"data-auth-url": p[1].AuthURL, "data-token-url": p[1].TokenURL, "data-revocation-url": p[1].RevocationURL,
		"data-scopes": p[1].Scopes, "data-auth-style": "params", "data-extra-params": "access_type=offline\nprompt=consent",
		"data-pkce": "true", "data-docs-url": p[1].DocsURL,
	} {
		if got, _ := google.Attr(attr); got != want {
			t.Errorf("google %s = %q, want %q", attr, got, want)
		}
	}
	if n := doc.Find(testid("preset-option") + `[aria-current]`).Length(); n != 1 {
		t.Errorf("%d presets marked current, want 1", n)
	}
	if href, _ := options.Last().Attr("href"); href != "/admin/apps/new" {
		t.Errorf("custom option links to %q", href)
	}
	docs := mustOne(t, doc, testid("preset-docs"))
	if href, _ := docs.Attr("href"); href != p[1].DocsURL {
		t.Errorf("docs link = %q", href)
	}
	if _, hidden := docs.Attr("hidden"); hidden {
		t.Error("docs link hidden although the preset has one")
	}
	if rel, _ := docs.Attr("rel"); !strings.Contains(rel, "noopener") {
		t.Errorf("docs link rel = %q", rel)
	}
	// The redirect URI to register, with a copy button.
	if got := text(mustOne(t, doc, testid("callback-url"))); got != "http://console.localhost:8080/oauth/upstream/callback" {
		t.Errorf("callback URL = %q", got)
	}
	mustOne(t, doc, `button[data-copy][data-copy-target="callback-url"]`)
	if !strings.Contains(text(mustOne(t, doc, testid("provider-setup"))), "Register this redirect URI at the provider") {
		t.Error("callback URL not explained")
	}
	// The preset's values are in the fields.
	for name, want := range map[string]string{"auth_url": p[1].AuthURL, "token_url": p[1].TokenURL, "revocation_url": p[1].RevocationURL, "scopes": p[1].Scopes} {
		if got, _ := mustOne(t, doc, `input[name="`+name+`"]`).Attr("value"); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := mustOne(t, doc, `textarea[name="extra_params"]`).Text(); got != p[1].ExtraParams {
		t.Errorf("extra_params = %q", got)
	}
	if v, _ := mustOne(t, doc, `select[name="auth_style"] option[selected]`).Attr("value"); v != "params" {
		t.Errorf("auth_style = %q", v)
	}
	var styles []string
	doc.Find(`select[name="auth_style"] option`).Each(func(_ int, o *goquery.Selection) {
		v, _ := o.Attr("value")
		styles = append(styles, v)
	})
	if got := strings.Join(styles, " "); got != "auto header params" {
		t.Errorf("auth styles = %q", got)
	}
	if _, checked := mustOne(t, doc, `input[type="checkbox"][name="pkce"]`).Attr("checked"); !checked {
		t.Error("pkce not checked")
	}
	for _, id := range []string{"danger-zone", "used-by", "recent-changes"} {
		if doc.Find(testid(id)).Length() != 0 {
			t.Errorf("new app shows %s", id)
		}
	}
}

func TestAppFormCustomHidesDocsLink(t *testing.T) {
	doc, _ := render(t, AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), IsNew: true, Presets: samplePresets(), Form: AppForm{AuthStyle: "auto"}}))
	if _, hidden := mustOne(t, doc, testid("preset-docs")).Attr("hidden"); !hidden {
		t.Error("docs link shown without a preset")
	}
	if cur, _ := doc.Find(testid("preset-option") + "[aria-current]").Attr("data-preset"); cur != "" {
		t.Errorf("current preset = %q, want custom", cur)
	}
	if v, _ := mustOne(t, doc, `select[name="auth_style"] option[selected]`).Attr("value"); v != "auto" {
		t.Errorf("auth_style = %q, want auto", v)
	}
}

func TestAppFormEdit(t *testing.T) {
	t.Run("unused", func(t *testing.T) {
		doc, _ := render(t, AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), ID: 3, Presets: samplePresets(), History: sampleHistory(),
			Form: AppForm{Name: "github", Preset: "github", HasSecret: true}}))
		if a, _ := mustOne(t, doc, testid("app-form")).Attr("action"); a != "/admin/apps/3" {
			t.Errorf("action = %q", a)
		}
		// Presets are for new apps.
		if doc.Find(testid("preset-picker")).Length() != 0 {
			t.Error("preset picker on an existing app")
		}
		if got := text(mustOne(t, doc, ".page-title "+testid("app-preset"))); got != "GitHub" {
			t.Errorf("preset badge = %q", got)
		}
		del := mustOne(t, doc, "details"+testid("confirm-delete"))
		if a, _ := del.Find("form").Attr("action"); a != "/admin/apps/3/delete" {
			t.Errorf("delete action = %q", a)
		}
		if doc.Find(testid("recent-change")).Length() != 2 {
			t.Error("recent changes missing")
		}
	})
	t.Run("in use", func(t *testing.T) {
		doc, _ := render(t, AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), ID: 3, Routes: sampleRoutes()[:1], Form: AppForm{Name: "github"}}))
		if doc.Find(testid("confirm-delete")).Length() != 0 {
			t.Error("delete offered for an app in use")
		}
		if got := text(mustOne(t, doc, testid("delete-blocked"))); !strings.Contains(got, "Used by 1 route.") {
			t.Errorf("blocked note = %q", got)
		}
		if got := text(mustOne(t, doc, testid("used-by-route"))); !strings.Contains(got, "GitHub") {
			t.Errorf("used by = %q", got)
		}
	})
}

func TestAppFormFieldErrors(t *testing.T) {
	errs := map[string]string{"name": "Name is taken.", "token_url": "Token URL must be https.", "extra_params": "Line 2 is not key=value."}
	doc, _ := render(t, AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), IsNew: true, Form: AppForm{Errors: errs}}))
	for field, msg := range errs {
		el := mustOne(t, doc, `[name="`+field+`"]`)
		if inv, _ := el.Attr("aria-invalid"); inv != "true" {
			t.Errorf("%s not aria-invalid", field)
		}
		if d, _ := el.Attr("aria-describedby"); d != field+"-error" {
			t.Errorf("%s aria-describedby = %q", field, d)
		}
		if got := text(mustOne(t, doc, testid("field-error-"+field))); got != msg {
			t.Errorf("%s error = %q", field, got)
		}
	}
}
