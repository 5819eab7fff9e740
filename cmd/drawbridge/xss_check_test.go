package main

// How the stored-XSS test looks at a page: a tab that records dialogs, the
// script that finds what a payload made of the page, and form helpers.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// sessionCookies signs in, in a tab of its own, and returns the cookies
// that carry the session, for each page's tab to start signed in.
func sessionCookies(t *testing.T, inst *instance, email, password string) []*network.CookieParam {
	t.Helper()
	ctx := newTab(t)
	signIn(t, ctx, inst.URL, email, password)
	got, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{inst.URL + "/"}})
	if err != nil || len(got.Cookies) == 0 {
		t.Fatalf("read the session cookies of %s: %v (%d cookies)", email, err, len(got.Cookies))
	}
	var out []*network.CookieParam
	for _, c := range got.Cookies {
		out = append(out, &network.CookieParam{Name: c.Name, Value: c.Value, URL: inst.URL + "/", Path: c.Path,
			HTTPOnly: c.HTTPOnly, Secure: c.Secure, SameSite: c.SameSite})
	}
	return out
}

// watchedTab is a browser tab that records the JavaScript dialogs that open in
// it, and closes them so that the page goes on.
type watchedTab struct {
	context.Context
	mu      sync.Mutex
	dialogs []string
}

// xssTab opens a tab for one page's subtest, with cookies (nil: signed
// out).
func xssTab(t *testing.T, cookies []*network.CookieParam) *watchedTab {
	t.Helper()
	ctx := newTab(t)
	tb := &watchedTab{Context: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, string(ev.Type)+": "+ev.Message)
			tb.mu.Unlock()
			// Not from the listener itself, which reads the replies.
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{})
		}
	}); err != nil {
		t.Fatalf("listen for dialogs: %v", err)
	}
	if len(cookies) > 0 {
		if _, err := chromedp.Call(ctx, network.SetCookies, network.SetCookiesParams{Cookies: cookies}); err != nil {
			t.Fatalf("set the session cookies: %v", err)
		}
	}
	return tb
}

// visit opens url and checks it as the page named name.
func visit(t *testing.T, tb *watchedTab, name, url string, fields ...string) {
	t.Helper()
	step(t, tb, "open "+name, chromedp.Navigate(url))
	check(t, tb, name, fields...)
}

// pageState is what checkJS finds in a page.
type pageState struct {
	Markers  []string `json:"markers"`  // elements a payload made: "field: outerHTML"
	Handlers []string `json:"handlers"` // on… attributes, which no page of ours has
	Links    []string `json:"links"`    // javascript:, vbscript: and data:text/html URLs
	Missing  []string `json:"missing"`  // fields the page does not show
	XSS      string   `json:"xss"`      // window.__xss, "" when undefined
}

const checkJS = `((fields) => {
	const s = {markers: [], handlers: [], links: [], missing: [], xss: typeof window.__xss === "undefined" ? "" : String(window.__xss)};
	for (const e of document.querySelectorAll("[data-xss]")) {
		s.markers.push(e.getAttribute("data-xss").split("/")[0] + ": " + e.outerHTML.slice(0, 160));
	}
	let text = document.documentElement.textContent;
	for (const e of document.querySelectorAll("*")) {
		for (const a of e.attributes) {
			const n = a.name.toLowerCase();
			if (n.startsWith("on")) s.handlers.push(e.tagName.toLowerCase() + " " + n + "=" + a.value.slice(0, 80));
			if (["href", "src", "action", "formaction", "xlink:href", "data", "poster"].includes(n) &&
				/^(javascript:|vbscript:|data:text\/html)/i.test(a.value.replace(/[\u0000-\u0020]/g, ""))) {
				s.links.push(e.tagName.toLowerCase() + " " + n + "=" + a.value.slice(0, 80));
			}
			text += "\n" + a.value;
		}
	}
	for (const e of document.querySelectorAll("input, textarea, select")) text += "\n" + e.value;
	for (const f of fields) {
		if (!new RegExp("data-xss=" + f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "(?![\\w.-])").test(text)) s.missing.push(f);
	}
	return s;
})`

