package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/labstack/echo/v4"

	"github.com/drawbridge/drawbridge/models"
)

// readRegistrationBody returns the body of a JSON request of at most
// maxRegistrationBytes.
func readRegistrationBody(req *http.Request) ([]byte, *OAuthError) {
	mt, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return nil, &OAuthError{Status: http.StatusUnsupportedMediaType, Code: oauthInvalidRequest,
			Description: "Send the client metadata as JSON, with Content-Type: application/json"}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, &OAuthError{Status: http.StatusUnsupportedMediaType, Code: oauthInvalidRequest,
			Description: "Send the client metadata in UTF-8"}
	}
	tooLarge := &OAuthError{Status: http.StatusRequestEntityTooLarge, Code: oauthInvalidRequest,
		Description: fmt.Sprintf("The client metadata must be at most %d KiB", maxRegistrationBytes>>10)}
	if req.ContentLength > maxRegistrationBytes {
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxRegistrationBytes+1))
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge: // echo's own body limit
		return nil, tooLarge
	case err != nil:
		return nil, oauthErr(oauthInvalidRequest, "The request body could not be read")
	case len(body) > maxRegistrationBytes:
		return nil, tooLarge
	}
	return body, nil
}

// registrationRequest holds the client metadata of RFC 7591 section 2
// that Drawbridge reads. Members it does not read (scope, software_id,
// contacts…) are ignored, as the RFC asks; a member it reads must have
// the right type. Pointers and nil slices tell a member left out (or
// null) from one given empty.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod *string  `json:"token_endpoint_auth_method"`
}

// parseRegistration reads body strictly, as one JSON object whose
// member names are not repeated (at any depth) and whose known members
// have their types, then checks and completes the metadata. The JSON
// decoder (go-json-experiment, which becomes encoding/json/v2) matches
// names exactly, refuses duplicates and invalid UTF-8, and reads nothing
// after the object.
func parseRegistration(body []byte) (*clientMetadata, *OAuthError) {
	if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
		return nil, oauthErr(oauthInvalidClientMetadata, "The request body must be one JSON object")
	}
	var req registrationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, jsonProblem(err)
	}
	return checkRegistration(&req)
}

// jsonProblem describes a decoding error without echoing the body.
func jsonProblem(err error) *OAuthError {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		return oauthErr(oauthInvalidClientMetadata, "The request body names "+strconv.Quote(memberPath(syn.JSONPointer))+" more than once")
	case errors.As(err, &syn):
		return oauthErr(oauthInvalidClientMetadata, fmt.Sprintf("The request body is not valid JSON (at byte %d)", syn.ByteOffset))
	case errors.As(err, &sem):
		field := memberPath(sem.JSONPointer)
		want := "a string"
		top, rest, _ := strings.Cut(strings.TrimPrefix(string(sem.JSONPointer), "/"), "/")
		if rest == "" && (top == "redirect_uris" || top == "grant_types" || top == "response_types") {
			want = "an array of strings"
		}
		code := oauthInvalidClientMetadata
		if top == "redirect_uris" {
			code = oauthInvalidRedirectURI
		}
		return oauthErr(code, field+" must be "+want)
	default:
		return oauthErr(oauthInvalidClientMetadata, "The request body could not be read as client metadata")
	}
}

// memberPath spells a JSON pointer as the description of an error does:
// "/redirect_uris/1" is redirect_uris[1]. Long names are cut short.
func memberPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if tok != "" && strings.Trim(tok, "0123456789") == "" {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteString(".")
		}
		b.WriteString(tok)
	}
	s := b.String()
	if len(s) > 100 {
		s = strings.ToValidUTF8(s[:100], "") + "…"
	}
	return s
}

