package handlers

import (
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// A page's Content-Security-Policy lets its forms submit only to this
// origin (form-action 'self'), and browsers hold the redirects that follow
// a submission to the same rule. Three forms do end in a redirect to
// another origin: the consent form and the sign-in form when it resumes an
// authorization the user already consented to, which go to an MCP client,
// and the sign-in form when it resumes a route host's sign-in
// (/login/route), which goes to that host. allowFormTarget and
// allowFormSource widen form-action on those pages to that one origin,
// and to nothing else.

// allowFormTarget adds the origin of target, a redirect URI that passed
// CheckRedirectURI, to the response's form-action directive.
func allowFormTarget(c echo.Context, target string) {
	allowFormSource(c, cspSource(target))
}

// allowFormSource adds source, a CSP source expression, to the response's
// form-action directive; "" adds nothing.
func allowFormSource(c echo.Context, source string) {
	if source == "" {
		return
	}
	h := c.Response().Header()
	policy := h.Get("Content-Security-Policy")
	const directive = "form-action 'self'"
	if !strings.Contains(policy, directive) {
		return
	}
	h.Set("Content-Security-Policy", strings.Replace(policy, directive, directive+" "+source, 1))
}

// cspSource is the CSP source expression matching target's origin, or ""
// when target is not a redirect URI we accept or its origin cannot be
// written as one safely.
func cspSource(target string) string {
	if CheckRedirectURI(target) != nil {
		return ""
	}
	return originSource(target)
}

// originSource is the CSP source expression matching the origin of
// target, or "" when it cannot be written as one safely.
func originSource(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	source := u.Scheme + ":"
	if u.Host != "" {
		source = u.Scheme + "://" + u.Host
	}
	for _, r := range source {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".-+:/[]", r)) {
			return ""
		}
	}
	return source
}

// authorizeRedirect returns the redirect_uri of next when next resumes an
// authorization request, and "" otherwise.
func authorizeRedirect(next string) string {
	path, query, ok := strings.Cut(next, "?")
	if !ok || path != "/oauth/authorize" {
		return ""
	}
	q, err := url.ParseQuery(query)
	if err != nil || len(q["redirect_uri"]) != 1 {
		return ""
	}
	return q.Get("redirect_uri")
}

// routeSignInID returns the route of next when next hands a sign-in to a
// route host (/login/route?route=ID…), and 0 otherwise.
func routeSignInID(next string) uint {
	path, query, ok := strings.Cut(next, "?")
	if !ok || path != "/login/route" {
		return 0
	}
	q, err := url.ParseQuery(query)
	if err != nil || len(q["route"]) != 1 {
		return 0
	}
	return formID(q.Get("route"))
}
