package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
	"github.com/drawbridge/drawbridge/views"
)

// authorization is an authorization request that passed every check: the
// client, its redirect URI, the route the token will be for, the scope.
type authorization struct {
	params authorizeParams
	client *models.OAuthClient
	route  *models.Route
	scope  string
}

// Authorize serves GET /oauth/authorize. Until the client and its redirect
// URI are established, problems are shown on a page: redirecting to an
// unverified URI would make Drawbridge an open redirector. After that they
// go back to the client as RFC 6749 section 4.1.2.1 says. A visitor who is
// not signed in signs in first and comes back here.
func (s *OAuthServer) Authorize(c echo.Context) error {
	a, err := s.checkAuthorization(c, c.QueryParams())
	if err != nil || a == nil {
		return err
	}
	u := UserFrom(c)
	if u == nil {
		next := SafeNext(c.Request().URL.RequestURI())
		if next == "" {
			return s.authorizeProblem(c, http.StatusBadRequest, "This sign-in link cannot be used",
				"The app sent an authorization request too long or too odd to carry through sign-in. Try again from the app.")
		}
		return c.Redirect(http.StatusSeeOther, withNext("/login", next))
	}
	ctx := c.Request().Context()
	if connect, err := s.needsConnect(c, a, u); connect != "" || err != nil {
		return orRedirect(c, connect, err)
	}
	consented, err := s.Store.HasConsent(ctx, u.ID, a.client.ClientID, a.route.From)
	if err != nil {
		return err
	}
	if consented {
		return s.issueCode(c, a, u)
	}
	allowFormTarget(c, a.params.RedirectURI)
	return Render(c, http.StatusOK, views.ConsentPage(s.consentProps(c, a, u)))
}

// needsConnect returns where to send the browser first when the route
// reaches its upstream with the user's own account there and the user
// has not connected it (or must connect again): Connect runs inside the
// authorization, before the client gets a token that could not be used,
// and comes back to this same request.
func (s *OAuthServer) needsConnect(c echo.Context, a *authorization, u *models.User) (string, error) {
	if a.route.UpstreamAppID == nil {
		return "", nil
	}
	conn, err := s.Store.GetUpstreamConnection(c.Request().Context(), u.ID, *a.route.UpstreamAppID)
	switch {
	case err == nil && conn.Status == models.ConnectionConnected:
		return "", nil
	case err != nil && !errors.Is(err, models.ErrNotFound):
		return "", err
	}
	q := url.Values{
		"route":        {strconv.FormatUint(uint64(a.route.ID), 10)},
		"redirect_url": {s.IssuerURL + c.Request().URL.RequestURI()},
	}
	return "/connect?" + q.Encode(), nil
}