// checkRegistration checks req and fills in RFC 7591's defaults. Redirect
// URIs are checked first, with their own error code.
func checkRegistration(req *registrationRequest) (*clientMetadata, *OAuthError) {
	uriErr := func(msg string) *OAuthError { return oauthErr(oauthInvalidRedirectURI, msg) }
	metaErr := func(msg string) *OAuthError { return oauthErr(oauthInvalidClientMetadata, msg) }
	switch n := len(req.RedirectURIs); {
	case n == 0:
		return nil, uriErr("redirect_uris is required: list the URIs the client receives authorization codes at")
	case n > maxRegisteredURIs:
		return nil, uriErr(fmt.Sprintf("redirect_uris must list at most %d URIs", maxRegisteredURIs))
	}
	for i, u := range req.RedirectURIs {
		if err := CheckRedirectURI(u); err != nil {
			return nil, uriErr(fmt.Sprintf("redirect_uris[%d] %v", i, err))
		}
	}

	m := &clientMetadata{
		RedirectURIs: req.RedirectURIs,
		Name:         strings.TrimSpace(req.ClientName),
		ClientURI:    req.ClientURI,
		LogoURI:      req.LogoURI,
	}
	switch {
	case utf8.RuneCountInString(m.Name) > maxClientNameLen:
		return nil, metaErr(fmt.Sprintf("client_name must be at most %d characters", maxClientNameLen))
	case strings.ContainsFunc(m.Name, hiddenInName):
		return nil, metaErr("client_name must not contain control or formatting characters")
	}
	for _, f := range []struct{ name, value string }{{"client_uri", m.ClientURI}, {"logo_uri", m.LogoURI}} {
		if msg := checkHTTPSURL(f.value); msg != "" {
			return nil, metaErr(f.name + " " + msg)
		}
	}

	var msg string
	if m.GrantTypes, msg = listOf(req.GrantTypes, models.GrantAuthorizationCode, models.GrantRefreshToken); msg != "" {
		return nil, metaErr("grant_types " + msg)
	}
	if m.ResponseTypes, msg = listOf(req.ResponseTypes, "code"); msg != "" {
		return nil, metaErr("response_types " + msg)
	}
	m.AuthMethod = models.AuthMethodClientSecretBasic // RFC 7591 section 2's default
	if req.TokenEndpointAuthMethod != nil {
		m.AuthMethod = *req.TokenEndpointAuthMethod
	}
	switch m.AuthMethod {
	case models.AuthMethodNone, models.AuthMethodClientSecretBasic, models.AuthMethodClientSecretPost:
	default:
		return nil, metaErr("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
	}
	return m, nil
}

// listOf checks given, a list of values from allowed that must hold the
// first of them, and returns it without repeats; an absent list is all
// of allowed, RFC 7591's default for the two lists it reads. On failure
// it returns what is wrong, to follow the member's name.
func listOf(given []string, allowed ...string) ([]string, string) {
	if given == nil {
		return allowed, ""
	}
	var out []string
	for _, v := range given {
		if !slices.Contains(allowed, v) {
			return nil, "may hold only " + strings.Join(allowed, " and ")
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if !slices.Contains(out, allowed[0]) {
		return nil, "must include " + allowed[0]
	}
	return out, ""
}

// hiddenInName reports characters a client name shown on the consent page
// must not hold: controls, and format characters such as bidi overrides
// that would make it read as another name.
func hiddenInName(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// checkHTTPSURL returns what is wrong with raw as a client_uri or
// logo_uri, or "": it is empty or an https URL with a host and no user
// info.
func checkHTTPSURL(raw string) string {
	if raw == "" {
		return ""
	}
	if len(raw) > maxClientURILen {
		return fmt.Sprintf("must be at most %d bytes", maxClientURILen)
	}
	if strings.ContainsFunc(raw, invisibleOrBackslash) {
		return "must not contain spaces, backslashes or control characters"
	}
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(raw, "https://") || u.Hostname() == "" || u.User != nil {
		return "must be an https URL, like https://app.example.com"
	}
	return ""
}
