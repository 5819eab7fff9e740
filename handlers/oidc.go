package handlers

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/drawbridge/drawbridge/models"
)

// OIDCUsers is what OIDC sign-in needs of the store.
type OIDCUsers interface {
	UpsertOIDCUser(ctx context.Context, in models.OIDCIdentity) (*models.User, error)
}

// OIDCProvider is one configured identity provider.
type OIDCProvider struct {
	Name         string
	Label        string
	Issuer       string
	ClientID     string
	ClientSecret string
	Scopes       []string
	GroupsClaim  string
	RedirectURL  string // console_url + /auth/{name}/callback

	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use, so a provider that is down at start does not stop the console
}

// OIDC signs people in with OpenID Connect providers: authorization code
// with PKCE, state and nonce, and a verified ID token.
type OIDC struct {
	Auth      *Auth // completes the sign-in the same way as a password
	Users     OIDCUsers
	Providers map[string]*OIDCProvider
	Client    *http.Client // talks to the providers
}

// stashKey holds the in-flight sign-in in the session between the redirect
// to the provider and its callback.
const stashKey = "oidc"

// stateTTL bounds how long a person may take at the provider.
const stateTTL = 10 * time.Minute

type oidcFlight struct {
	Provider string    `json:"p"`
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"x"`
	Started  time.Time `json:"t"`
}

// Start redirects to the provider's authorization endpoint.
func (h *OIDC) Start(c echo.Context) error {
	p, ok := h.Providers[c.Param("provider")]
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "No such sign-in provider.")
	}
	conf, _, err := h.discover(c.Request().Context(), p)
	if err != nil {
		return err
	}
	f := oidcFlight{
		Provider: p.Name, State: rand.Text(), Nonce: rand.Text(), Verifier: oauth2.GenerateVerifier(),
		Next: SafeNext(c.QueryParam("next")), Started: time.Now(),
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	h.Auth.Sessions.Stash(c, stashKey, string(b))
	return c.Redirect(http.StatusFound, conf.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)))
}

// Callback completes the sign-in: the state must match the one this
// browser started with, the code is exchanged with the PKCE verifier, and
// the ID token must verify and carry our nonce.
func (h *OIDC) Callback(c echo.Context) error {
	p, ok := h.Providers[c.Param("provider")]
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "No such sign-in provider.")
	}
	var f oidcFlight
	raw := h.Auth.Sessions.Take(c, stashKey)
	state := c.QueryParam("state")
	if raw == "" || json.Unmarshal([]byte(raw), &f) != nil || f.Provider != p.Name || state == "" ||
		subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) != 1 || time.Since(f.Started) > stateTTL {
		return h.refuse(c, "", "This sign-in link is invalid or has expired. Please start again.")
	}
	if e := c.QueryParam("error"); e != "" {
		return h.refuse(c, f.Next, fmt.Sprintf("%s did not sign you in (%s).", p.Label, describeOAuthError(e, c.QueryParam("error_description"))))
	}

	ctx, cancel := context.WithTimeout(c.Request().Context(), 15*time.Second)
	defer cancel()
	ctx = oidc.ClientContext(ctx, h.Client)
	conf, verifier, err := h.discover(ctx, p)
	if err != nil {
		return err
	}
	tok, err := conf.Exchange(ctx, c.QueryParam("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.Auth.Logger.Warn("oidc code exchange failed", "provider", p.Name, "err", err)
		return h.refuse(c, f.Next, fmt.Sprintf("%s did not confirm the sign-in. Please try again.", p.Label))
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, rawID)
	if err != nil || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		h.Auth.Logger.Warn("oidc id token rejected", "provider", p.Name, "err", err)
		return h.refuse(c, f.Next, fmt.Sprintf("The identity %s sent could not be verified.", p.Label))
	}
	id, err := identityFromClaims(p, idt)
	if err != nil {
		return h.refuse(c, f.Next, err.Error())
	}
	id.MakeAdmin = h.Auth.IsAdminEmail(id.Email)
	id.MakeAuditor = h.Auth.IsAuditorEmail != nil && h.Auth.IsAuditorEmail(id.Email)
	u, err := h.Users.UpsertOIDCUser(models.WithActor(ctx, "sign-in via "+p.Name), id)
	if err != nil {
		return err
	}
	if u.Disabled {
		return h.refuse(c, f.Next, "This account is disabled. Ask an administrator to enable it.")
	}
	return h.Auth.complete(c, u, f.Next)
}

func (h *OIDC) refuse(c echo.Context, next, msg string) error {
	return h.Auth.renderLogin(c, http.StatusUnauthorized, msg, "", next)
}

// discover fetches the provider's metadata once; a failure is retried on
// the next attempt rather than remembered.
func (h *OIDC) discover(ctx context.Context, p *OIDCProvider) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider == nil {
		dctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, h.Client), 10*time.Second)
		defer cancel()
		prov, err := oidc.NewProvider(dctx, p.Issuer)
		if err != nil {
			return nil, nil, &echo.HTTPError{
				Code:     http.StatusBadGateway,
				Message:  fmt.Sprintf("%s cannot be reached right now. Try again in a moment, or use another way to sign in.", p.Label),
				Internal: err,
			}
		}
		p.provider = prov
	}
	scopes := append([]string{oidc.ScopeOpenID}, p.Scopes...)
	conf := &oauth2.Config{
		ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: p.RedirectURL,
		Endpoint: p.provider.Endpoint(), Scopes: scopes,
	}
	return conf, p.provider.Verifier(&oidc.Config{ClientID: p.ClientID}), nil
}

// identityFromClaims reads who signed in. The email must be present and,
// when the provider says whether it is verified, verified.
func identityFromClaims(p *OIDCProvider, idt *oidc.IDToken) (models.OIDCIdentity, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return models.OIDCIdentity{}, errors.New("The identity token could not be read.")
	}
	email, _ := claims["email"].(string)
	if email == "" {
		return models.OIDCIdentity{}, fmt.Errorf("%s did not share an email address; Drawbridge needs one (scope \"email\").", p.Label)
	}
	if v, ok := claims["email_verified"].(bool); ok && !v {
		return models.OIDCIdentity{}, fmt.Errorf("%s says %s is not verified.", p.Label, email)
	}
	name, _ := claims["name"].(string)
	return models.OIDCIdentity{
		Provider: p.Name, Subject: idt.Subject, Email: email, Name: name,
		Groups: stringList(claims[p.GroupsClaim]),
	}, nil
}

// stringList accepts a claim that is a list of strings or one string.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// describeOAuthError keeps a provider's error short and printable; the
// page escapes it, this only bounds it.
func describeOAuthError(code, desc string) string {
	s := code
	if desc != "" {
		s += ": " + desc
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ToValidUTF8(s, "")
}
