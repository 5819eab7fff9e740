package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
)

// registerApp is a Registration over a real store, and the log it writes.
type registerApp struct {
	e     *echo.Echo
	reg   *Registration
	store *models.Store
	log   *bytes.Buffer
}

// newRegisterApp is a Registration on a fresh store, with no limit on
// registrations: most tests register more than a client address may.
func newRegisterApp(t *testing.T) *registerApp {
	t.Helper()
	a := newRegisterAppOn(newTestStore(t), nil)
	a.reg.Limit = nil
	return a
}

// newRegisterAppOn is NewRegistration on store, counting registrations
// in events (store itself when nil).
func newRegisterAppOn(store *models.Store, events ThrottleStore) *registerApp {
	var log bytes.Buffer
	if events == nil {
		events = store
	}
	a := &registerApp{e: echo.New(), store: store, log: &log}
	a.e.IPExtractor = echo.ExtractIPDirect()
	a.reg = NewRegistration(store, events, slog.New(slog.NewTextHandler(&log, nil)))
	a.e.POST("/oauth/register", a.reg.Register)
	return a
}

// registered is a successful answer.
type registered struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecret            *string  `json:"client_secret"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// post sends body as a registration from addr with contentType.
func (a *registerApp) post(t *testing.T, addr, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/oauth/register", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set(echo.HeaderContentType, contentType)
	}
	if addr != "" {
		req.RemoteAddr = addr
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

// register posts body as JSON and decodes a 201, failing the test on
// anything else.
func (a *registerApp) register(t *testing.T, body string) registered {
	t.Helper()
	rec := a.post(t, "", echo.MIMEApplicationJSON, body)
	if rec.Code != http.StatusCreated {
		t.Fatalf("status %d, want 201; body %s", rec.Code, rec.Body)
	}
	if cc := rec.Header().Get(echo.HeaderCacheControl); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var r registered
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (a *registerApp) clientCount(t *testing.T) int64 {
	t.Helper()
	_, n, err := a.store.ListOAuthClients(context.Background(), models.OAuthClientFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// assertOAuthError checks rec is an OAuth error with status and code,
// whose description contains desc.
func assertOAuthError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, desc string) {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if rec.Code != status {
		t.Errorf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not an OAuth error: %v", rec.Body, err)
	}
	if body.Error != code || !strings.Contains(body.Description, desc) {
		t.Errorf("error %q %q, want %q containing %q", body.Error, body.Description, code, desc)
	}
}

func TestRegisterPublicClient(t *testing.T) {
	a := newRegisterApp(t)
	before := time.Now().Add(-time.Second)
	r := a.register(t, `{
		"redirect_uris": ["http://127.0.0.1:33418/callback", "http://localhost:33418/callback"],
		"client_name": "  Claude Code  ",
		"client_uri": "https://claude.ai",
		"logo_uri": "https://claude.ai/logo.png",
		"grant_types": ["authorization_code", "refresh_token"],
		"response_types": ["code"],
		"token_endpoint_auth_method": "none",
		"scope": "mcp",
		"software_id": "claude-code",
		"software_version": "2.0.0"
	}`)
	if !strings.HasPrefix(r.ClientID, clientIDPrefix) || len(r.ClientID) != len(clientIDPrefix)+26 {
		t.Errorf("client_id = %q, want %s and 26 random characters", r.ClientID, clientIDPrefix)
	}
	if r.ClientSecret != nil || r.ClientSecretExpiresAt != nil {
		t.Errorf("a public client got a secret: %v, %v", r.ClientSecret, r.ClientSecretExpiresAt)
	}
	if issued := time.Unix(r.ClientIDIssuedAt, 0); issued.Before(before) || issued.After(time.Now()) {
		t.Errorf("client_id_issued_at = %v, want now", issued)
	}
	want := registered{
		ClientID: r.ClientID, ClientIDIssuedAt: r.ClientIDIssuedAt, ClientName: "Claude Code",
		ClientURI: "https://claude.ai", LogoURI: "https://claude.ai/logo.png",
		RedirectURIs: []string{"http://127.0.0.1:33418/callback", "http://localhost:33418/callback"},
		GrantTypes:   []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: "none",
	}
	if !equalJSON(t, r, want) {
		t.Errorf("response = %+v, want %+v", r, want)
	}

	c, err := a.store.GetOAuthClient(context.Background(), r.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != models.ClientSourceDCR || c.Name != "Claude Code" || c.SecretHash != "" || c.Disabled ||
		c.TokenEndpointAuthMethod != models.AuthMethodNone || !slices.Equal(c.RedirectURIs, want.RedirectURIs) ||
		!slices.Equal(c.GrantTypes, want.GrantTypes) || c.ClientURI != want.ClientURI || c.LogoURI != want.LogoURI {
		t.Errorf("stored %+v", c)
	}
	if log := a.log.String(); !strings.Contains(log, r.ClientID) || !strings.Contains(log, "Claude Code") {
		t.Errorf("log does not name the client: %s", log)
	}
}

func TestRegisterConfidentialClient(t *testing.T) {
	for _, method := range []string{"", models.AuthMethodClientSecretBasic, models.AuthMethodClientSecretPost} {
		t.Run("method="+method, func(t *testing.T) {
			a := newRegisterApp(t)
			body := `{"redirect_uris": ["https://chat.example.com/oauth/callback"], "client_name": "Chat"`
			if method != "" {
				body += `, "token_endpoint_auth_method": "` + method + `"`
			}
			r := a.register(t, body+"}")
			wantMethod := method
			if method == "" {
				wantMethod = models.AuthMethodClientSecretBasic // RFC 7591's default
			}
			if r.TokenEndpointAuthMethod != wantMethod {
				t.Errorf("token_endpoint_auth_method = %q, want %q", r.TokenEndpointAuthMethod, wantMethod)
			}
			if r.ClientSecret == nil || !strings.HasPrefix(*r.ClientSecret, "dbs_") || len(*r.ClientSecret) < 40 {
				t.Fatalf("client_secret = %v, want a dbs_ secret", r.ClientSecret)
			}
			if r.ClientSecretExpiresAt == nil || *r.ClientSecretExpiresAt != 0 {
				t.Errorf("client_secret_expires_at = %v, want 0", r.ClientSecretExpiresAt)
			}
			secret := *r.ClientSecret
			c, err := a.store.GetOAuthClient(context.Background(), r.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			if c.SecretHash != models.HashToken(secret) || c.TokenEndpointAuthMethod != wantMethod {
				t.Errorf("stored hash %q and method %q; want the secret's hash and %q", c.SecretHash, c.TokenEndpointAuthMethod, wantMethod)
			}
			stored, _ := json.Marshal(c)
			if strings.Contains(string(stored), secret) || strings.Contains(a.log.String(), secret) {
				t.Error("the secret itself was stored or logged")
			}
			if !slices.Equal(r.GrantTypes, []string{"authorization_code", "refresh_token"}) || !slices.Equal(r.ResponseTypes, []string{"code"}) {
				t.Errorf("defaults: grant_types %q, response_types %q", r.GrantTypes, r.ResponseTypes)
			}
		})
	}
}

func TestRegisterAccepts(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		check                   func(t *testing.T, r registered)
	}{
		{name: "content type with charset", contentType: "application/json; charset=UTF-8",
			body: `{"redirect_uris":["https://a.example/cb"]}`},
		{name: "content type in another case", contentType: "Application/JSON",
			body: `{"redirect_uris":["https://a.example/cb"]}`},
		{name: "nulls are absent", body: `{"redirect_uris":["https://a.example/cb"],"grant_types":null,"response_types":null,"token_endpoint_auth_method":null,"client_name":null}`,
			check: func(t *testing.T, r registered) {
				if r.TokenEndpointAuthMethod != models.AuthMethodClientSecretBasic || len(r.GrantTypes) != 2 || r.ClientName != "" {
					t.Errorf("defaults not applied: %+v", r)
				}
			}},
		{name: "unknown members ignored", body: `{"redirect_uris":["com.example.app:/cb"],"contacts":["a@b"],"jwks":{"keys":[]},"x":[1,{"y":null}],"Client_Name":"not read"}`,
			check: func(t *testing.T, r registered) {
				if r.ClientName != "" {
					t.Errorf("client_name = %q: a member in another case was read", r.ClientName)
				}
			}},
		{name: "authorization code only", body: `{"redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code"],"token_endpoint_auth_method":"none"}`,
			check: func(t *testing.T, r registered) {
				if !slices.Equal(r.GrantTypes, []string{"authorization_code"}) {
					t.Errorf("grant_types = %q", r.GrantTypes)
				}
			}},
		{name: "repeats folded", body: `{"redirect_uris":["https://a.example/cb"],"grant_types":["refresh_token","authorization_code","refresh_token"],"response_types":["code","code"]}`,
			check: func(t *testing.T, r registered) {
				if !slices.Equal(r.GrantTypes, []string{"refresh_token", "authorization_code"}) || !slices.Equal(r.ResponseTypes, []string{"code"}) {
					t.Errorf("grant_types %q, response_types %q", r.GrantTypes, r.ResponseTypes)
				}
			}},
		{name: "longest name", body: `{"redirect_uris":["https://a.example/cb"],"client_name":"` + strings.Repeat("é", 200) + `"}`},
		{name: "twenty redirect URIs", body: `{"redirect_uris":[` + repeatJSON(`"https://a.example/cb"`, 20) + `]}`},
		{name: "exactly the size cap", body: padTo(`{"redirect_uris":["https://a.example/cb"],"pad":"`, `"}`, maxRegistrationBytes)},
		{name: "leading white space", body: " \r\n\t" + `{"redirect_uris":["https://a.example/cb"]}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newRegisterApp(t)
			ct := tt.contentType
			if ct == "" {
				ct = echo.MIMEApplicationJSON
			}
			rec := a.post(t, "", ct, tt.body)
			if rec.Code != http.StatusCreated {
				t.Fatalf("status %d, want 201; body %s", rec.Code, rec.Body)
			}
			var r registered
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
			if n := a.clientCount(t); n != 1 {
				t.Errorf("%d clients stored, want 1", n)
			}
		})
	}
}

