package proxy

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/drawbridge/drawbridge/models"
)

// A browser signs in on a route host through the console: the route host
// sends it to the console's /login/route, which, once the user is signed
// in there, hands it back to /.drawbridge/auth/callback with a one-use
// code; the route host trades the code for a cookie of its own. The
// cookie is host-only, so no other route host sees it, and is named like
// the console's, so it never travels upstream.
const (
	routeCookie = "drawbridge_route"
	// signInCookie holds the state of a sign-in this browser started, so
	// that a hand-over link made for someone else's sign-in is refused
	// here (login CSRF).
	signInCookie  = "drawbridge_signin"
	authCallback  = "/.drawbridge/auth/callback"
	consoleSignIn = "/login/route"
	// SignInCodeTTL bounds the hand-over from the console to a route host.
	SignInCodeTTL = time.Minute
)

// RouteSessions seals route hosts' session cookies.
type RouteSessions struct {
	codec    *securecookie.SecureCookie
	lifetime time.Duration
}

// NewRouteSessions seals cookies with the console's session keys (the
// cookie's name is part of what is signed, so one cookie never passes for
// the other) for at most lifetime, the console's absolute session
// lifetime.
func NewRouteSessions(hashKey, blockKey []byte, lifetime time.Duration) *RouteSessions {
	codec := securecookie.New(hashKey, blockKey)
	codec.MaxAge(int(lifetime / time.Second))
	codec.SetSerializer(securecookie.JSONEncoder{})
	return &RouteSessions{codec: codec, lifetime: lifetime}
}

// routeSession is what the cookie holds.
type routeSession struct {
	UserID  uint   `json:"u"`
	Epoch   int    `json:"e"` // the user's SessionEpoch at sign-in
	Created int64  `json:"c"`
	Host    string `json:"h"` // the route host it was issued on, and only works on
	// Console is the hash of the console session's id it was handed
	// over from: it ends when that one is signed out of.
	Console string `json:"s"`
}

// browserIdentity returns who the route host's cookie says is signed in,
// or nil. A user disabled or signed out everywhere since (a new session
// epoch), or signed out of the console session the cookie was handed over
// from, is nobody.
func (e *Engine) browserIdentity(r *http.Request, snap *Snapshot) *Identity {
	if e.sessions == nil {
		return nil
	}
	var c *http.Cookie
	for _, k := range r.Cookies() {
		if k.Name == routeCookie {
			if c != nil {
				return nil // one planted beside ours, by a sibling host: trust neither
			}
			c = k
		}
	}
	var s routeSession
	if c == nil || e.sessions.codec.Decode(routeCookie, c.Value, &s) != nil || s.Host != canonicalHost(r) ||
		s.Console == "" || snap.SessionEnded(s.Console) {
		return nil
	}
	u := snap.User(s.UserID)
	if u == nil || u.Disabled || u.SessionEpoch != s.Epoch || time.Since(time.Unix(s.Created, 0)) > e.sessions.lifetime {
		return nil
	}
	return &Identity{UserID: strconv.FormatUint(uint64(u.ID), 10), Email: u.Email, Groups: u.Groups}
}

// askSignIn answers a request with no session on a browser route: a page
// load goes to the console to sign in and comes back; anything else gets
// 401, since a script cannot follow a sign-in.
func (e *Engine) askSignIn(w http.ResponseWriter, r *http.Request, route *Route) {
	if e.sessions == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) || !acceptsHTML(r) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("Sign in at " + e.issuerURL + " first, then load this page again.\n"))
		return
	}
	state := rand.Text()
	http.SetCookie(w, &http.Cookie{
		Name: signInCookie, Value: state, Path: authCallback, HttpOnly: true,
		Secure: strings.HasPrefix(route.From, "https:"), SameSite: http.SameSiteLaxMode, MaxAge: 600,
	})
	q := url.Values{"route": {strconv.FormatUint(uint64(route.ID), 10)}, "return": {r.URL.RequestURI()}, "state": {state}}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, e.issuerURL+consoleSignIn+"?"+q.Encode(), http.StatusFound)
}

func acceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// finishSignIn redeems the console's one-use code for a session cookie
// on this host, and sends the browser on to where it was going.
func (e *Engine) finishSignIn(w http.ResponseWriter, r *http.Request, snap *Snapshot, host string) {
	code, state := r.URL.Query().Get("code"), r.URL.Query().Get("state")
	if e.sessions == nil || code == "" || len(code) > 256 || r.Method != http.MethodGet {
		gatewayPage(w, http.StatusBadRequest, "This sign-in link is not valid.")
		return
	}
	started, err := r.Cookie(signInCookie)
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(started.Value), []byte(state)) != 1 {
		gatewayPage(w, http.StatusBadRequest, "This sign-in was not started in this browser. Load the page you wanted again.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Path: authCallback, MaxAge: -1})
	si, err := e.store.TakeRouteSignIn(r.Context(), models.HashToken(code), time.Now())
	if errors.Is(err, models.ErrNotFound) {
		gatewayPage(w, http.StatusBadRequest, "This sign-in link has expired or was already used. Load the page you wanted again.")
		return
	}
	if err != nil {
		e.log.Error("proxy: redeem route sign-in", "error", err)
		gatewayPage(w, http.StatusServiceUnavailable, "Drawbridge could not finish signing you in. Try again in a moment.")
		return
	}
	route := snap.RouteByID(si.RouteID)
	u := snap.User(si.UserID)
	if route == nil || route.Host != host || u == nil || u.Disabled || !safeReturnPath(si.ReturnPath) {
		gatewayPage(w, http.StatusBadRequest, "This sign-in link is not for this address.")
		return
	}
	if si.SessionHash == "" || snap.SessionEnded(si.SessionHash) {
		gatewayPage(w, http.StatusBadRequest, "You signed out of Drawbridge since. Load the page you wanted again.")
		return
	}
	value, err := e.sessions.codec.Encode(routeCookie, routeSession{
		UserID: u.ID, Epoch: u.SessionEpoch, Created: time.Now().Unix(), Host: host, Console: si.SessionHash,
	})
	if err != nil {
		e.log.Error("proxy: seal route session", "error", err)
		gatewayPage(w, http.StatusInternalServerError, "Drawbridge could not finish signing you in.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: routeCookie, Value: value, Path: "/", HttpOnly: true,
		Secure: strings.HasPrefix(route.From, "https:"), SameSite: http.SameSiteLaxMode,
		MaxAge: int(e.sessions.lifetime / time.Second),
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, routeOrigin(route)+si.ReturnPath, http.StatusSeeOther)
}

// safeReturnPath is a path on this host: it starts with one slash, and
// holds nothing a browser could read as another host.
func safeReturnPath(p string) bool {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || len(p) > 2048 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	return !encodedSlash(p)
}

// SignInStore is what the console needs to hand a sign-in to a route.
type SignInStore interface {
	CreateRouteSignIn(ctx context.Context, si *models.RouteSignIn) error
}

// StartRouteSignIn is the console's half of a route host sign-in: for a
// user signed in at the console, in the session whose id hashes to
// sessionHash, it records a one-use code and returns the route host
// address that redeems it. returnPath must be a path on the route's host.
func StartRouteSignIn(ctx context.Context, store SignInStore, route *Route, userID uint, sessionHash, returnPath, state string) (string, error) {
	if state == "" || len(state) > 64 {
		return "", ErrSignInState
	}
	if !safeReturnPath(returnPath) {
		returnPath = "/"
	}
	code := rand.Text()
	err := store.CreateRouteSignIn(ctx, &models.RouteSignIn{
		CodeHash: models.HashToken(code), UserID: userID, RouteID: route.ID, SessionHash: sessionHash,
		ReturnPath: returnPath, ExpiresAt: time.Now().Add(SignInCodeTTL),
	})
	if err != nil {
		return "", err
	}
	return routeOrigin(route) + authCallback + "?" + url.Values{"code": {code}, "state": {state}}.Encode(), nil
}

// ErrSignInState: a route sign-in came without the state its route host
// set, so it cannot be tied to the browser that started it.
var ErrSignInState = errors.New("the sign-in did not come from the route's own page")

// gatewayPage answers a person with a short plain page.
func gatewayPage(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
