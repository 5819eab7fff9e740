package main

// Journeys a person takes through the console and the portal, in headless
// Chromium against the real binary. The harness is in browser_test.go.

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

func TestFirstAdminJourney(t *testing.T) {
	t.Parallel()
	inst := startDrawbridge(t)
	if inst.Email == "" || inst.Password == "" {
		t.Fatalf("the banner named no first admin (email %q, password %q)", inst.Email, inst.Password)
	}
	ctx := newTab(t)

	// Anonymous: the console sends people to sign in first.
	step(t, ctx, "open the console", chromedp.Navigate(inst.URL+"/admin"))
	wantPath(t, ctx, "/login")
	if next := location(t, ctx).Query().Get("next"); next != "/admin" {
		t.Errorf("sign-in page has next=%q, want /admin", next)
	}
	step(t, ctx, "see the sign-in form", chromedp.WaitVisible(testID("login-form")))
	screenshot(t, ctx, "login")

	signIn(t, ctx, inst.URL, inst.Email, inst.Password)
	wantPath(t, ctx, "/admin")
	step(t, ctx, "see the console navigation", chromedp.WaitVisible(testID("nav")))
	if got := attr(t, ctx, testID("nav-dashboard"), "aria-current"); got != "page" {
		t.Errorf("Dashboard nav link aria-current = %q, want page", got)
	}
	if got := text(t, ctx, testID("viewer-email")); got != inst.Email {
		t.Errorf("header shows %q, want the admin's email %q", got, inst.Email)
	}
	screenshot(t, ctx, "dashboard")

	// Users: only the first admin so far.
	follow(t, ctx, "open Users", testID("nav-users"))
	wantPath(t, ctx, "/admin/users")
	if got := attr(t, ctx, testID("nav-users"), "aria-current"); got != "page" {
		t.Errorf("Users nav link aria-current = %q, want page", got)
	}
	if n := count(t, ctx, testID("user-row")); n != 1 {
		t.Errorf("users table has %d rows, want 1 (the first admin)", n)
	}

	// A bad form is sent back with a reason next to each field.
	follow(t, ctx, "open the new user form", testID("new-user-button"))
	wantPath(t, ctx, "/admin/users/new")
	step(t, ctx, "fill the form badly",
		chromedp.SendKeys(chromedp.CSS(`#email`), "carol-at-example"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "short"),
	)
	if status := follow(t, ctx, "submit the bad form", chromedp.CSS(`[data-testid="new-user-form"] button[type="submit"]`)); status != 422 {
		t.Errorf("bad form answered %d, want 422", status)
	}
	step(t, ctx, "see both field errors",
		chromedp.WaitVisible(testID("field-error-email")),
		chromedp.WaitVisible(testID("field-error-password")),
	)
	if got := attr(t, ctx, chromedp.CSS(`#email`), "aria-invalid"); got != "true" {
		t.Errorf("email field aria-invalid = %q, want true", got)
	}
	if got := value(t, ctx, chromedp.CSS(`#email`)); got != "carol-at-example" {
		t.Errorf("email field kept %q, want what was typed", got)
	}
	if got := value(t, ctx, chromedp.CSS(`#password`)); got != "" {
		t.Errorf("password field was sent back filled in (%d characters)", len(got))
	}
	screenshot(t, ctx, "new-user-errors")
	if n := countUsersMatching(t, ctx, "carol"); n != 0 {
		t.Fatalf("the bad form created %d user(s)", n)
	}

	// The same form, now right.
	const email, name = "carol@example.com", "Carol Example"
	step(t, ctx, "fill the form well",
		chromedp.Clear(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#name`), name),
		chromedp.SendKeys(chromedp.CSS(`#password`), "correct-horse-battery"),
	)
	follow(t, ctx, "create the user", chromedp.CSS(`[data-testid="new-user-form"] button[type="submit"]`))
	wantPath(t, ctx, "/admin/users")
	wantFlash(t, ctx, "success", "Created "+email+".")
	if n := count(t, ctx, testID("user-row")); n != 2 {
		t.Errorf("users table has %d rows after creating one, want 2", n)
	}
	row := rowOf(t, ctx, email)
	if got := text(t, ctx, chromedp.CSS(row+` [data-testid="user-name"]`)); got != name {
		t.Errorf("new row shows name %q, want %q", got, name)
	}
	if got := text(t, ctx, chromedp.CSS(row+` [data-testid="status-badge"]`)); !strings.EqualFold(got, "active") {
		t.Errorf("new user's status badge = %q, want active", got)
	}
	screenshot(t, ctx, "users-created")

	// Search finds exactly them.
	step(t, ctx, "type a search", chromedp.SendKeys(chromedp.CSS(`#user-search-q`), "carol"))
	follow(t, ctx, "search", chromedp.CSS(`[data-testid="user-search"] button[type="submit"]`))
	wantPath(t, ctx, "/admin/users")
	if q := location(t, ctx).Query().Get("q"); q != "carol" {
		t.Errorf("search URL has q=%q, want carol", q)
	}
	if n := count(t, ctx, testID("user-row")); n != 1 {
		t.Fatalf("search for carol shows %d rows, want 1", n)
	}
	if got := text(t, ctx, testID("user-email")); got != email {
		t.Errorf("search result is %q, want %s", got, email)
	}
	step(t, ctx, "see the clear-search link", chromedp.WaitVisible(testID("clear-search")))

	// Disabling asks first; going through the question disables.
	step(t, ctx, "ask to disable",
		chromedp.Click(chromedp.CSS(row+` [data-testid="confirm-disable"] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog.confirm-dialog[open]`)),
	)
	if got := text(t, ctx, chromedp.CSS(`dialog.confirm-dialog h2`)); got != "Disable "+email+"?" {
		t.Errorf("confirmation asks %q, want %q", got, "Disable "+email+"?")
	}
	screenshot(t, ctx, "disable-confirm")
	follow(t, ctx, "confirm disabling", chromedp.CSS(`dialog.confirm-dialog[open] .btn-danger`))
	wantPath(t, ctx, "/admin/users")
	wantFlash(t, ctx, "success", email+" disabled.")
	row = rowOf(t, ctx, email)
	if got := text(t, ctx, chromedp.CSS(row+` [data-testid="status-badge"]`)); !strings.EqualFold(got, "disabled") {
		t.Errorf("status badge after disabling = %q, want Disabled", got)
	}
	step(t, ctx, "see the Enable action", chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="action-enable"]`)))
	screenshot(t, ctx, "users-disabled")

	// Signing out ends the session.
	follow(t, ctx, "sign out", chromedp.CSS(`[data-testid="logout-form"] button[type="submit"]`))
	wantPath(t, ctx, "/login")
	wantFlash(t, ctx, "info", "You are signed out.")
	screenshot(t, ctx, "signed-out")
	step(t, ctx, "open the console again", chromedp.Navigate(inst.URL+"/admin"))
	wantPath(t, ctx, "/login")
	step(t, ctx, "see the sign-in form again", chromedp.WaitVisible(testID("login-form")))
}

func TestNonAdminSeesPortalOnly(t *testing.T) {
	t.Parallel()
	inst := startDrawbridge(t)
	const email, password = "bob@example.com", "bob-has-a-long-password"
	// The server holds the database open; the CLI writes beside it.
	out := inst.cli(t, password+"\n", "user", "create", "--email", email, "--password-stdin")
	if !strings.Contains(out, "Created "+email) {
		t.Errorf("user create printed %q", out)
	}
	if strings.Contains(out, password) {
		t.Errorf("user create echoed the password from stdin: %q", out)
	}

	ctx := newTab(t)
	signIn(t, ctx, inst.URL, email, password)
	wantPath(t, ctx, "/")
	step(t, ctx, "see the portal's empty state", chromedp.WaitVisible(testID("empty-state")))
	if got := text(t, ctx, chromedp.CSS(`main h1`)); got != "Your MCP servers" {
		t.Errorf("portal heading = %q", got)
	}
	if got := text(t, ctx, testID("viewer-email")); got != email {
		t.Errorf("header shows %q, want %q", got, email)
	}
	if n := count(t, ctx, testID("nav")); n != 0 {
		t.Errorf("a non-admin sees the console navigation")
	}
	if n := count(t, ctx, testID("add-route")); n != 0 {
		t.Errorf("a non-admin is offered to add a route")
	}
	screenshot(t, ctx, "portal-empty")

	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(inst.URL+"/admin"))
	if err != nil {
		t.Fatalf("open /admin: %v", err)
	}
	if resp.Status != 403 {
		t.Errorf("/admin answered a non-admin with %d, want 403", resp.Status)
	}
	wantPath(t, ctx, "/admin")
	if got := text(t, ctx, testID("error-status")); got != "403" {
		t.Errorf("error page status = %q, want 403", got)
	}
	step(t, ctx, "see the way back to the portal", chromedp.WaitVisible(testID("error-home")))
	if n := count(t, ctx, testID("nav")); n != 0 {
		t.Errorf("the 403 page shows the console navigation")
	}
	screenshot(t, ctx, "admin-forbidden")
}

func TestPagesAtPhoneWidth(t *testing.T) {
	t.Parallel()
	inst := startDrawbridge(t)
	// Enough users for the table to show its variants: named, unnamed,
	// admin, disabled.
	inst.cli(t, "dana-has-a-long-password\n", "user", "create", "--email", "dana.longname-for-wrapping@engineering.example.com",
		"--name", "Dana Fitzgerald-Montgomery", "--password-stdin")
	inst.cli(t, "erin-has-a-long-password\n", "user", "create", "--email", "erin@example.com", "--admin", "--password-stdin")
	inst.cli(t, "", "user", "disable", "--email", "erin@example.com")

	ctx := newTab(t)
	viewports := []struct {
		name          string
		width, height int64
		opts          []chromedp.EmulateViewportOption
	}{
		{"phone", 390, 844, []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateScale(2)}},
		{"desktop", desktopWidth, desktopHeight, nil},
	}
	pages := []string{"/admin", "/admin/users", "/admin/users/new", "/admin/settings", "/admin/routes", "/admin/clients", "/authorizations", "/"}

	signedIn := false
	for _, vp := range viewports {
		for _, scheme := range []string{"light", "dark"} {
			step(t, ctx, "set the "+vp.name+" viewport in "+scheme+" mode",
				chromedp.EmulateViewport(vp.width, vp.height, vp.opts...),
				colorScheme(scheme),
			)
			if !signedIn {
				// The sign-in page, then sign in once for the rest.
				step(t, ctx, "open the sign-in page", chromedp.Navigate(inst.URL+"/login"))
				checkFits(t, ctx, vp.width, "/login")
				screenshot(t, ctx, vp.name+"-"+scheme+"-login")
				signIn(t, ctx, inst.URL, inst.Email, inst.Password)
				signedIn = true
			}
			for _, path := range pages {
				step(t, ctx, "open "+path, chromedp.Navigate(inst.URL+path))
				wantPath(t, ctx, path)
				step(t, ctx, "see "+path, chromedp.WaitVisible(chromedp.CSS(`main`)))
				checkFits(t, ctx, vp.width, path)
				screenshot(t, ctx, vp.name+"-"+scheme+pageName(path))
			}
		}
	}
}

// checkFits fails the test when the page is wider than the viewport, and
// names the elements that stick out.
func checkFits(t *testing.T, ctx context.Context, width int64, path string) {
	t.Helper()
	type fit struct {
		ScrollWidth int      `json:"scrollWidth"`
		InnerWidth  int      `json:"innerWidth"`
		Culprits    []string `json:"culprits"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[fit](`(() => {
		const w = window.innerWidth;
		const culprits = [];
		for (const el of document.body.querySelectorAll("*")) {
			const r = el.getBoundingClientRect();
			if (r.width > 0 && r.right > w + 1) {
				const id = el.getAttribute("data-testid") || el.id;
				culprits.push(el.tagName.toLowerCase() + (id ? "[" + id + "]" : "") +
					(el.className && typeof el.className === "string" ? "." + el.className.trim().replace(/\s+/g, ".") : "") +
					" right=" + Math.round(r.right));
			}
		}
		return {scrollWidth: document.documentElement.scrollWidth, innerWidth: w, culprits: culprits.slice(0, 8)};
	})()`))
	if err != nil {
		t.Fatalf("measure %s: %v", path, err)
	}
	if got.InnerWidth != int(width) {
		t.Errorf("%s: window.innerWidth = %d, want the emulated %d", path, got.InnerWidth, width)
	}
	if got.ScrollWidth > got.InnerWidth+1 {
		t.Errorf("%s at %dpx scrolls sideways: scrollWidth %d; sticking out: %s",
			path, got.InnerWidth, got.ScrollWidth, strings.Join(got.Culprits, ", "))
	}
}

