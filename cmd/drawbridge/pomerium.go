package main

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/drawbridge/drawbridge/models"
)

// Pomerium's route format, accepted as it is: routes (or policy, its older
// name) with from, to, name, mcp.server.upstream_oauth2, mcp.client and an
// inline policy. What a Pomerium route defines inline becomes a named
// object here, named after the route so that applying the same file
// again updates it:
//
//	mcp.server.upstream_oauth2          upstream app  <route-slug>-oauth
//	policy                              policy        <route-slug>-policy
//	allow_any_authenticated_user: true  policy        <route-slug>-any-user
//
// Settings Drawbridge does not have are ignored with a warning when
// leaving them out lets nobody in who would have been kept out, and
// refused when it would change who gets in (pomerium_keys.go).

// anyUserPolicy is allow_any_authenticated_user as a policy.
const anyUserPolicy = `# Pomerium's allow_any_authenticated_user: true
allow:
  and:
    - authenticated_user: true
`

// addInline turns what route r defines inline into apps and policies of
// the bundle, and refers r to them.
func (d *declFile) addInline(r *models.BundleRoute, route *objectPos, inl routeInline) {
	base := slugify(r.Name, 64-len("-any-user"))
	if inl.app != nil {
		name := base + "-oauth"
		d.readInlineApp(inl.app, name, route)
		r.App = name
	}
	if inl.policy != nil {
		name := base + "-policy"
		obj := &objectPos{at: at(inl.policy), label: fmt.Sprintf("policy %q (%s's policy)", name, route.label),
			fields: map[string]pos{"source": at(inl.policy)}}
		if n := deref(inl.policy); n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode {
			d.fieldProblem(obj, "source", at(n), "policy must hold allow and/or deny rules, not %s", kindName(n))
		} else {
			d.setInline(obj, n)
		}
		d.addPolicy(models.Policy{Name: name, Description: "The policy of route " + r.Name + ", imported from Pomerium's format."}, obj)
		r.PolicyNames = append(r.PolicyNames, name)
	}
	if inl.anyUser != nil {
		name := base + "-any-user"
		obj := &objectPos{at: at(inl.anyUser), label: fmt.Sprintf("policy %q (%s's allow_any_authenticated_user)", name, route.label),
			fields: map[string]pos{}, source: &policySource{text: anyUserPolicy, whole: at(inl.anyUser)}}
		d.addPolicy(models.Policy{Name: name, Description: "Any signed-in user may use route " + r.Name + "."}, obj)
		r.PolicyNames = append(r.PolicyNames, name)
	}
}

// readInlineApp reads mcp.server.upstream_oauth2 as an upstream app.
func (d *declFile) readInlineApp(n *yaml.Node, name string, route *objectPos) {
	obj := &objectPos{at: at(n), label: fmt.Sprintf("upstream app %q (%s's upstream_oauth2)", name, route.label), fields: map[string]pos{}}
	a := models.UpstreamApp{Name: name}
	defer func() { d.addApp(a, obj) }()
	m := d.readMapping(n, "upstream_oauth2", obj)
	if m == nil {
		return
	}
	for _, k := range m.keys {
		v := m.vals[k.Value]
		obj.fields[k.Value] = at(k)
		switch k.Value {
		case "client_id":
			a.ClientID = d.str(v, k.Value, obj)
		case "client_secret":
			a.ClientSecret = d.str(v, k.Value, obj)
		case "scopes":
			a.Scopes = d.strList(v, k.Value, obj)
		case "endpoint":
			obj.fields["auth_url"], obj.fields["token_url"] = at(k), at(k)
			em := d.readMapping(v, "upstream_oauth2.endpoint", obj)
			if em == nil {
				continue
			}
			for _, ek := range em.keys {
				ev := em.vals[ek.Value]
				obj.fields[ek.Value] = at(ek)
				switch ek.Value {
				case "auth_url":
					a.AuthURL = d.str(ev, ek.Value, obj)
				case "token_url":
					a.TokenURL = d.str(ev, ek.Value, obj)
				case "auth_style":
					a.AuthStyle = d.authStyle(ev, obj)
				default:
					d.unknownKey(obj, ek, "upstream_oauth2.endpoint", []string{"auth_url", "token_url", "auth_style"})
				}
			}
		default:
			d.unknownKey(obj, k, "upstream_oauth2", []string{"client_id", "client_secret", "scopes", "endpoint"})
		}
	}
	d.needKeys(obj, m, obj.at, "client_id", "endpoint")
}

// authStyle reads an app's auth_style, in Drawbridge's words (auto,
// header, params) or Pomerium's and Go's (in_header, in_params,
// OAUTH2_AUTH_STYLE_IN_PARAMS, …).
func (d *declFile) authStyle(n *yaml.Node, obj *objectPos) string {
	s := strings.ToLower(strings.TrimSpace(d.str(n, "auth_style", obj)))
	s = strings.TrimPrefix(s, "oauth2_auth_style_")
	switch s {
	case "", "auto", "unspecified", "auto_detect":
		return models.AuthStyleAuto
	case "header", "in_header":
		return models.AuthStyleHeader
	case "params", "in_params":
		return models.AuthStyleParams
	}
	return s // the store names the allowed values
}

// readTimeout reads timeout_seconds, or Pomerium's timeout (a duration
// such as 30s), as whole seconds.
func (d *declFile) readTimeout(k, v *yaml.Node, obj *objectPos) int {
	if k.Value == "timeout_seconds" {
		n, _ := d.integer(v, k.Value, obj)
		return int(n)
	}
	s := d.str(v, k.Value, obj)
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 0 {
		d.fieldProblem(obj, "timeout_seconds", at(v), "timeout must be a duration such as 30s or 2m, not %q", s)
		return 0
	}
	return int(math.Ceil(dur.Seconds()))
}

// nameFromURL names a route Pomerium left unnamed after its from: the
// host and path.
func nameFromURL(from string) string {
	u, err := url.Parse(strings.TrimSpace(from))
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Host) + strings.TrimSuffix(u.Path, "/")
}

// slugify makes a policy or app name from a route's: lowercase letters
// and digits, runs of anything else as one "-", at most max bytes.
func slugify(s string, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > max {
		out = strings.TrimRight(out[:max], "-")
	}
	if out == "" {
		return "route"
	}
	return out
}