func orRedirect(c echo.Context, to string, err error) error {
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// checkAuthorization runs every check on an authorization request. It
// returns the authorization, or (nil, nil) after it has answered the
// request itself with a page or a redirect carrying the error.
func (s *OAuthServer) checkAuthorization(c echo.Context, v url.Values) (*authorization, error) {
	p, problem := readAuthorizeParams(v)
	if problem != "" {
		return nil, s.authorizeProblem(c, http.StatusBadRequest, "This authorization request is not valid", "The app sent a malformed request: "+problem+".")
	}
	client, err := s.lookupClient(c, p.ClientID)
	if err != nil || client == nil {
		return nil, err
	}
	if p.RedirectURI == "" {
		return nil, s.authorizeProblem(c, http.StatusBadRequest, "This authorization request is not valid",
			"The app did not say where to return (redirect_uri is missing).")
	}
	if !RedirectURIMatches(client.RedirectURIs, p.RedirectURI) {
		s.Logger.Warn("oauth: unregistered redirect_uri", "client_id", client.ClientID, "redirect_uri", p.RedirectURI)
		return nil, s.authorizeProblem(c, http.StatusBadRequest, "This app asked to return somewhere it did not register",
			"Drawbridge sends you back only to an address the app registered, and this one is not among them. Nothing was shared. If you did not start this, close the page.")
	}
	// From here on the redirect URI is the client's own: errors go there.
	if e := p.checkFlow(); e != nil {
		return nil, s.redirectError(c, p, e)
	}
	if !slices.Contains(client.GrantTypes, models.GrantAuthorizationCode) {
		return nil, s.redirectError(c, p, oauthErr(oauthUnauthorizedClient, "this client did not register the authorization_code grant"))
	}
	route, err := resolveResource(c.Request().Context(), s.Store, p.Resource)
	if err != nil {
		return nil, s.redirectError(c, p, oauthErr(oauthInvalidTarget, err.Error()))
	}
	return &authorization{params: p, client: client, route: route, scope: grantedScope(p.Scope)}, nil
}

// lookupClient finds the client by ID, fetching its metadata document
// when the ID is a URL. It returns (nil, nil) after showing a page.
func (s *OAuthServer) lookupClient(c echo.Context, clientID string) (*models.OAuthClient, error) {
	const title = "This app is not known to Drawbridge"
	if clientID == "" {
		return nil, s.authorizeProblem(c, http.StatusBadRequest, "This authorization request is not valid", "The app did not say who it is (client_id is missing).")
	}
	ctx := c.Request().Context()
	var (
		client *models.OAuthClient
		err    error
	)
	if IsMetadataClientID(clientID) {
		settings, serr := s.Store.GetSettings(ctx)
		if serr != nil {
			return nil, serr
		}
		if s.MetadataClients == nil || !settings.MetadataDocumentsEnabled {
			return nil, s.authorizeProblem(c, http.StatusBadRequest, title,
				"The app identifies itself by a metadata document, and an administrator turned that way of signing in off.")
		}
		client, err = s.MetadataClients.Resolve(ctx, clientID, settings.MetadataDocumentHosts)
		var merr *MetadataError
		if errors.As(err, &merr) {
			return nil, s.authorizeProblem(c, http.StatusBadRequest, "This app's description could not be used", merr.Error())
		}
	} else {
		client, err = s.Store.GetOAuthClient(ctx, clientID)
		if errors.Is(err, models.ErrNotFound) {
			return nil, s.authorizeProblem(c, http.StatusBadRequest, title,
				"No app is registered with this client ID. If the app registered some time ago, an administrator may have removed it: remove the server from the app and add it again.")
		}
	}
	if err != nil {
		return nil, err
	}
	if client.Disabled {
		return nil, s.authorizeProblem(c, http.StatusForbidden, "This app has been turned off", "An administrator turned this app off on this Drawbridge.")
	}
	return client, nil
}

// issueCode makes a one-use authorization code and sends the browser back
// to the client with it.
func (s *OAuthServer) issueCode(c echo.Context, a *authorization, u *models.User) error {
	code, hash, err := token.NewSecret(token.PrefixAuthorizationCode)
	if err != nil {
		return err
	}
	err = s.Store.CreateAuthCode(c.Request().Context(), &models.AuthCode{
		CodeHash: hash, ClientID: a.client.ClientID, UserID: u.ID, RedirectURI: a.params.RedirectURI,
		CodeChallenge: a.params.CodeChallenge, Resource: a.route.From, Scope: a.scope,
		ExpiresAt: s.now().Add(CodeTTL),
	})
	if err != nil {
		return fmt.Errorf("issue authorization code: %w", err)
	}
	q := url.Values{"code": {code}}
	return s.redirectBack(c, a.params, q)
}

// redirectError sends an OAuth error back to the client's redirect URI.
func (s *OAuthServer) redirectError(c echo.Context, p authorizeParams, e *OAuthError) error {
	q := url.Values{"error": {e.Code}}
	if e.Description != "" {
		q.Set("error_description", e.Description)
	}
	return s.redirectBack(c, p, q)
}

// redirectBack adds q, the state and the issuer (RFC 9207) to the
// client's redirect URI, keeping the query it registered, and redirects.
func (s *OAuthServer) redirectBack(c echo.Context, p authorizeParams, q url.Values) error {
	u, err := url.Parse(p.RedirectURI)
	if err != nil { // RedirectURIMatches parsed it already
		return err
	}
	all := u.Query()
	for k, vs := range q {
		all[k] = vs
	}
	if p.State != "" {
		all.Set("state", p.State)
	}
	all.Set("iss", s.IssuerURL)
	u.RawQuery = all.Encode()
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return c.Redirect(http.StatusSeeOther, u.String())
}

// authorizeProblem shows a page explaining why an authorization request
// stops here, without redirecting anywhere.
func (s *OAuthServer) authorizeProblem(c echo.Context, status int, title, message string) error {
	return Render(c, status, views.AuthorizeProblemPage(views.AuthorizeProblemProps{
		Page:    s.Page(c, title, ""),
		Heading: title,
		Message: message,
	}))
}
