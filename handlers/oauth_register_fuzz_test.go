package handlers

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
)

// FuzzRegistrationRequest feeds the request reader arbitrary bodies. It
// must never panic; what it refuses it refuses as client metadata, in a
// short description that does not echo the body; and what it accepts
// has only valid redirect URIs and is what the store accepts.
func FuzzRegistrationRequest(f *testing.F) {
	for _, seed := range []string{
		`{"redirect_uris":["https://a.example/cb"]}`,
		`{"redirect_uris":["http://127.0.0.1:33418/callback"],"client_name":"Claude Code","token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"]}`,
		`{"redirect_uris":["com.example.app:/cb"],"client_uri":"https://a.example","logo_uri":"https://a.example/l.png","scope":"mcp"}`,
		`{"redirect_uris":["https://a.example/cb"],"redirect_uris":["https://b.example/cb"]}`,
		`{"redirect_uris":["https://a.example/cb#x"]}`,
		`{"redirect_uris":[1]}`,
		`{"redirect_uris":"https://a.example/cb"}`,
		`{"redirect_uris":["https://a.example/cb"],"client_name":"\u202e"}`,
		`{"redirect_uris":["https://a.example/cb"],"x":{"y":[{"z":1,"z":2}]}}`,
		`{"redirect_uris":["https://a.example/cb"]} {}`,
		`[]`, `null`, ``, `{`, `{"a":"\ud800"}`,
		"{\"redirect_uris\":[\"https://a.example/\xff\"]}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/oauth/register", bytes.NewReader(body))
		req.Header.Set(echo.HeaderContentType, "application/json; charset=utf-8")
		read, e := readRegistrationBody(req)
		if len(body) > maxRegistrationBytes {
			if e == nil || e.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("a body of %d bytes was read: %v", len(body), e)
			}
			return
		}
		if e != nil || !bytes.Equal(read, body) {
			t.Fatalf("a body of %d bytes was not read as it is: %v", len(body), e)
		}

		m, e := parseRegistration(body)
		if (m == nil) == (e == nil) {
			t.Fatalf("parseRegistration returned %v and %v", m, e)
		}
		if e != nil {
			if e.Status != http.StatusBadRequest || (e.Code != oauthInvalidClientMetadata && e.Code != oauthInvalidRedirectURI) {
				t.Errorf("refused with %d %s", e.Status, e.Code)
			}
			if e.Description == "" || len(e.Description) > 300 || !utf8.ValidString(e.Description) {
				t.Errorf("description %q: empty, long or not UTF-8", e.Description)
			}
			return
		}

		if n := len(m.RedirectURIs); n == 0 || n > maxRegisteredURIs {
			t.Errorf("accepted %d redirect URIs", n)
		}
		for i, u := range m.RedirectURIs {
			if err := CheckRedirectURI(u); err != nil {
				t.Errorf("accepted redirect_uris[%d] %q: %v", i, u, err)
			}
		}
		if !slices.Contains(m.GrantTypes, models.GrantAuthorizationCode) || !slices.Equal(m.ResponseTypes, []string{"code"}) {
			t.Errorf("accepted grant_types %q, response_types %q", m.GrantTypes, m.ResponseTypes)
		}
		for _, u := range []string{m.ClientURI, m.LogoURI} {
			if u != "" && !strings.HasPrefix(u, "https://") {
				t.Errorf("accepted %q as an https URL", u)
			}
		}
		if strings.ContainsFunc(m.Name, hiddenInName) {
			t.Errorf("accepted client_name %q", m.Name)
		}

		// Whatever the reader accepts, the store must too.
		c := &models.OAuthClient{
			ClientID: clientIDPrefix + "FUZZ", Name: m.Name, ClientURI: m.ClientURI, LogoURI: m.LogoURI,
			RedirectURIs: m.RedirectURIs, GrantTypes: m.GrantTypes, TokenEndpointAuthMethod: m.AuthMethod,
			Source: models.ClientSourceDCR,
		}
		if m.AuthMethod != models.AuthMethodNone {
			c.SecretHash = models.HashToken("secret")
		}
		if err := c.Validate(); err != nil {
			t.Errorf("accepted metadata the store refuses: %v", err)
		}
	})
}
