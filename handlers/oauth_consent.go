package handlers

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/views"
)

// Consent serves POST /oauth/authorize, the consent form. The request is
// checked again from the form's fields, which the browser could have
// changed; the session's CSRF token proves the user sent it.
func (s *OAuthServer) Consent(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The consent form could not be read.")
	}
	a, err := s.checkAuthorization(c, form)
	if err != nil || a == nil {
		return err
	}
	u := UserFrom(c)
	if u == nil {
		return echo.NewHTTPError(http.StatusUnauthorized, "Please sign in first.")
	}
	switch form.Get("decision") {
	case "allow":
		err := s.Store.GrantConsent(c.Request().Context(), &models.Consent{
			UserID: u.ID, ClientID: a.client.ClientID, Resource: a.route.From, Scope: a.scope,
		})
		if err != nil {
			return err
		}
		s.Logger.Info("oauth: consent granted", "user", u.Email, "client_id", a.client.ClientID, "resource", a.route.From)
		s.auditConsent(c, a, u, models.AuditAllow, "allowed "+clientLabel(a.client)+" on "+a.route.Name)
		return s.issueCode(c, a, u)
	case "deny":
		s.Logger.Info("oauth: consent denied", "user", u.Email, "client_id", a.client.ClientID, "resource", a.route.From)
		s.auditConsent(c, a, u, models.AuditDeny, "denied "+clientLabel(a.client)+" on "+a.route.Name)
		return s.redirectError(c, a.params, oauthErr(oauthAccessDenied, "the user did not allow access"))
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "Choose Allow or Deny.")
	}
}

// auditConsent records the user's answer on the consent page.
func (s *OAuthServer) auditConsent(c echo.Context, a *authorization, u *models.User, decision, detail string) {
	uid, email := userRef(u)
	audit(c, s.Audit, s.Logger, &models.AuditEvent{
		Kind: models.AuditKindConsent, UserID: uid, UserEmail: email, ClientID: a.client.ClientID,
		RouteID: &a.route.ID, RouteName: a.route.Name, Decision: decision,
	}, detail)
}

// consentProps describes the request to the user: who asks, where the
// answer goes, what for and as whom.
func (s *OAuthServer) consentProps(c echo.Context, a *authorization, u *models.User) views.ConsentProps {
	p := views.ConsentProps{
		Page:             s.Page(c, "Allow "+clientLabel(a.client)+"?", ""),
		ClientName:       a.client.Name,
		ClientID:         a.client.ClientID,
		Source:           a.client.Source,
		RedirectHost:     redirectHost(a.params.RedirectURI),
		RouteName:        a.route.Name,
		RouteDescription: a.route.Description,
		RouteURL:         a.route.From,
		UserEmail:        u.Email,
	}
	if a.client.Source == models.ClientSourceMetadataDocument {
		p.MetadataHost = redirectHost(a.client.ClientID)
	}
	form := a.params.values()
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		p.Fields = append(p.Fields, views.HiddenField{Name: k, Value: form.Get(k)})
	}
	return p
}

// clientLabel names a client for people: its name, or its client ID.
func clientLabel(c *models.OAuthClient) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ClientID
}

// redirectHost is where a URI leads, as a person should read it: the host
// for web addresses ("localhost:33418"), the scheme for an app's own
// ("com.example.app:").
func redirectHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.Host != "" {
		return u.Host
	}
	return u.Scheme + ":"
}
