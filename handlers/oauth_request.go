package handlers

import (
	"net/url"
	"slices"
	"strings"
)

// Scopes the authorization server grants. "mcp" is the one an access
// token needs; a client that asks for none gets it. Scopes a client asks
// for that are not here are left out of the grant, as RFC 6749 section
// 3.3 allows, rather than failing clients that guess (OpenID scopes, say).
var supportedScopes = []string{"mcp"}

// defaultScope is granted when a client asks for none of supportedScopes.
const defaultScope = "mcp"

// Caps on authorization request parameters. A state longer than this is
// not a CSRF token but an attempt to make us carry something.
const (
	maxStateLen  = 1024
	maxScopeLen  = 1000
	maxVerifier  = 128
	minVerifier  = 43
	challengeLen = 43 // base64url, unpadded, of a SHA-256 digest
)

// authorizeParams are the parameters of an authorization request
// (/oauth/authorize), as the client sent them. The consent form carries
// them again, and they are checked again: nothing in the form is trusted.
type authorizeParams struct {
	ResponseType        string
	ClientID            string
	RedirectURI         string
	State               string
	Scope               string
	CodeChallenge       string
	CodeChallengeMethod string
	Resource            string
}

// authorizeParamNames are the parameters read from a request; every other
// one is ignored, as RFC 6749 says unknown parameters must be.
var authorizeParamNames = []string{
	"response_type", "client_id", "redirect_uri", "state", "scope",
	"code_challenge", "code_challenge_method", "resource",
}

// readAuthorizeParams reads p from v. A parameter sent more than once is
// refused (RFC 6749 section 3.1): two values could be read differently by
// two parts of a system, and we would not know which one the user saw.
func readAuthorizeParams(v url.Values) (authorizeParams, string) {
	for _, name := range authorizeParamNames {
		if name == "resource" && allSame(v[name]) {
			// One resource, said twice: a 2025-03-26 client whose
			// authorization endpoint already carried it, say.
			continue
		}
		if len(v[name]) > 1 {
			if name == "resource" {
				return authorizeParams{}, "send one resource per request: a token here is bound to one MCP server"
			}
			return authorizeParams{}, name + " is sent more than once"
		}
	}
	return authorizeParams{
		ResponseType:        v.Get("response_type"),
		ClientID:            v.Get("client_id"),
		RedirectURI:         v.Get("redirect_uri"),
		State:               v.Get("state"),
		Scope:               v.Get("scope"),
		CodeChallenge:       v.Get("code_challenge"),
		CodeChallengeMethod: v.Get("code_challenge_method"),
		Resource:            v.Get("resource"),
	}, ""
}

// allSame reports whether every value in vs is the same.
func allSame(vs []string) bool {
	for _, v := range vs {
		if v != vs[0] {
			return false
		}
	}
	return true
}

// values are p as form fields, for the consent form to post back.
func (p authorizeParams) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("response_type", p.ResponseType)
	set("client_id", p.ClientID)
	set("redirect_uri", p.RedirectURI)
	set("state", p.State)
	set("scope", p.Scope)
	set("code_challenge", p.CodeChallenge)
	set("code_challenge_method", p.CodeChallengeMethod)
	set("resource", p.Resource)
	return v
}

// checkFlow checks what the client may get wrong once its identity and
// redirect URI are established, and returns the OAuth error to send back
// to it, or nil.
func (p authorizeParams) checkFlow() *OAuthError {
	switch {
	case p.ResponseType == "":
		return oauthErr(oauthInvalidRequest, "response_type is required; use code")
	case p.ResponseType != "code":
		return oauthErr(oauthUnsupportedResponse, "only response_type=code is supported")
	case len(p.State) > maxStateLen:
		return oauthErr(oauthInvalidRequest, "state is longer than 1024 bytes")
	case p.CodeChallenge == "":
		return oauthErr(oauthInvalidRequest, "code_challenge is required: PKCE with S256")
	case p.CodeChallengeMethod != "S256":
		return oauthErr(oauthInvalidRequest, "code_challenge_method must be S256; plain and missing are refused")
	case len(p.CodeChallenge) != challengeLen || strings.Trim(p.CodeChallenge, base64URLChars) != "":
		return oauthErr(oauthInvalidRequest, "code_challenge must be the base64url SHA-256 of the verifier: 43 characters")
	case len(p.Scope) > maxScopeLen:
		return oauthErr(oauthInvalidScope, "scope is longer than 1000 bytes")
	}
	return nil
}

const base64URLChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// grantedScope is the part of requested that this server grants, in its
// own order, or the default scope when that part is empty.
func grantedScope(requested string) string {
	asked := strings.Fields(requested)
	var out []string
	for _, s := range supportedScopes {
		if slices.Contains(asked, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return defaultScope
	}
	return strings.Join(out, " ")
}

// validVerifier reports whether v is a PKCE code verifier as RFC 7636
// section 4.1 defines it: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	return len(v) >= minVerifier && len(v) <= maxVerifier && strings.Trim(v, base64URLChars+".~") == ""
}