func pageName(path string) string {
	if path == "/" {
		return "-portal"
	}
	return strings.ReplaceAll(path, "/", "-")
}

// colorScheme emulates prefers-color-scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// signIn fills the sign-in form and submits it.
func signIn(t *testing.T, ctx context.Context, baseURL, email, password string) {
	t.Helper()
	if location(t, ctx).Path != "/login" {
		step(t, ctx, "open the sign-in page", chromedp.Navigate(baseURL+"/login"))
	}
	step(t, ctx, "fill in the sign-in form",
		chromedp.WaitVisible(testID("login-form")),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-form"] #email`), email),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-form"] #password`), password),
	)
	if status := follow(t, ctx, "sign in", chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)); status != 200 {
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="login-error"]')?.innerText ?? ""`))
		t.Fatalf("sign in as %s: page answered %d %s", email, status, msg)
	}
}

// step runs actions, failing the test with what it was doing.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v (at %s)", what, err, currentURL(ctx))
	}
}

// follow clicks something that loads a page (a link, a submit button),
// waits for the page and returns its HTTP status.
func follow(t *testing.T, ctx context.Context, what string, sel chromedp.CSS) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		t.Fatalf("%s: %v (at %s)", what, err, currentURL(ctx))
	}
	if resp == nil {
		t.Fatalf("%s: no page loaded (at %s)", what, currentURL(ctx))
	}
	return resp.Status
}