// check fails t for every payload in the page that ran or became markup,
// naming the page and the field, and for every field in fields that the
// page does not show. It takes a screenshot of the page.
func check(t *testing.T, tb *watchedTab, name string, fields ...string) {
	t.Helper()
	problems, missing := tb.inspect(t, name, fields...)
	for _, p := range problems {
		t.Error(p)
	}
	for _, f := range missing {
		t.Errorf("%s does not show field %s, so this test cannot tell whether it escapes it", name, f)
	}
}

// inspect looks at the page as check does and returns what check would
// fail t for: the payloads that ran or became markup, and the fields the
// page does not show. It takes a screenshot of the page.
func (tb *watchedTab) inspect(t *testing.T, name string, fields ...string) (problems, missing []string) {
	t.Helper()
	if fields == nil {
		fields = []string{}
	}
	s := evaluate[pageState](t, tb, checkJS+"("+mustJSON(fields)+")")
	for _, m := range s.Markers {
		field, html, _ := strings.Cut(m, ": ")
		problems = append(problems, fmt.Sprintf("%s: the payload in field %s became markup: %s", name, field, html))
	}
	for _, h := range s.Handlers {
		problems = append(problems, fmt.Sprintf("%s: a payload added an event handler attribute: %s", name, h))
	}
	for _, l := range s.Links {
		problems = append(problems, fmt.Sprintf("%s: a payload made a script link: %s", name, l))
	}
	if s.XSS != "" {
		problems = append(problems, fmt.Sprintf("%s: a payload's script ran (window.__xss = %s)", name, s.XSS))
	}
	tb.mu.Lock()
	for _, d := range tb.dialogs {
		problems = append(problems, fmt.Sprintf("%s: a payload opened a JavaScript dialog (%s)", name, d))
	}
	tb.dialogs = nil
	tb.mu.Unlock()
	pageShot(t, tb, fileSafe(name))
	return problems, s.Missing
}

// wantText fails t unless the page's text holds s as it is: what a double
// decoding (&lt; shown as <) would change.
func wantText(t *testing.T, tb *watchedTab, name, s string) {
	t.Helper()
	if !evaluate[bool](t, tb, fmt.Sprintf(`document.body.textContent.includes(%q)`, s)) {
		t.Errorf("%s does not show %q as it is", name, s)
	}
}

// submitForm fills in the fields of the form sel by script (typing a
// payload key by key adds nothing here: what matters is what the server
// sends back), then submits it, past the browser's own checks of the
// fields as a request made by hand would be, and returns the answer's
// status.
func submitForm(t *testing.T, tb *watchedTab, form string, values map[string]string) int64 {
	t.Helper()
	if problem := evaluate[string](t, tb, fmt.Sprintf(`((sel, values) => {
		const form = document.querySelector(sel);
		if (!form) return "no form " + sel;
		form.noValidate = true;
		for (const [k, v] of Object.entries(values)) {
			const el = form.elements.namedItem(k);
			if (!el) return "no field " + k;
			el.value = v;
		}
		return "";
	})(%q, %s)`, form, mustJSON(values))); problem != "" {
		t.Fatalf("fill in %s: %s (at %s)", form, problem, currentURL(tb))
	}
	return follow(t, tb, "submit "+form, chromedp.CSS(form+` button[type="submit"]`))
}

// confirmDialog opens the page's first confirmation, which app.js builds
// into a dialog from the question the page holds, and checks the page
// with it open.
func confirmDialog(t *testing.T, tb *watchedTab, name string, fields ...string) {
	t.Helper()
	step(t, tb, "open "+name,
		chromedp.Click(chromedp.CSS(`details[data-confirm] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog.confirm-dialog[open]`)),
	)
	check(t, tb, name, fields...)
	if got := text(t, tb, chromedp.CSS(`dialog.confirm-dialog[open] h2`)); !strings.Contains(got, "data-xss=") {
		t.Errorf("%s asks %q, without the name it is about", name, got)
	}
}

// hrefOf returns the link of the first element matching sel whose text
// is text.
func hrefOf(t *testing.T, tb *watchedTab, sel, text string) string {
	t.Helper()
	href := evaluate[string](t, tb, fmt.Sprintf(`(() => {
		const a = [...document.querySelectorAll(%q)].find(e => e.textContent.trim() === %q);
		return a ? a.href : "";
	})()`, sel, text))
	if href == "" {
		t.Fatalf("no %s reading %q (at %s)", sel, text, currentURL(tb))
	}
	return href
}