func TestRegisterRefuses(t *testing.T) {
	const ok = `"redirect_uris":["https://a.example/cb"]`
	tests := []struct {
		name, contentType, body string
		status                  int
		code, desc              string
	}{
		// Transport.
		{"no content type", "-", `{` + ok + `}`, 415, oauthInvalidRequest, "application/json"},
		{"form", "application/x-www-form-urlencoded", "redirect_uris=https://a.example/cb", 415, oauthInvalidRequest, "application/json"},
		{"text", "text/plain", `{` + ok + `}`, 415, oauthInvalidRequest, "application/json"},
		{"json suffix type", "application/jsonx", `{` + ok + `}`, 415, oauthInvalidRequest, "application/json"},
		{"other charset", "application/json; charset=iso-8859-1", `{` + ok + `}`, 415, oauthInvalidRequest, "UTF-8"},
		{"bad content type", "application/json; charset", `{` + ok + `}`, 415, oauthInvalidRequest, "application/json"},
		{"one byte over the cap", "", padTo(`{`+ok+`,"pad":"`, `"}`, maxRegistrationBytes+1), 413, oauthInvalidRequest, "at most 16 KiB"},
		{"far over the cap", "", padTo(`{`+ok+`,"pad":"`, `"}`, 60<<10), 413, oauthInvalidRequest, "at most 16 KiB"},

		// Not one JSON object.
		{"empty body", "", "", 400, oauthInvalidClientMetadata, "one JSON object"},
		{"array", "", `[{` + ok + `}]`, 400, oauthInvalidClientMetadata, "one JSON object"},
		{"null", "", `null`, 400, oauthInvalidClientMetadata, "one JSON object"},
		{"string", "", `"{}"`, 400, oauthInvalidClientMetadata, "one JSON object"},
		{"two objects", "", `{` + ok + `}{` + ok + `}`, 400, oauthInvalidClientMetadata, "not valid JSON"},
		{"trailing garbage", "", `{` + ok + `}x`, 400, oauthInvalidClientMetadata, "not valid JSON"},
		{"truncated", "", `{` + ok, 400, oauthInvalidClientMetadata, "not valid JSON"},
		{"trailing comma", "", `{` + ok + `,}`, 400, oauthInvalidClientMetadata, "not valid JSON"},
		{"invalid UTF-8", "", `{` + ok + `,"client_name":"` + "\xff" + `"}`, 400, oauthInvalidClientMetadata, "not valid JSON"},
		{"lone surrogate", "", `{` + ok + `,"client_name":"\ud800"}`, 400, oauthInvalidClientMetadata, "not valid JSON"},

		// Duplicate members, known or not, at any depth.
		{"duplicate redirect_uris", "", `{` + ok + `,"redirect_uris":["https://evil.example/cb"]}`, 400, oauthInvalidClientMetadata, `names "redirect_uris" more than once`},
		{"duplicate auth method", "", `{` + ok + `,"token_endpoint_auth_method":"none","token_endpoint_auth_method":"none"}`, 400, oauthInvalidClientMetadata, "more than once"},
		{"duplicate unknown member", "", `{` + ok + `,"x":1,"x":2}`, 400, oauthInvalidClientMetadata, `names "x" more than once`},
		{"duplicate nested member", "", `{` + ok + `,"jwks":{"keys":[{"kid":"a","kid":"b"}]}}`, 400, oauthInvalidClientMetadata, `names "jwks.keys[0].kid" more than once`},
		{"duplicate by escape", "", `{` + ok + `,"redirect_\u0075ris":["https://evil.example/cb"]}`, 400, oauthInvalidClientMetadata, "more than once"},

		// Known members of the wrong type.
		{"redirect_uris a string", "", `{"redirect_uris":"https://a.example/cb"}`, 400, oauthInvalidRedirectURI, "redirect_uris must be an array of strings"},
		{"redirect_uris a number inside", "", `{"redirect_uris":["https://a.example/cb",1]}`, 400, oauthInvalidRedirectURI, "redirect_uris[1] must be a string"},
		{"redirect_uris an object", "", `{"redirect_uris":{"0":"https://a.example/cb"}}`, 400, oauthInvalidRedirectURI, "redirect_uris must be an array of strings"},
		{"client_name a number", "", `{` + ok + `,"client_name":5}`, 400, oauthInvalidClientMetadata, "client_name must be a string"},
		{"client_uri an object", "", `{` + ok + `,"client_uri":{}}`, 400, oauthInvalidClientMetadata, "client_uri must be a string"},
		{"logo_uri an array", "", `{` + ok + `,"logo_uri":["https://a.example/l.png"]}`, 400, oauthInvalidClientMetadata, "logo_uri must be a string"},
		{"grant_types a string", "", `{` + ok + `,"grant_types":"authorization_code"}`, 400, oauthInvalidClientMetadata, "grant_types must be an array of strings"},
		{"response_types a bool inside", "", `{` + ok + `,"response_types":[true]}`, 400, oauthInvalidClientMetadata, "response_types[0] must be a string"},
		{"auth method a bool", "", `{` + ok + `,"token_endpoint_auth_method":true}`, 400, oauthInvalidClientMetadata, "token_endpoint_auth_method must be a string"},

		// Redirect URIs.
		{"no redirect_uris", "", `{"client_name":"x"}`, 400, oauthInvalidRedirectURI, "redirect_uris is required"},
		{"null redirect_uris", "", `{"redirect_uris":null}`, 400, oauthInvalidRedirectURI, "redirect_uris is required"},
		{"empty redirect_uris", "", `{"redirect_uris":[]}`, 400, oauthInvalidRedirectURI, "redirect_uris is required"},
		{"21 redirect_uris", "", `{"redirect_uris":[` + repeatJSON(`"https://a.example/cb"`, 21) + `]}`, 400, oauthInvalidRedirectURI, "at most 20"},
		{"fragment", "", `{"redirect_uris":["https://a.example/cb","https://a.example/cb#x"]}`, 400, oauthInvalidRedirectURI, "redirect_uris[1] must not have a fragment"},
		{"javascript", "", `{"redirect_uris":["javascript:alert(1)"]}`, 400, oauthInvalidRedirectURI, "redirect_uris[0] must use https"},
		{"plain http", "", `{"redirect_uris":["http://example.com/cb"]}`, 400, oauthInvalidRedirectURI, "redirect_uris[0] http is allowed only on a loopback"},
		{"empty URI", "", `{"redirect_uris":[""]}`, 400, oauthInvalidRedirectURI, "redirect_uris[0] is empty"},
		{"null URI", "", `{"redirect_uris":[null]}`, 400, oauthInvalidRedirectURI, "redirect_uris[0] is empty"},
		{"wildcard", "", `{"redirect_uris":["https://*.example.com/cb"]}`, 400, oauthInvalidRedirectURI, "wildcards"},
		{"user info", "", `{"redirect_uris":["https://a@b.example/cb"]}`, 400, oauthInvalidRedirectURI, "user info"},
		{"scheme without a dot", "", `{"redirect_uris":["myapp:/cb"]}`, 400, oauthInvalidRedirectURI, "redirect_uris[0] must use https"},
		{"escaped control character", "", `{"redirect_uris":["https://a.example/cb\u0000"]}`, 400, oauthInvalidRedirectURI, "control characters"},

		// Other metadata.
		{"name too long", "", `{` + ok + `,"client_name":"` + strings.Repeat("a", 201) + `"}`, 400, oauthInvalidClientMetadata, "client_name must be at most 200 characters"},
		{"name with a newline", "", `{` + ok + `,"client_name":"a\nb"}`, 400, oauthInvalidClientMetadata, "client_name must not contain control"},
		{"name with a bidi override", "", `{` + ok + `,"client_name":"Claude \u202eedoC"}`, 400, oauthInvalidClientMetadata, "client_name must not contain control"},
		{"client_uri http", "", `{` + ok + `,"client_uri":"http://a.example"}`, 400, oauthInvalidClientMetadata, "client_uri must be an https URL"},
		{"client_uri relative", "", `{` + ok + `,"client_uri":"/about"}`, 400, oauthInvalidClientMetadata, "client_uri must be an https URL"},
		{"client_uri with user info", "", `{` + ok + `,"client_uri":"https://u:p@a.example"}`, 400, oauthInvalidClientMetadata, "client_uri must be an https URL"},
		{"client_uri too long", "", `{` + ok + `,"client_uri":"https://a.example/` + strings.Repeat("a", 2048) + `"}`, 400, oauthInvalidClientMetadata, "client_uri must be at most 2048 bytes"},
		{"logo_uri javascript", "", `{` + ok + `,"logo_uri":"javascript:alert(1)"}`, 400, oauthInvalidClientMetadata, "logo_uri must be an https URL"},
		{"logo_uri with a space", "", `{` + ok + `,"logo_uri":"https://a.example/a b.png"}`, 400, oauthInvalidClientMetadata, "logo_uri must not contain spaces"},
		{"client credentials grant", "", `{` + ok + `,"grant_types":["authorization_code","client_credentials"]}`, 400, oauthInvalidClientMetadata, "grant_types may hold only authorization_code and refresh_token"},
		{"implicit grant", "", `{` + ok + `,"grant_types":["implicit"]}`, 400, oauthInvalidClientMetadata, "grant_types may hold only"},
		{"refresh grant alone", "", `{` + ok + `,"grant_types":["refresh_token"]}`, 400, oauthInvalidClientMetadata, "grant_types must include authorization_code"},
		{"no grant types", "", `{` + ok + `,"grant_types":[]}`, 400, oauthInvalidClientMetadata, "grant_types must include authorization_code"},
		{"token response", "", `{` + ok + `,"response_types":["code","token"]}`, 400, oauthInvalidClientMetadata, "response_types may hold only code"},
		{"no response types", "", `{` + ok + `,"response_types":[]}`, 400, oauthInvalidClientMetadata, "response_types must include code"},
		{"private_key_jwt", "", `{` + ok + `,"token_endpoint_auth_method":"private_key_jwt"}`, 400, oauthInvalidClientMetadata, "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post"},
		{"empty auth method", "", `{` + ok + `,"token_endpoint_auth_method":""}`, 400, oauthInvalidClientMetadata, "token_endpoint_auth_method must be"},
		{"auth method in another case", "", `{` + ok + `,"token_endpoint_auth_method":"None"}`, 400, oauthInvalidClientMetadata, "token_endpoint_auth_method must be"},
	}
	a := newRegisterApp(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := tt.contentType
			switch ct {
			case "":
				ct = echo.MIMEApplicationJSON
			case "-":
				ct = ""
			}
			rec := a.post(t, "", ct, tt.body)
			assertOAuthError(t, rec, tt.status, tt.code, tt.desc)
			if cc := rec.Header().Get(echo.HeaderCacheControl); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
	if n := a.clientCount(t); n != 0 {
		t.Errorf("%d clients stored by refused requests", n)
	}
}

// TestRegisterBodyOfUnknownLength sends an oversized body without a
// Content-Length, which only reading can find too long.
func TestRegisterBodyOfUnknownLength(t *testing.T) {
	a := newRegisterApp(t)
	body := padTo(`{"redirect_uris":["https://a.example/cb"],"pad":"`, `"}`, maxRegistrationBytes+1)
	req := httptest.NewRequest(http.MethodPost, "/oauth/register", struct{ *strings.Reader }{strings.NewReader(body)})
	req.ContentLength = -1
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	assertOAuthError(t, rec, http.StatusRequestEntityTooLarge, oauthInvalidRequest, "at most 16 KiB")
}

func TestRegisterTurnedOff(t *testing.T) {
	a := newRegisterApp(t)
	off := models.DefaultSettings()
	off.RegistrationEnabled = false
	if err := a.store.UpdateSettings(context.Background(), off); err != nil {
		t.Fatal(err)
	}
	rec := a.post(t, "", echo.MIMEApplicationJSON, `{"redirect_uris":["https://a.example/cb"]}`)
	assertOAuthError(t, rec, http.StatusForbidden, oauthAccessDenied, "turned off")
	if n := a.clientCount(t); n != 0 {
		t.Errorf("%d clients stored while registration is off", n)
	}

	if err := a.store.UpdateSettings(context.Background(), models.DefaultSettings()); err != nil {
		t.Fatal(err)
	}
	a.register(t, `{"redirect_uris":["https://a.example/cb"]}`)
}

func TestRegisterRateLimited(t *testing.T) {
	a := newRegisterApp(t)
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	a.reg.Limit = newTestThrottle(a.store, models.RegistrationScopeAddress, 2, 30*time.Second, c)
	const body = `{"redirect_uris":["https://a.example/cb"]}`
	post := func(addr string) *httptest.ResponseRecorder { return a.post(t, addr, echo.MIMEApplicationJSON, body) }

	for i := range 2 {
		if rec := post("192.0.2.1:1000"); rec.Code != http.StatusCreated {
			t.Fatalf("registration %d: status %d, want 201", i+1, rec.Code)
		}
	}
	rec := post("192.0.2.1:2000")
	assertOAuthError(t, rec, http.StatusTooManyRequests, oauthTemporarilyUnavailable, "Too many registrations")
	if ra := rec.Header().Get("Retry-After"); ra != "30" {
		t.Errorf("Retry-After = %q, want 30", ra)
	}
	// Refused before the body is read: a broken one gets the same answer.
	assertOAuthError(t, a.post(t, "192.0.2.1:3000", "text/plain", "x"), http.StatusTooManyRequests, oauthTemporarilyUnavailable, "")

	// Another address has its own allowance; IPv6 counts by /64.
	if rec := post("192.0.2.2:1000"); rec.Code != http.StatusCreated {
		t.Errorf("another address: status %d, want 201", rec.Code)
	}
	for _, addr := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2::ffff]:1"} {
		if rec := post(addr); rec.Code != http.StatusCreated {
			t.Errorf("%s: status %d, want 201", addr, rec.Code)
		}
	}
	assertOAuthError(t, post("[2001:db8:1:2:aaaa::1]:1"), http.StatusTooManyRequests, oauthTemporarilyUnavailable, "")
	if rec := post("[2001:db8:1:3::1]:1"); rec.Code != http.StatusCreated {
		t.Errorf("another /64: status %d, want 201", rec.Code)
	}

	// The window slides: the refusals were not counted, and the first
	// registrations leave it 30 s after they were made.
	c.advance(29 * time.Second)
	if rec := post("192.0.2.1:1000"); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("a second before the window slides: status %d, Retry-After %q; want 429 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	c.advance(time.Second)
	if rec := post("192.0.2.1:1000"); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("as the window slides: status %d, Retry-After %q; want 429 and 1, never 0", rec.Code, rec.Header().Get("Retry-After"))
	}
	c.advance(time.Second)
	if rec := post("192.0.2.1:1000"); rec.Code != http.StatusCreated {
		t.Errorf("after the window: status %d, want 201", rec.Code)
	}
	if n := a.clientCount(t); n != 7 {
		t.Errorf("%d clients stored, want 7", n)
	}
}