func testID(id string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`[data-testid=%q]`, id))
}

func text(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("read the text of %s: %v (at %s)", sel, err, currentURL(ctx))
	}
	return strings.Join(strings.Fields(s), " ")
}

func value(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Value(sel))
	if err != nil {
		t.Fatalf("read the value of %s: %v", sel, err)
	}
	return s
}

func attr(t *testing.T, ctx context.Context, sel chromedp.CSS, name string) string {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, name))
	if err != nil {
		t.Fatalf("read %s of %s: %v", name, sel, err)
	}
	return r.Value
}

// count returns how many elements match now, without waiting for any.
func count(t *testing.T, ctx context.Context, sel chromedp.CSS) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, string(sel))))
	if err != nil {
		t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// rowOf returns a selector for the users-table row of email.
func rowOf(t *testing.T, ctx context.Context, email string) string {
	t.Helper()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
		const row = [...document.querySelectorAll('[data-testid="user-row"]')]
			.find(r => [...r.querySelectorAll('[data-testid="user-email"], [data-testid="user-name"]')]
				.some(e => e.textContent.trim() === %q));
		return row ? row.dataset.userId : "";
	})()`, email)))
	if err != nil || id == "" {
		t.Fatalf("no users-table row for %s (%v)", email, err)
	}
	return fmt.Sprintf(`[data-testid="user-row"][data-user-id=%q]`, id)
}

// countUsersMatching asks the users page, with the tab's session but
// without leaving the current page, how many users match q.
func countUsersMatching(t *testing.T, ctx context.Context, q string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`
		fetch("/admin/users?q=" + encodeURIComponent(%q))
			.then(r => { if (!r.ok) throw new Error("users page answered " + r.status); return r.text(); })
			.then(html => new DOMParser().parseFromString(html, "text/html")
				.querySelectorAll('[data-testid="user-row"]').length)`, q), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("count users matching %q: %v", q, err)
	}
	return n
}

// wantFlash checks that the page shows a flash of this kind and message.
func wantFlash(t *testing.T, ctx context.Context, kind, message string) {
	t.Helper()
	sel := chromedp.CSS(fmt.Sprintf(`[data-testid="flash"][data-kind=%q]`, kind))
	step(t, ctx, "see the "+kind+" message", chromedp.WaitVisible(sel))
	if got := text(t, ctx, sel); got != message {
		t.Errorf("%s flash = %q, want %q", kind, got, message)
	}
}

func location(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("read the location: %v", err)
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantPath(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	if got := location(t, ctx); got.Path != path {
		t.Fatalf("at %s, want path %s", got, path)
	}
}

// currentURL is the tab's location for error messages; it never fails.
func currentURL(ctx context.Context) string {
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown location"
	}
	return s
}
