package handlers

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// ServerMetadata is the authorization server metadata of RFC 8414, with
// the MCP specification's client ID metadata document flag.
type ServerMetadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint"`
	TokenEndpoint                          string   `json:"token_endpoint"`
	RegistrationEndpoint                   string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                     string   `json:"revocation_endpoint"`
	JWKSURI                                string   `json:"jwks_uri"`
	ScopesSupported                        []string `json:"scopes_supported"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	ResponseModesSupported                 []string `json:"response_modes_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseISSParameter      bool     `json:"authorization_response_iss_parameter_supported"`
	ClientIDMetadataDocumentSupported      bool     `json:"client_id_metadata_document_supported"`
}

var clientAuthMethods = []string{"none", "client_secret_basic", "client_secret_post"}

// ShowMetadata serves the metadata at /.well-known/oauth-authorization-server
// and, for clients that look there, /.well-known/openid-configuration. The
// registration endpoint is left out while registration is turned off, and
// the metadata document flag follows its setting.
func (s *OAuthServer) ShowMetadata(c echo.Context) error {
	m, err := s.Metadata(c.Request().Context(), "")
	if err != nil {
		return err
	}
	return publicJSON(c, m)
}

// Metadata is the authorization server metadata. With a resource, it is
// the document a route host serves to clients of the 2025-03-26 MCP
// revision, which look for it on the MCP server's own origin and send no
// resource indicator: its authorization endpoint carries the route's
// resource for them.
func (s *OAuthServer) Metadata(ctx context.Context, resource string) (*ServerMetadata, error) {
	settings, err := s.Store.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	m := &ServerMetadata{
		Issuer:                                 s.IssuerURL,
		AuthorizationEndpoint:                  s.endpoint("/oauth/authorize"),
		TokenEndpoint:                          s.endpoint("/oauth/token"),
		RevocationEndpoint:                     s.endpoint("/oauth/revoke"),
		JWKSURI:                                s.endpoint("/.well-known/jwks.json"),
		ScopesSupported:                        supportedScopes,
		ResponseTypesSupported:                 []string{"code"},
		ResponseModesSupported:                 []string{"query"},
		GrantTypesSupported:                    []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported:      clientAuthMethods,
		RevocationEndpointAuthMethodsSupported: clientAuthMethods,
		CodeChallengeMethodsSupported:          []string{"S256"},
		AuthorizationResponseISSParameter:      true,
		ClientIDMetadataDocumentSupported:      settings.MetadataDocumentsEnabled && s.MetadataClients != nil,
	}
	if resource != "" {
		m.AuthorizationEndpoint += "?" + url.Values{"resource": {resource}}.Encode()
	}
	if settings.RegistrationEnabled {
		m.RegistrationEndpoint = s.endpoint("/oauth/register")
	}
	return m, nil
}

// ShowJWKS serves the public keys that verify what Drawbridge signs, the
// current key and those kept while tokens they signed may still be live.
func (s *OAuthServer) ShowJWKS(c echo.Context) error {
	body, err := s.Keys.Load().JWKS()
	if err != nil {
		return err
	}
	setPublicCORS(c)
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
	return c.Blob(http.StatusOK, "application/jwk-set+json", body)
}

// publicJSON sends discovery documents: readable from any origin (browser
// based MCP clients such as the Inspector fetch them), briefly cacheable.
func publicJSON(c echo.Context, v any) error {
	setPublicCORS(c)
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=60")
	return c.JSON(http.StatusOK, v)
}

// setPublicCORS lets any origin read a response that carries no
// credentials and depends on none.
func setPublicCORS(c echo.Context) {
	h := c.Response().Header()
	h.Set(echo.HeaderAccessControlAllowOrigin, "*")
	h.Set(echo.HeaderAccessControlAllowHeaders, "Authorization, Content-Type, MCP-Protocol-Version")
	h.Set(echo.HeaderAccessControlAllowMethods, "GET, POST, OPTIONS")
}
