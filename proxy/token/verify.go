package token

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// es256Only is the one algorithm Verify lets go-jose accept. Listing it at
// parse time refuses "none", HS256 (the public-key-as-HMAC-secret attack),
// RS*, PS*, other curves and anything else before a key is touched.
var es256Only = []jose.SignatureAlgorithm{jose.ES256}

// errNoRevocationCheck is returned when Verify is called without one: a
// forgotten revocation list must fail closed, not quietly accept.
var errNoRevocationCheck = errors.New("token: verify called without a revocation check")

// VerifierOptions tunes a Verifier. The zero value is the production setup.
type VerifierOptions struct {
	// Leeway is the clock skew tolerated on exp, nbf and iat. Zero means
	// DefaultLeeway, negative means none; values above MaxLeeway are
	// lowered to it.
	Leeway time.Duration
	// CacheSize bounds how many verified tokens are remembered. Zero means
	// DefaultCacheSize; negative turns the cache off.
	CacheSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks access tokens against the keys of a KeySource and one
// issuer. It is safe for concurrent use. When the keys change (a Keyring
// swapped in new ones), a cached token whose key is no longer among them
// is refused like any other token signed with an unknown key.
type Verifier struct {
	keys   KeySource
	issuer string
	leeway time.Duration
	now    func() time.Time
	cache  *verifiedCache // nil: no caching
}

// NewVerifier returns a Verifier accepting tokens signed by keys and naming
// issuer. A nil keys refuses every token.
func NewVerifier(keys KeySource, issuer string, opts VerifierOptions) *Verifier {
	if keys == nil {
		keys = (*KeySet)(nil)
	}
	v := &Verifier{keys: keys, issuer: issuer, leeway: opts.Leeway, now: opts.Now}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0:
		v.leeway = 0
	case v.leeway > MaxLeeway:
		v.leeway = MaxLeeway
	}
	if v.now == nil {
		v.now = time.Now
	}
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	v.cache = newVerifiedCache(size)
	return v
}

// Verify checks raw as an access token for resource (the route URL, spelled
// exactly as when the token was issued) and returns its claims. revoked is
// asked about the token's jti on every call, cached or not; it must not be
// nil. Every refusal wraps one of the package's Err* values.
func (v *Verifier) Verify(raw, resource string, revoked func(jti string) bool) (*Claims, error) {
	return v.VerifyFor(raw, resource, nil, revoked)
}

// VerifyFor is Verify for a resource that also accepts tokens issued for
// other audiences: those for which also reports true. A route serving an
// MCP server accepts so the tokens Drawbridge hands to the apps behind
// its mcp_client routes. also may be nil.
func (v *Verifier) VerifyFor(raw, resource string, also func(aud string) bool, revoked func(jti string) bool) (*Claims, error) {
	if revoked == nil {
		return nil, errNoRevocationCheck
	}
	if raw == "" || len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: empty or longer than %d bytes", ErrMalformed, MaxTokenSize)
	}
	now := v.now()
	var e *cacheEntry
	if v.cache != nil {
		e = v.cache.get(raw, now)
	}
	// A token verified under a key that has since been dropped (a
	// rotation with --drop-old) is checked again, and refused.
	if e != nil && v.keys.Load().publicKey(e.kid) == nil {
		e = nil
	}
	if e == nil {
		claims, kid, err := v.verifySigned(raw)
		if err != nil {
			return nil, err
		}
		e = &cacheEntry{raw: raw, kid: kid, claims: claims, until: claims.ExpiresAt.Add(v.leeway)}
		// Only tokens that can still pass are worth remembering; the
		// per-call checks below decide the rest.
		if v.cache != nil && now.Before(e.until) {
			v.cache.put(e, now)
		}
	}
	if err := v.checkPerCall(&e.claims, resource, also, now); err != nil {
		return nil, err
	}
	if revoked(e.claims.ID) {
		return nil, ErrRevoked
	}
	c := e.claims // a copy: callers must not be able to change the cache
	return &c, nil
}

