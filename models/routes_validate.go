package models

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// maxRouteNameChars caps a route's name.
const maxRouteNameChars = 100

// NormalizeFrom checks a route's from, scheme://host[:port][/path-prefix],
// and returns it in the one spelling routes store and match on: scheme and
// host lowercased, IP addresses canonical, a default port dropped, and the
// prefix without a trailing slash (the root is no path at all). The error,
// if any, reads as a form message ("must …").
//
// A prefix is refused unless it is plainly a clean absolute path: no
// percent-encoding, no "." or ".." segments, no "//", only characters that
// need no escaping. Two spellings of one prefix would let a request slip
// past the route meant to match it.
func NormalizeFrom(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, msg := parseHTTPURL(raw)
	switch {
	case msg != "":
		return "", errors.New(msg)
	case u.RawQuery != "" || u.ForceQuery:
		return "", errors.New("must not have a ?query")
	case strings.Contains(raw, "%"):
		return "", errors.New("must not contain percent-encoding")
	}
	host, ok := CanonicalHost(u.Hostname())
	if !ok {
		return "", errors.New("must name a valid host name or IP address")
	}
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", errors.New("must have a port from 1 to 65535")
		}
		if !(u.Scheme == "http" && n == 80) && !(u.Scheme == "https" && n == 443) {
			host += ":" + strconv.Itoa(n)
		}
	}
	prefix, err := normalizePrefix(u.EscapedPath())
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + host + prefix, nil
}

// UnderPrefix reports whether a request path falls under a route prefix,
// as NormalizeFrom spells it: the prefix itself or below it, segment by
// segment (/github serves /github and /github/mcp, never /githubber). The
// root, "", holds every path.
func UnderPrefix(path, prefix string) bool {
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// normalizePrefix checks a from's escaped path and drops its trailing
// slash; the root becomes "".
func normalizePrefix(p string) (string, error) {
	if p == "" || p == "/" {
		return "", nil
	}
	for _, r := range p {
		if !isPathChar(r) {
			return "", fmt.Errorf("must have a path of letters, digits and -._~$&+,;=:@/ only, not %q", r)
		}
	}
	p = strings.TrimSuffix(p, "/")
	for _, seg := range strings.Split(p[1:], "/") {
		switch seg {
		case "":
			return "", errors.New("must not have an empty path segment (//)")
		case ".", "..":
			return "", errors.New("must not have . or .. in its path")
		}
	}
	return p, nil
}

// isPathChar reports whether r may appear in a route prefix: the RFC 3986
// path characters that net/url never escapes, so that a prefix has one
// spelling, escaped or not.
func isPathChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("-._~$&+,;=:@/", r)
}

// normalize trims r's text fields; from and to are normalized while they
// are validated, since that can fail.
func (r *Route) normalize() {
	r.Name = strings.TrimSpace(r.Name)
	r.Description = strings.TrimSpace(r.Description)
	r.Kind = strings.TrimSpace(r.Kind)
}

// routeRefs are the objects a route being written refers to.
type routeRefs struct {
	app      *UpstreamApp
	policies []Policy // ID and Name, in name order
}

// checkRoute normalizes r and reports every problem with it and
// policyIDs as a *ValidationError, looking the references up in w's
// transaction. On success r.From and r.To are normalized and the
// references are returned.
func (w *configTx) checkRoute(r *Route, policyIDs []uint) (routeRefs, error) {
	r.normalize()
	var v ValidationError
	var refs routeRefs
	switch {
	case r.Name == "":
		v.Add("name", "is required")
	default:
		validateMaxChars(&v, "name", r.Name, maxRouteNameChars)
	}
	validateMaxChars(&v, "description", r.Description, maxDescriptionChars)
	if from, err := NormalizeFrom(r.From); err != nil {
		v.Add("from", err.Error())
	} else if host := hostnameOf(from); w.store.reservedHosts[host] {
		v.Add("from", fmt.Sprintf("must not use %s, which the console serves", host))
	} else {
		r.From = from
	}
	if u, msg := parseHTTPURL(strings.TrimSpace(r.To)); msg != "" {
		v.Add("to", msg)
	} else {
		r.To = u.String()
	}
	kindOK := r.Kind == KindMCPServer || r.Kind == KindMCPClient || r.Kind == KindHTTP
	if !kindOK {
		v.Add("kind", fmt.Sprintf("must be %s, %s or %s", KindMCPServer, KindMCPClient, KindHTTP))
	}
	policies, err := w.policiesByID(policyIDs)
	if err != nil {
		return refs, err
	}
	if missing := missingPolicyIDs(policyIDs, policies); len(missing) > 0 {
		v.Add("policies", "include IDs that name no policy: "+joinIDs(missing))
	}
	refs.policies = policies
	if r.UpstreamAppID != nil {
		app, err := findUpstreamApp(w.db, "id = ?", *r.UpstreamAppID)
		switch {
		case errors.Is(err, ErrNotFound):
			v.Add("upstream_app", "does not exist")
		case err != nil:
			return refs, err
		case kindOK && r.Kind != KindMCPServer:
			v.Add("upstream_app", "only mcp_server routes use an upstream app")
		default:
			refs.app = app
		}
	}
	if r.PassUpstreamToken && kindOK && r.Kind != KindMCPClient {
		v.Add("pass_upstream_token", "only mcp_client routes take this setting")
	}
	if r.TimeoutSeconds < 0 || r.TimeoutSeconds > MaxTimeoutSeconds {
		v.Add("timeout_seconds", fmt.Sprintf("must be from 1 to %d seconds, or 0 for the default", MaxTimeoutSeconds))
	}
	if r.MaxRequestBytes < 0 || r.MaxRequestBytes > MaxRequestBytesLimit {
		v.Add("max_request_bytes", fmt.Sprintf("must be at most %d (64 MiB), or 0 for the default of 4 MiB", MaxRequestBytesLimit))
	}
	return refs, v.Err()
}

// hostnameOf returns the host of a normalized from, without its port.
func hostnameOf(from string) string {
	u, err := url.Parse(from)
	if err != nil {
		return ""
	}
	if h, ok := CanonicalHost(u.Hostname()); ok {
		return h
	}
	return u.Hostname()
}

// policiesByID returns the ID and Name of each existing policy in ids, in
// name order.
func (w *configTx) policiesByID(ids []uint) ([]Policy, error) {
	policies := []Policy{}
	if len(ids) == 0 {
		return policies, nil
	}
	err := w.db.Select("id", "name").Where("id IN ?", ids).Order("name").Find(&policies).Error
	return policies, err
}

// missingPolicyIDs returns the IDs in want that found lacks, sorted and
// without repeats.
func missingPolicyIDs(want []uint, found []Policy) []uint {
	var missing []uint
	for _, id := range want {
		if !slices.ContainsFunc(found, func(p Policy) bool { return p.ID == id }) {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	return slices.Compact(missing)
}

// joinIDs lists ids for a message: "3, 7".
func joinIDs(ids []uint) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(parts, ", ")
}

// routeTaken returns a *ConflictError if another route than r has its
// name (ignoring case) or from. The unique indexes are the real guard;
// asking first lets the error name the field.
func routeTaken(tx *gorm.DB, r *Route) error {
	var n int64
	err := tx.Model(&Route{}).Where("lower(name) = ? AND id <> ?", strings.ToLower(r.Name), r.ID).Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return &ConflictError{Field: "name", Message: "is already used by another route"}
	}
	if err := tx.Model(&Route{}).Where("from_url = ? AND id <> ?", r.From, r.ID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return &ConflictError{Field: "from", Message: "is already served by another route"}
	}
	return nil
}
