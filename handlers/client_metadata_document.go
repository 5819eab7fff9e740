package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/drawbridge/drawbridge/models"
)

// parseClientMetadata reads a client ID metadata document fetched from
// clientID into the client to store, or says everything wrong with it.
// It is strict about what it reads: one JSON object, no duplicate keys,
// each known field of its type; unknown fields are ignored.
func parseClientMetadata(data []byte, clientID string) (*models.OAuthClient, error) {
	fields, err := decodeMetadataObject(data)
	if err != nil {
		return nil, err
	}
	r := &metadataReader{fields: fields}
	c := &models.OAuthClient{
		ClientID:                clientID,
		TokenEndpointAuthMethod: models.AuthMethodNone,
		Source:                  models.ClientSourceMetadataDocument,
	}

	id, ok := r.str("client_id")
	switch {
	case !r.has("client_id"):
		r.fail("client_id is missing")
	case ok && id != clientID:
		r.fail(fmt.Sprintf("client_id in the document is %s, not the URL it was fetched from", metadataQuote(id)))
	}
	for _, secret := range []string{"client_secret", "client_secret_expires_at"} {
		if r.has(secret) {
			r.fail("it must not contain " + secret + ": a document anyone can fetch cannot hold a secret")
		}
	}

	uris, ok := r.strs("redirect_uris")
	switch {
	case !r.has("redirect_uris"):
		r.fail("redirect_uris is missing")
	case ok && len(uris) == 0:
		r.fail("redirect_uris must list at least one URI")
	case ok && len(uris) > 20:
		r.fail("redirect_uris must list at most 20 URIs")
	}
	for _, u := range uris {
		if err := CheckRedirectURI(u); err != nil {
			r.fail(fmt.Sprintf("redirect URI %s %s", metadataQuote(u), err))
		}
	}
	c.RedirectURIs = uris

	c.GrantTypes = []string{models.GrantAuthorizationCode, models.GrantRefreshToken}
	if grants, ok := r.strs("grant_types"); ok {
		c.GrantTypes = r.grantTypes(grants)
	}
	if types, ok := r.strs("response_types"); ok {
		if len(types) == 0 {
			r.fail("response_types must list code")
		}
		for _, t := range types {
			if t != "code" {
				r.fail(fmt.Sprintf(`response_types may list only "code", not %s`, metadataQuote(t)))
			}
		}
	}
	if m, ok := r.str("token_endpoint_auth_method"); ok {
		switch m {
		case models.AuthMethodNone:
		case "private_key_jwt":
			r.fail(`token_endpoint_auth_method "private_key_jwt" is not supported: this server accepts only public clients ("none") through metadata documents`)
		case models.AuthMethodClientSecretBasic, models.AuthMethodClientSecretPost, "client_secret_jwt":
			r.fail(fmt.Sprintf(`token_endpoint_auth_method %q needs a client secret, which a metadata document cannot carry; use "none"`, m))
		default:
			r.fail(fmt.Sprintf(`token_endpoint_auth_method must be "none", not %s`, metadataQuote(m)))
		}
	}

	name, _ := r.str("client_name")
	c.Name = cleanMetadataClientName(name)
	c.ClientURI, _ = r.str("client_uri")
	c.LogoURI, _ = r.str("logo_uri")
	if len(c.ClientURI) > maxMetadataURILen {
		r.fail("client_uri must be at most 2048 bytes")
	}
	if len(c.LogoURI) > maxMetadataURILen {
		r.fail("logo_uri must be at most 2048 bytes")
	}
	if err := r.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeMetadataObject splits data, which must be exactly one JSON object
// with no key twice, into its fields. Keys are compared as decoded, so
// "client_id" and "client\u005fid" are the same key.
func decodeMetadataObject(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		n := min(len(data), 40)
		return fmt.Errorf("it is not valid JSON (%s); it starts %s", metadataSanitize(err.Error(), 100), metadataQuote(string(data[:n])))
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if tok != json.Delim('{') {
		return nil, errors.New("it must be a JSON object")
	}
	fields := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		key, _ := tok.(string) // the decoder allows nothing else here
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err)
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("it has the field %s twice", metadataQuote(key))
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("it has more after the JSON object")
	}
	return fields, nil
}

// metadataReader reads typed fields of a document, collecting problems.
type metadataReader struct {
	fields   map[string]json.RawMessage
	problems []string
}

func (r *metadataReader) has(name string) bool { _, ok := r.fields[name]; return ok }

func (r *metadataReader) fail(problem string) { r.problems = append(r.problems, problem) }

// str returns the string field name and true, or false when it is
// absent or (reported) not a string.
func (r *metadataReader) str(name string) (string, bool) {
	raw, ok := r.fields[name]
	if !ok {
		return "", false
	}
	var s string
	if !metadataJSONKind(raw, '"') || json.Unmarshal(raw, &s) != nil {
		r.fail(name + " must be a string")
		return "", false
	}
	return s, true
}

// strs returns the array-of-strings field name and true, or false when
// it is absent or (reported) not an array of strings.
func (r *metadataReader) strs(name string) ([]string, bool) {
	raw, ok := r.fields[name]
	if !ok {
		return nil, false
	}
	var elems []json.RawMessage
	if !metadataJSONKind(raw, '[') || json.Unmarshal(raw, &elems) != nil {
		r.fail(name + " must be an array of strings")
		return nil, false
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if !metadataJSONKind(e, '"') || json.Unmarshal(e, &out[i]) != nil {
			r.fail(fmt.Sprintf("%s[%d] must be a string", name, i))
			return nil, false
		}
	}
	return out, true
}

// grantTypes checks the grant types a document lists, without repeats.
func (r *metadataReader) grantTypes(grants []string) []string {
	var out []string
	for _, g := range grants {
		switch {
		case g != models.GrantAuthorizationCode && g != models.GrantRefreshToken:
			r.fail(fmt.Sprintf("grant_types may list only %s and %s, not %s",
				models.GrantAuthorizationCode, models.GrantRefreshToken, metadataQuote(g)))
		case !slices.Contains(out, g):
			out = append(out, g)
		}
	}
	if !slices.Contains(grants, models.GrantAuthorizationCode) {
		r.fail("grant_types must include " + models.GrantAuthorizationCode)
	}
	return out
}

// metadataJSONKind reports whether the JSON value raw starts with first: '"' for
// a string, '[' for an array. Unmarshal would take null for either.
func metadataJSONKind(raw json.RawMessage, first byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == first
}

func (r *metadataReader) err() error {
	p := r.problems
	if len(p) == 0 {
		return nil
	}
	if len(p) > maxMetadataProblems {
		p = append(p[:maxMetadataProblems:maxMetadataProblems], fmt.Sprintf("and %d more problems", len(p)-maxMetadataProblems))
	}
	return errors.New(strings.Join(p, "; "))
}

// cleanMetadataClientName makes a document's client_name fit to show on a
// consent page: no control or formatting characters (which could reorder
// the text around it), trimmed, at most 200 characters.
func cleanMetadataClientName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r):
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 200 {
		s = strings.TrimSpace(string(r[:200]))
	}
	return s
}

// metadataQuote quotes at most 80 bytes of untrusted s, in ASCII, for an
// error message.
func metadataQuote(s string) string {
	if len(s) > 80 {
		return strconv.QuoteToASCII(metadataTruncate(s, 80)) + "…"
	}
	return strconv.QuoteToASCII(s)
}

// metadataSanitize keeps at most n bytes of s, printable ASCII only.
func metadataSanitize(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, metadataTruncate(s, n))
	return s
}

// metadataTruncate cuts s to at most n bytes, at a character boundary.
func metadataTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
