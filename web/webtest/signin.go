package webtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// Bounds on one sign-in: the provider answers each step in milliseconds, and
// a flow takes seven requests (authorize, login page, login, resume,
// consent page, consent, resume).
const (
	signInTimeout  = 15 * time.Second
	signInMaxSteps = 16
)

// SignIn signs in at the provider as login, the way a person's browser would:
// it requests authorizeURL (the URL the relying party redirected the browser
// to), fills in and submits the login form, approves the consent form, and
// returns the provider's final redirect to the relying party's redirect URI,
// carrying code, state and iss. It does not request that URL: the test does,
// with the same client, to drive its relying party.
//
// client must have a cookie jar. SignIn follows redirects itself and stops
// at the first one that leaves the provider, so the client's CheckRedirect
// does not matter. The test fails if the flow breaks or the
// provider refuses the sign-in (for example an unknown login); use Authorize
// to look at a refusal.
func (p *OIDCProvider) SignIn(t testing.TB, client *http.Client, authorizeURL, login string) *url.URL {
	t.Helper()
	back, err := p.Authorize(client, authorizeURL, login)
	if err != nil {
		t.Fatalf("webtest: sign in as %q: %v", login, err)
	}
	if back.Query().Get("code") == "" {
		t.Fatalf("webtest: sign in as %q: provider refused, redirecting to %s", login, back)
	}
	return back
}

// Authorize is SignIn without the test: it returns whatever redirect the
// provider sends back to the relying party, a code or an error such as
// error=access_denied for a login that is not one of the provider's accounts,
// and an error only when the flow itself breaks.
//
// With login "" it expects the client's cookie jar to hold a provider session
// already (single sign-on: no login page). With a login, the provider must
// ask for it: a jar that is already signed in is an error rather than a
// silent sign-in as whoever signed in before; use a fresh jar to switch.
func (p *OIDCProvider) Authorize(client *http.Client, authorizeURL, login string) (*url.URL, error) {
	if client == nil || client.Jar == nil {
		return nil, errors.New("webtest: the client needs a cookie jar: the provider keeps its interaction in cookies")
	}
	ctx, cancel := context.WithTimeout(context.Background(), signInTimeout)
	defer cancel()

	// Follow redirects by hand, so the flow stops at the first one that
	// leaves the provider instead of requesting the relying party.
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return nil, fmt.Errorf("webtest: authorize URL: %w", err)
	}
	if !p.owns(req.URL) {
		return nil, fmt.Errorf("webtest: authorize URL %s is not at the provider %s", authorizeURL, p.Issuer)
	}
	loggedIn := false
	for range signInMaxSteps {
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("webtest: %s %s: %w", req.Method, req.URL, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("webtest: read %s: %w", req.URL, err)
		}

		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			next, err := resp.Location()
			if err != nil {
				return nil, fmt.Errorf("webtest: %s answered %s without a usable Location: %w", req.URL, resp.Status, err)
			}
			if !p.owns(next) {
				// A code without a login page means an existing session
				// signed in; an error (say, no PKCE) may come before any.
				if login != "" && !loggedIn && next.Query().Has("code") {
					return nil, fmt.Errorf("webtest: the provider did not ask for a login, so the client's jar already holds a provider session; "+
						"use a fresh jar to sign in as %q, or login \"\" to reuse the session", login)
				}
				return next, nil
			}
			req, err = http.NewRequestWithContext(ctx, http.MethodGet, next.String(), nil)
			if err != nil {
				return nil, err
			}

		case resp.StatusCode == http.StatusOK:
			f, err := parseForm(body, resp.Request.URL)
			if err != nil {
				return nil, fmt.Errorf("webtest: page %s: %w: %s", req.URL, err, pageText(body))
			}
			if f.values.Has("login") {
				if login == "" {
					return nil, fmt.Errorf("webtest: the provider asks for a login, but none was given: %s", pageText(body))
				}
				if loggedIn {
					return nil, fmt.Errorf("webtest: the provider asked for a login again after %q: %s", login, pageText(body))
				}
				f.values.Set("login", login)
				loggedIn = true
			}
			if req, err = f.request(ctx); err != nil {
				return nil, err
			}

		default:
			return nil, fmt.Errorf("webtest: %s %s answered %s: %s", req.Method, req.URL, resp.Status, pageText(body))
		}
	}
	return nil, fmt.Errorf("webtest: sign-in did not reach the relying party in %d steps", signInMaxSteps)
}

// owns reports whether u is on the provider's origin.
func (p *OIDCProvider) owns(u *url.URL) bool {
	iss, err := url.Parse(p.Issuer)
	return err == nil && u.Scheme == iss.Scheme && u.Host == iss.Host
}

// form is the first HTML form of a page, as a browser would submit it
// without any button with a name being pressed.
type form struct {
	method string
	action *url.URL
	values url.Values
}

func (f form) request(ctx context.Context) (*http.Request, error) {
	if f.method == http.MethodGet {
		u := *f.action
		u.RawQuery = f.values.Encode()
		return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.action.String(), strings.NewReader(f.values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

func parseForm(page []byte, base *url.URL) (form, error) {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return form{}, err
	}
	var formNode *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "form" {
			formNode = n
			break
		}
	}
	if formNode == nil {
		return form{}, errors.New("no form to submit")
	}
	action, err := base.Parse(attr(formNode, "action"))
	if err != nil {
		return form{}, fmt.Errorf("form action: %w", err)
	}
	f := form{method: strings.ToUpper(attr(formNode, "method")), action: action, values: url.Values{}}
	if f.method != http.MethodPost {
		f.method = http.MethodGet
	}
	for n := range formNode.Descendants() {
		if n.Type != html.ElementNode || n.Data != "input" || attr(n, "name") == "" {
			continue
		}
		switch strings.ToLower(attr(n, "type")) {
		case "submit", "button", "image", "reset", "file":
			continue
		case "checkbox", "radio":
			if !hasAttr(n, "checked") {
				continue
			}
		}
		f.values.Add(attr(n, "name"), attr(n, "value"))
	}
	return f, nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

// pageText is the visible text of an HTML page, shortened, for error messages.
func pageText(page []byte) string {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return string(page)
	}
	var words []string
	for n := range doc.Descendants() {
		if n.Type == html.TextNode && (n.Parent == nil || (n.Parent.Data != "script" && n.Parent.Data != "style")) {
			words = append(words, strings.Fields(n.Data)...)
		}
	}
	text := strings.Join(words, " ")
	if len(text) > 500 {
		text = text[:500] + "…"
	}
	return fmt.Sprintf("%q", text)
}