// Inspect checks raw's signature and issuer, and nothing that depends on
// the clock, the resource or revocation, and returns its claims. The
// revocation endpoint uses it to learn which token it is asked to revoke,
// expired or not: a token we did not sign is never looked up.
func (v *Verifier) Inspect(raw string) (*Claims, error) {
	if raw == "" || len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: empty or longer than %d bytes", ErrMalformed, MaxTokenSize)
	}
	c, _, err := v.verifySigned(raw)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// verifySigned does the expensive, time-independent part: parse, check the
// header, verify the signature, decode and shape-check the claims, and
// match the issuer. It returns the claims and the kid that verified them.
func (v *Verifier) verifySigned(raw string) (Claims, string, error) {
	jws, err := jose.ParseSignedCompact(raw, es256Only)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return Claims{}, "", fmt.Errorf("%w: algorithm is not ES256", ErrSignature)
		}
		return Claims{}, "", fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	if len(jws.Signatures) != 1 {
		return Claims{}, "", fmt.Errorf("%w: want exactly one signature", ErrMalformed)
	}
	// Only the protected header counts: it is what the signature covers.
	h := jws.Signatures[0].Protected
	if h.Algorithm != string(jose.ES256) {
		return Claims{}, "", fmt.Errorf("%w: algorithm is not ES256", ErrSignature)
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !isAccessTokenType(typ) {
		return Claims{}, "", fmt.Errorf("%w: typ is not %s", ErrMalformed, accessTokenType)
	}
	pub := v.keys.find(h.KeyID)
	if pub == nil {
		return Claims{}, "", fmt.Errorf("%w: unknown key id", ErrSignature)
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return Claims{}, "", fmt.Errorf("%w: signature does not verify", ErrSignature)
	}
	var w wireClaims
	if err := json.Unmarshal(payload, &w); err != nil {
		return Claims{}, "", fmt.Errorf("%w: claims are not a JSON object of the expected types", ErrMalformed)
	}
	switch {
	case w.Subject == "" || w.Audience == "" || w.ClientID == "":
		return Claims{}, "", fmt.Errorf("%w: sub, aud or client_id missing", ErrMalformed)
	case len(w.ID) < 16:
		return Claims{}, "", fmt.Errorf("%w: jti missing or too short", ErrMalformed)
	case w.IssuedAt <= 0 || w.NotBefore <= 0 || w.ExpiresAt <= 0:
		return Claims{}, "", fmt.Errorf("%w: iat, nbf or exp missing", ErrMalformed)
	case w.ExpiresAt <= w.IssuedAt || w.ExpiresAt-w.IssuedAt > int64(MaxTTL/time.Second):
		// A lifetime we would never issue: refuse it even when the
		// signature is good, so a key misuse cannot mint long-lived tokens.
		return Claims{}, "", fmt.Errorf("%w: lifetime outside (0, %s]", ErrMalformed, MaxTTL)
	case w.Issuer != v.issuer:
		return Claims{}, "", ErrIssuer
	}
	return w.claims(), h.KeyID, nil
}

// checkPerCall does the checks that depend on the clock or the request and
// so run even for cached tokens.
func (v *Verifier) checkPerCall(c *Claims, resource string, also func(string) bool, now time.Time) error {
	switch {
	case !now.Before(c.ExpiresAt.Add(v.leeway)):
		return fmt.Errorf("%w at %s", ErrExpired, c.ExpiresAt.UTC().Format(time.RFC3339))
	case now.Add(v.leeway).Before(c.NotBefore):
		return fmt.Errorf("%w before %s", ErrNotYetValid, c.NotBefore.UTC().Format(time.RFC3339))
	case now.Add(v.leeway).Before(c.IssuedAt):
		return fmt.Errorf("%w: issued in the future", ErrNotYetValid)
	case c.Audience != resource && (also == nil || !also(c.Audience)):
		return ErrAudience
	}
	return nil
}

// isAccessTokenType accepts "at+jwt" and its full media type, ignoring case
// as media types do (RFC 9068 section 2.1, RFC 7515 section 4.1.9).
func isAccessTokenType(typ string) bool {
	return strings.EqualFold(typ, accessTokenType) || strings.EqualFold(typ, "application/"+accessTokenType)
}