// Two Registrations on one database stand for two replicas: of
// registrations sent to both at once from one address, ten pass in all,
// as NewRegistration allows, not ten on each.
func TestRegisterRateLimitSharedByReplicas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	replicas := []*registerApp{newRegisterAppOn(openStoreAt(t, path), nil), newRegisterAppOn(openStoreAt(t, path), nil)}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[int]int{}
	)
	for i := range 30 {
		wg.Go(func() {
			rec := replicas[i%2].post(t, "192.0.2.1:1234", echo.MIMEApplicationJSON, `{"redirect_uris":["https://a.example/cb"]}`)
			mu.Lock()
			defer mu.Unlock()
			counts[rec.Code]++
		})
	}
	wg.Wait()
	if counts[http.StatusCreated] != 10 || counts[http.StatusTooManyRequests] != 20 {
		t.Errorf("answers %v: want 10 registered (201) across both, the other 20 refused (429)", counts)
	}
	if n := replicas[1].clientCount(t); n != 10 {
		t.Errorf("%d clients stored, want 10", n)
	}
}

// A registration that cannot be counted is refused with 503, not let
// through uncounted: the limit fails closed, as sign-in's does.
func TestRegisterWhenTheCountFails(t *testing.T) {
	store := newTestStore(t)
	a := newRegisterAppOn(store, &brokenFailures{Store: store, take: errors.New("database is on fire")})
	rec := a.post(t, "192.0.2.1:1234", echo.MIMEApplicationJSON, `{"redirect_uris":["https://a.example/cb"]}`)
	assertOAuthError(t, rec, http.StatusServiceUnavailable, oauthTemporarilyUnavailable, "cannot take registrations")
	if strings.Contains(rec.Body.String(), "fire") {
		t.Errorf("the answer tells too much: %s", rec.Body)
	}
	if !strings.Contains(a.log.String(), "level=ERROR") || !strings.Contains(a.log.String(), "fire") {
		t.Errorf("log %q: want the store's error at level ERROR", a.log)
	}
	if n := a.clientCount(t); n != 0 {
		t.Errorf("%d clients stored, want none", n)
	}
}

