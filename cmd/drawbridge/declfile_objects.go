package main

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/drawbridge/drawbridge/models"
)

var (
	appKeys    = []string{"name", "preset", "client_id", "client_secret", "auth_url", "token_url", "revocation_url", "scopes", "auth_style", "extra_params", "pkce"}
	policyKeys = []string{"name", "description", "source", "allow", "deny"}
)

// newObject starts the objectPos of the n-th entry of list, labelled
// `what "name"` once the name is known.
func (d *declFile) newObject(n *yaml.Node, list string, index int) (*objectPos, *mapping) {
	obj := &objectPos{at: at(n), label: fmt.Sprintf("%s[%d]", list, index), fields: map[string]pos{}}
	return obj, d.readMapping(n, obj.label, obj)
}

// peekName reads m's name quietly, for labels; the loop over keys
// reports what is wrong with it.
func peekName(m *mapping) string {
	if v := deref(m.vals["name"]); v != nil && v.Kind == yaml.ScalarNode && !isNull(v) {
		return v.Value
	}
	return ""
}

// readApp reads an entry of upstream_oauth_apps.
func (d *declFile) readApp(n *yaml.Node) {
	obj, m := d.newObject(n, "upstream_oauth_apps", len(d.apps))
	if m == nil {
		return
	}
	a := models.UpstreamApp{Name: peekName(m)}
	if a.Name != "" {
		obj.label = fmt.Sprintf("upstream app %q", a.Name)
	}
	for _, k := range m.keys {
		v := m.vals[k.Value]
		obj.fields[k.Value] = at(k)
		switch k.Value {
		case "name":
			a.Name = d.str(v, k.Value, obj)
		case "preset":
			a.Preset = d.str(v, k.Value, obj)
		case "client_id":
			a.ClientID = d.str(v, k.Value, obj)
		case "client_secret":
			a.ClientSecret = d.str(v, k.Value, obj)
		case "auth_url":
			a.AuthURL = d.str(v, k.Value, obj)
		case "token_url":
			a.TokenURL = d.str(v, k.Value, obj)
		case "revocation_url":
			a.RevocationURL = d.str(v, k.Value, obj)
		case "scopes":
			a.Scopes = d.strList(v, k.Value, obj)
		case "auth_style":
			a.AuthStyle = d.authStyle(v, obj)
		case "extra_params":
			a.ExtraAuthParams = d.strMap(v, k.Value, obj)
		case "pkce":
			a.PKCE, _ = d.boolean(v, k.Value, obj)
		default:
			d.unknownKey(obj, k, "an upstream app", appKeys)
		}
	}
	d.needKeys(obj, m, obj.at, "name")
	d.addApp(a, obj)
}

func (d *declFile) addApp(a models.UpstreamApp, obj *objectPos) {
	d.bundle.Apps = append(d.bundle.Apps, a)
	d.apps = append(d.apps, obj)
}

// readPolicy reads an entry of policies: its rules inline (allow, deny)
// or as text (source).
func (d *declFile) readPolicy(n *yaml.Node) {
	obj, m := d.newObject(n, "policies", len(d.policies))
	if m == nil {
		return
	}
	p := models.Policy{Name: peekName(m)}
	if p.Name != "" {
		obj.label = fmt.Sprintf("policy %q", p.Name)
	}
	body := &yaml.Node{Kind: yaml.MappingNode}
	var source *yaml.Node
	for _, k := range m.keys {
		v := m.vals[k.Value]
		obj.fields[k.Value] = at(k)
		switch k.Value {
		case "name":
			p.Name = d.str(v, k.Value, obj)
		case "description":
			p.Description = d.str(v, k.Value, obj)
		case "source":
			source = k
			if v = deref(v); v.Kind != yaml.ScalarNode || isNull(v) {
				d.fieldProblem(obj, "source", at(v), "source must be the policy's text (source: |, then the rules indented below)")
				continue
			}
			d.envProblem(v, "source", obj)
			obj.source = d.sourcePolicy(v)
		case "allow", "deny":
			if len(body.Content) == 0 {
				body.Line, body.Column = k.Line, k.Column
				obj.fields["source"] = at(k)
			}
			body.Content = append(body.Content, k, v)
		default:
			d.unknownKey(obj, k, "a policy", policyKeys)
		}
	}
	switch {
	case source != nil && len(body.Content) > 0:
		d.fieldProblem(obj, "source", at(source), "give the rules either inline (allow, deny) or as source, not both")
	case len(body.Content) > 0:
		d.setInline(obj, body)
	case source == nil:
		d.fieldProblem(obj, "source", obj.at, "a policy needs its rules: `allow:` and/or `deny:`, or `source: |` with the policy text")
	}
	d.needKeys(obj, m, obj.at, "name")
	d.addPolicy(p, obj)
}

// setInline makes obj's source from body, a policy written as YAML.
func (d *declFile) setInline(obj *objectPos, body *yaml.Node) {
	s, err := inlinePolicy(body)
	if err != nil {
		d.fieldProblem(obj, "source", at(body), "cannot read the policy: %v", err)
		return
	}
	obj.source = s
}

// addPolicy compiles p's source and adds it to the bundle.
func (d *declFile) addPolicy(p models.Policy, obj *objectPos) {
	if obj.source != nil {
		p.Source = obj.source.text
		d.checkPolicy(obj, p.Name)
	}
	d.bundle.Policies = append(d.bundle.Policies, p)
	d.policies = append(d.policies, obj)
}
