package models

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Upstream app limits.
const (
	maxClientIDLen      = 512
	maxClientSecretLen  = 4096
	maxScopes           = 100
	maxScopeLen         = 256
	maxExtraParams      = 20
	maxExtraParamValLen = 1024
)

// paramNamePattern is the shape of an extra authorization parameter's
// name: plain enough to need no escaping, and never a typo with a space.
var paramNamePattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,64}$`)

// reservedAuthParams are the authorization request parameters the gateway
// sets itself; an app's extra parameters may not override them. Any name
// starting with code_challenge is reserved as well.
var reservedAuthParams = []string{"response_type", "client_id", "redirect_uri", "state", "scope"}

func (a *UpstreamApp) normalize() {
	a.Name = strings.TrimSpace(a.Name)
	a.Preset = strings.TrimSpace(a.Preset)
	a.ClientID = strings.TrimSpace(a.ClientID)
	a.AuthURL = strings.TrimSpace(a.AuthURL)
	a.TokenURL = strings.TrimSpace(a.TokenURL)
	a.RevocationURL = strings.TrimSpace(a.RevocationURL)
	a.AuthStyle = strings.TrimSpace(a.AuthStyle)
	if a.AuthStyle == "" {
		a.AuthStyle = AuthStyleAuto
	}
	scopes := make([]string, 0, len(a.Scopes))
	for _, s := range a.Scopes {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	a.Scopes = scopes
	params := make(map[string]string, len(a.ExtraAuthParams))
	for k, v := range a.ExtraAuthParams {
		params[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	a.ExtraAuthParams = params
}

// checkUpstreamApp normalizes a and reports every problem with it as a
// *ValidationError. creating says whether a client secret is required.
func checkUpstreamApp(a *UpstreamApp, creating bool) error {
	a.normalize()
	var v ValidationError
	validateSlug(&v, "name", a.Name)
	if a.Preset != "" && !slugPattern.MatchString(a.Preset) {
		v.Add("preset", "must be a preset's key, like github")
	}
	switch {
	case a.ClientID == "":
		v.Add("client_id", "is required")
	case len(a.ClientID) > maxClientIDLen:
		v.Add("client_id", fmt.Sprintf("must be at most %d bytes", maxClientIDLen))
	case strings.IndexFunc(a.ClientID, unicode.IsControl) >= 0:
		v.Add("client_id", "must not contain control characters")
	}
	switch {
	case creating && a.ClientSecret == "":
		v.Add("client_secret", "is required")
	case len(a.ClientSecret) > maxClientSecretLen:
		v.Add("client_secret", fmt.Sprintf("must be at most %d bytes", maxClientSecretLen))
	}
	checkProviderURL(&v, "auth_url", &a.AuthURL, true)
	checkProviderURL(&v, "token_url", &a.TokenURL, true)
	checkProviderURL(&v, "revocation_url", &a.RevocationURL, false)
	checkScopes(&v, a.Scopes)
	if a.AuthStyle != AuthStyleAuto && a.AuthStyle != AuthStyleHeader && a.AuthStyle != AuthStyleParams {
		v.Add("auth_style", fmt.Sprintf("must be %s, %s or %s", AuthStyleAuto, AuthStyleHeader, AuthStyleParams))
	}
	checkExtraParams(&v, a.ExtraAuthParams)
	return v.Err()
}

// checkProviderURL checks an OAuth endpoint of the provider, and stores it
// back with its host lowercased. Client credentials and users' tokens
// travel to these URLs, so plain http is allowed only to loopback hosts.
func checkProviderURL(v *ValidationError, field string, raw *string, required bool) {
	if *raw == "" && !required {
		return
	}
	u, msg := parseHTTPURL(*raw)
	switch {
	case msg != "":
		v.Add(field, msg)
	case u.Scheme != "https" && !isLoopbackHost(u.Hostname()):
		v.Add(field, "must use https (plain http only for localhost)")
	default:
		*raw = u.String()
	}
}

// checkScopes reports scopes that RFC 6749 §3.3 would not allow: a scope
// is printable ASCII without spaces, quotes or backslashes.
func checkScopes(v *ValidationError, scopes []string) {
	if len(scopes) > maxScopes {
		v.Add("scopes", fmt.Sprintf("must be at most %d", maxScopes))
		return
	}
	for _, s := range scopes {
		ok := len(s) <= maxScopeLen
		for i := 0; ok && i < len(s); i++ {
			c := s[i]
			ok = c == 0x21 || c >= 0x23 && c <= 0x5B || c >= 0x5D && c <= 0x7E
		}
		if !ok {
			v.Add("scopes", fmt.Sprintf("must each be printable ASCII without spaces, quotes or backslashes, unlike %q", s))
			return
		}
	}
}

// checkExtraParams reports the first bad extra authorization parameter.
func checkExtraParams(v *ValidationError, params map[string]string) {
	if len(params) > maxExtraParams {
		v.Add("extra_params", fmt.Sprintf("must be at most %d", maxExtraParams))
		return
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		lower := strings.ToLower(k)
		switch {
		case !paramNamePattern.MatchString(k):
			v.Add("extra_params", fmt.Sprintf("have an invalid name %q (letters, digits, . _ ~ - only)", k))
		case slices.Contains(reservedAuthParams, lower) || strings.HasPrefix(lower, "code_challenge"):
			v.Add("extra_params", fmt.Sprintf("must not set %s, which the gateway sets itself", k))
		case len(params[k]) > maxExtraParamValLen:
			v.Add("extra_params", fmt.Sprintf("have a value of %s longer than %d bytes", k, maxExtraParamValLen))
		case strings.IndexFunc(params[k], unicode.IsControl) >= 0:
			v.Add("extra_params", fmt.Sprintf("have a control character in the value of %s", k))
		default:
			continue
		}
		return
	}
}