func TestRegisterUniqueClientIDs(t *testing.T) {
	a := newRegisterApp(t)
	seen := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			rec := a.post(t, "", echo.MIMEApplicationJSON, `{"redirect_uris":["https://a.example/cb"]}`)
			var r registered
			if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &r) != nil {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[r.ClientID] {
				t.Errorf("client_id %s issued twice", r.ClientID)
			}
			seen[r.ClientID] = true
		})
	}
	wg.Wait()
	if n := a.clientCount(t); n != 8 {
		t.Errorf("%d clients stored, want 8", n)
	}
}

// fakeRegistrationStore fails where its functions say.
type fakeRegistrationStore struct {
	create   func(ctx context.Context, c *models.OAuthClient) error
	settings func(ctx context.Context) (models.Settings, error)
}

var _ RegistrationStore = (*fakeRegistrationStore)(nil)

func (f *fakeRegistrationStore) CreateOAuthClient(ctx context.Context, c *models.OAuthClient) error {
	return f.create(ctx, c)
}

func (f *fakeRegistrationStore) GetSettings(ctx context.Context) (models.Settings, error) {
	return f.settings(ctx)
}

func TestRegisterStoreFailures(t *testing.T) {
	boom := errors.New("database is on fire")
	defaults := func(context.Context) (models.Settings, error) { return models.DefaultSettings(), nil }
	tests := []struct {
		name  string
		store *fakeRegistrationStore
	}{
		{"settings", &fakeRegistrationStore{settings: func(context.Context) (models.Settings, error) { return models.Settings{}, boom }}},
		{"create", &fakeRegistrationStore{settings: defaults, create: func(context.Context, *models.OAuthClient) error { return boom }}},
		{"conflict", &fakeRegistrationStore{settings: defaults, create: func(context.Context, *models.OAuthClient) error { return models.ErrConflict }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			e := echo.New()
			reg := NewRegistration(tt.store, newTestStore(t), slog.New(slog.NewTextHandler(&log, nil)))
			e.POST("/oauth/register", reg.Register)
			req := httptest.NewRequest(http.MethodPost, "/oauth/register", strings.NewReader(`{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"client_secret_post"}`))
			req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			assertOAuthError(t, rec, http.StatusInternalServerError, oauthServerError, "could not register")
			if strings.Contains(rec.Body.String(), "fire") || strings.Contains(rec.Body.String(), "dbs_") {
				t.Errorf("the answer tells too much: %s", rec.Body)
			}
			if !strings.Contains(log.String(), "level=ERROR") || strings.Contains(log.String(), "dbs_") {
				t.Errorf("log: %s", log.String())
			}
		})
	}
}

// repeatJSON is n copies of item, comma-separated.
func repeatJSON(item string, n int) string {
	return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
}

// padTo returns head, spaces and tail, size bytes in all.
func padTo(head, tail string, size int) string {
	return head + strings.Repeat(" ", size-len(head)-len(tail)) + tail
}

// equalJSON compares a and b as their JSON.
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return bytes.Equal(ja, jb)
}
