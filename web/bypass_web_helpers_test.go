package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Helpers of the bypass catalogue's OAuth, redirect, console and SSRF
// groups (web/bypass_*_test.go).

// consentForm loads the consent page for q as the signed-in browser and
// returns the fields its form would post, without a decision.
func (b *browser) consentForm(q url.Values) url.Values {
	b.t.Helper()
	resp, body := b.get("/oauth/authorize?" + q.Encode())
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("authorize: status %d, want the consent page; %.300s", resp.StatusCode, body)
	}
	form := url.Values{}
	doc(b.t, body).Find(`[data-testid="consent-form"] input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		form.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	if form.Get(csrfField) == "" {
		b.t.Fatal("the consent form carries no CSRF token")
	}
	return form
}

// postRaw posts form as a same-origin browser would, after edit may
// change the form or the request (its headers), and returns the response.
func (b *browser) postRaw(path string, form url.Values, edit func(url.Values, *http.Request)) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+path, nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Origin", b.app.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if edit != nil {
		edit(form, req)
	}
	body := form.Encode()
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
	resp, _ := b.do(req)
	return resp
}

// registerReply is the decoded answer of /oauth/register.
type registerReply struct {
	Status      int
	ClientID    string `json:"client_id"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// register posts body to the registration endpoint as JSON.
func (a *testApp) register(t *testing.T, body string) registerReply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/oauth/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := registerReply{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("registration: status %d, body is not JSON: %.300s", resp.StatusCode, raw)
	}
	return r
}

// wantRedirectsWithin fails the test when resp redirects anywhere but a
// path on one of origins (scheme://host:port, exactly). A relative
// Location is read against the address resp answered, as a browser reads
// it; a backslash, control character or user info in it, which browsers
// forgive in ways servers do not, counts as leaving. A header that an
// injected line break would have added (Set-Cookie: pwned) fails too.
func wantRedirectsWithin(t *testing.T, resp *http.Response, origins ...string) {
	t.Helper()
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.Contains(c, "pwned") {
			t.Errorf("a header was injected: Set-Cookie %q", c)
		}
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return
	}
	if strings.ContainsFunc(loc, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		t.Errorf("redirect to %q: it holds characters a browser may read as another address", loc)
		return
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Errorf("redirect to %q: not a URL: %v", loc, err)
		return
	}
	abs := resp.Request.URL.ResolveReference(u)
	origin := strings.ToLower(abs.Scheme + "://" + abs.Host)
	for _, o := range origins {
		if abs.User == nil && origin == strings.ToLower(o) {
			return
		}
	}
	t.Errorf("redirect to %q leaves %v", loc, origins)
}

// connectVia starts Connect on w's route host with redirect_url=back, as
// an app would send the browser there. The route host must send it to
// the console; the console's answer, whose redirect must stay within
// console and others, is returned unfollowed.
func (w *connectWorld) connectVia(t *testing.T, b *browser, back, console string, others ...string) *http.Response {
	t.Helper()
	resp, _ := b.open(http.MethodGet, w.route.From+"/.drawbridge/mcp/connect?redirect_url="+url.QueryEscape(back), nil)
	wantRedirectsWithin(t, resp, console)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("route host Connect: %d, want a redirect to the console", resp.StatusCode)
	}
	resp, _ = b.open(http.MethodGet, resolve(resp), nil)
	wantRedirectsWithin(t, resp, append([]string{console}, others...)...)
	return resp
}

// sessionCookie is the console session cookie b holds now.
func (a *testApp) sessionCookie(t *testing.T, b *browser) string {
	t.Helper()
	u, _ := url.Parse(a.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	t.Fatal("the browser holds no session cookie")
	return ""
}
