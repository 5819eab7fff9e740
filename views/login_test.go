package views

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestLoginPageLocalForm(t *testing.T) {
	doc, _ := render(t, LoginPage(LoginProps{
		Page:          page("", nil),
		Email:         "alice@company.com",
		Error:         "That email and password do not match.",
		Next:          "/admin/users",
		LocalAccounts: true,
	}))

	alert := mustOne(t, doc, testid("login-error"))
	if role, _ := alert.Attr("role"); role != "alert" {
		t.Errorf("login error role = %q, want alert", role)
	}
	if got := text(alert); got != "That email and password do not match." {
		t.Errorf("login error = %q", got)
	}

	form := mustOne(t, doc, testid("login-form"))
	if m, _ := form.Attr("method"); m != "post" {
		t.Errorf("method = %q, want post", m)
	}
	if a, _ := form.Attr("action"); a != "/login" {
		t.Errorf("action = %q, want /login", a)
	}
	wantInputs := map[string]string{
		`input[type="hidden"][name="_csrf"]`: testCSRF,
		`input[type="hidden"][name="next"]`:  "/admin/users",
		`input[type="email"][name="email"]`:  "alice@company.com",
	}
	for sel, want := range wantInputs {
		in := form.Find(sel)
		if got, _ := in.Attr("value"); in.Length() != 1 || got != want {
			t.Errorf("%s: %d found, value %q, want %q", sel, in.Length(), got, want)
		}
	}
	pw := form.Find(`input[type="password"][name="password"]`)
	if pw.Length() != 1 {
		t.Fatal("no password input")
	}
	if _, has := pw.Attr("value"); has {
		t.Error("password input carries a value")
	}
	if ac, _ := pw.Attr("autocomplete"); ac != "current-password" {
		t.Errorf("password autocomplete = %q", ac)
	}
	// Every input has a label.
	form.Find("input:not([type=hidden])").Each(func(_ int, in *goquery.Selection) {
		id, _ := in.Attr("id")
		if id == "" || doc.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("input %q has no label", id)
		}
	})
	if doc.Find(testid("provider-button")).Length() != 0 {
		t.Error("provider buttons shown with no providers")
	}
}

func TestLoginPageProviders(t *testing.T) {
	doc, _ := render(t, LoginPage(LoginProps{
		Page: page("", nil),
		Providers: []LoginProvider{
			{Name: "corp", DisplayName: "Okta", URL: "/auth/corp/start?next=%2Fadmin"},
			{Name: "google", DisplayName: "Google", URL: "/auth/google/start"},
		},
	}))
	buttons := doc.Find(testid("provider-button"))
	if buttons.Length() != 2 {
		t.Fatalf("%d provider buttons, want 2", buttons.Length())
	}
	want := []struct{ text, href string }{
		{"Sign in with Okta", "/auth/corp/start?next=%2Fadmin"},
		{"Sign in with Google", "/auth/google/start"},
	}
	buttons.Each(func(i int, b *goquery.Selection) {
		if got := text(b); got != want[i].text {
			t.Errorf("button %d text = %q, want %q", i, got, want[i].text)
		}
		if got, _ := b.Attr("href"); got != want[i].href {
			t.Errorf("button %d href = %q, want %q", i, got, want[i].href)
		}
	})
	if doc.Find(testid("login-form")).Length() != 0 {
		t.Error("local form shown with local accounts off")
	}
	if doc.Find(testid("login-error")).Length() != 0 {
		t.Error("error shown without an error")
	}
}

func TestLoginPageRefusesScriptURLs(t *testing.T) {
	doc, _ := render(t, LoginPage(LoginProps{
		Page:      page("", nil),
		Providers: []LoginProvider{{Name: "evil", DisplayName: "Evil", URL: "javascript:alert(1)"}},
	}))
	href, _ := mustOne(t, doc, testid("provider-button")).Attr("href")
	if href == "javascript:alert(1)" {
		t.Errorf("provider href = %q, a script URL", href)
	}
}

func TestLoginPageNoMethod(t *testing.T) {
	doc, _ := render(t, LoginPage(LoginProps{Page: page("", nil)}))
	msg := mustOne(t, doc, testid("no-sign-in-method"))
	if got := text(msg); got == "" {
		t.Error("empty no-method message")
	}
	for _, sel := range []string{testid("login-form"), testid("provider-button")} {
		if doc.Find(sel).Length() != 0 {
			t.Errorf("%s shown with no sign-in method", sel)
		}
	}
}

func TestLoginPageBothMethods(t *testing.T) {
	doc, _ := render(t, LoginPage(LoginProps{
		Page:          page("", nil),
		LocalAccounts: true,
		Providers:     []LoginProvider{{Name: "corp", DisplayName: "Okta", URL: "/auth/corp/start"}},
	}))
	mustOne(t, doc, testid("login-form"))
	mustOne(t, doc, testid("provider-button"))
	if doc.Find(testid("no-sign-in-method")).Length() != 0 {
		t.Error("no-method message shown with methods configured")
	}
}
