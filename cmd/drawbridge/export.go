package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drawbridge/drawbridge/models"
)

const exportUsage = `Usage: drawbridge export [-o FILE] [--config FILE | --data-dir DIR]

Writes the upstream apps, policies and routes as a declarative file that
'drawbridge apply -f' reads back. Client secrets are never written: each app
gets a ${UPSTREAM_<NAME>_CLIENT_SECRET} reference instead, and the variables
to set are listed on stderr.

Flags:
`

// exportHeader opens every exported file.
const exportHeader = "Drawbridge's upstream OAuth apps, policies and routes, as `drawbridge export` wrote them.\n" +
	"Apply with `drawbridge apply -f FILE`, with the variables named in client_secret set."

// exportCommand is `drawbridge export`.
func exportCommand(ctx context.Context, args []string, env environment, sio stdio) error {
	var f configFlags
	fs := newFlagSet("export", sio.err)
	fs.Usage = func() { fmt.Fprint(fs.Output(), exportUsage); fs.PrintDefaults() }
	f.register(fs)
	out := fs.String("o", "", "write to `file` (mode 0600) instead of stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b, err := openBackend(ctx, f, env, sio.err)
	if err != nil {
		return err
	}
	defer b.Close()
	text, vars, err := exportFile(ctx, b.store)
	if err != nil {
		return err
	}
	if *out == "" {
		if _, err := sio.out.Write(text); err != nil {
			return err
		}
	} else if err := writePrivate(*out, text); err != nil {
		return err
	}
	if len(vars) > 0 {
		fmt.Fprintf(sio.err, "Client secrets are not exported. Before applying, set: %s\n", strings.Join(vars, " "))
	}
	return nil
}

// writePrivate writes path with mode 0600, whatever mode it had.
func writePrivate(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("export: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// exportFile renders the store's apps, policies and routes, each sorted
// by name, and returns the environment variables its secrets refer to.
func exportFile(ctx context.Context, store *models.Store) ([]byte, []string, error) {
	apps, err := store.AllUpstreamApps(ctx)
	if err != nil {
		return nil, nil, err
	}
	policies, err := store.AllPolicies(ctx)
	if err != nil {
		return nil, nil, err
	}
	routes, _, err := store.ListRoutes(ctx, models.RouteFilter{})
	if err != nil {
		return nil, nil, err
	}
	root := &yaml.Node{Kind: yaml.MappingNode, HeadComment: exportHeader}
	var vars []string
	appList := yamlList(false)
	for _, a := range apps {
		v := secretVar(a.Name, vars)
		vars = append(vars, v)
		appList.Content = append(appList.Content, exportApp(a, v))
	}
	policyList := yamlList(false)
	for _, p := range policies {
		m := yamlMap("name", yamlStr(p.Name))
		if p.Description != "" {
			yamlAdd(m, "description", yamlStr(p.Description))
		}
		src := yamlStr(p.Source)
		src.Style = yaml.LiteralStyle
		yamlAdd(m, "source", src)
		policyList.Content = append(policyList.Content, m)
	}
	routeList := yamlList(false)
	for _, r := range routes {
		routeList.Content = append(routeList.Content, exportRoute(r))
	}
	for _, l := range []*yaml.Node{appList, policyList, routeList} {
		if len(l.Content) == 0 {
			l.Style = yaml.FlowStyle
		}
	}
	yamlAdd(root, "upstream_oauth_apps", appList)
	yamlAdd(root, "policies", policyList)
	yamlAdd(root, "routes", routeList)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, nil, fmt.Errorf("export: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, nil, fmt.Errorf("export: %w", err)
	}
	return buf.Bytes(), vars, nil
}

func exportApp(a models.UpstreamApp, secretVar string) *yaml.Node {
	m := yamlMap("name", yamlStr(a.Name))
	if a.Preset != "" {
		yamlAdd(m, "preset", yamlStr(a.Preset))
	}
	yamlAdd(m, "client_id", yamlStr(a.ClientID))
	// The one value not escaped: it is meant to be expanded.
	yamlAdd(m, "client_secret", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "${" + secretVar + "}"})
	yamlAdd(m, "auth_url", yamlStr(a.AuthURL))
	yamlAdd(m, "token_url", yamlStr(a.TokenURL))
	if a.RevocationURL != "" {
		yamlAdd(m, "revocation_url", yamlStr(a.RevocationURL))
	}
	if len(a.Scopes) > 0 {
		scopes := yamlList(true)
		for _, s := range a.Scopes {
			scopes.Content = append(scopes.Content, yamlStr(s))
		}
		yamlAdd(m, "scopes", scopes)
	}
	if a.AuthStyle != "" && a.AuthStyle != models.AuthStyleAuto {
		yamlAdd(m, "auth_style", yamlStr(a.AuthStyle))
	}
	if len(a.ExtraAuthParams) > 0 {
		params := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, len(a.ExtraAuthParams))
		for k := range a.ExtraAuthParams {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			yamlAdd(params, k, yamlStr(a.ExtraAuthParams[k]))
		}
		yamlAdd(m, "extra_params", params)
	}
	if a.PKCE {
		yamlAdd(m, "pkce", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	return m
}

func exportRoute(r models.Route) *yaml.Node {
	m := yamlMap("name", yamlStr(r.Name))
	if r.Description != "" {
		yamlAdd(m, "description", yamlStr(r.Description))
	}
	yamlAdd(m, "from", yamlStr(r.From))
	yamlAdd(m, "to", yamlStr(r.To))
	switch r.Kind {
	case models.KindMCPServer:
		server := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		if r.UpstreamApp != nil {
			server.Style = 0
			yamlAdd(server, "upstream_oauth_app", yamlStr(r.UpstreamApp.Name))
		}
		yamlAdd(m, "mcp", yamlMap("server", server))
	case models.KindMCPClient:
		mcp := yamlMap("client", &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle})
		if r.PassUpstreamToken {
			yamlAdd(mcp, "pass_upstream_access_token", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		}
		yamlAdd(m, "mcp", mcp)
	}
	names := yamlList(true)
	for _, p := range r.Policies {
		names.Content = append(names.Content, yamlStr(p.Name))
	}
	yamlAdd(m, "policies", names)
	if r.TimeoutSeconds != 0 {
		yamlAdd(m, "timeout_seconds", yamlInt(int64(r.TimeoutSeconds)))
	}
	if r.MaxRequestBytes != 0 {
		yamlAdd(m, "max_request_bytes", yamlInt(r.MaxRequestBytes))
	}
	if !r.Enabled {
		yamlAdd(m, "enabled", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"})
	}
	return m
}

// secretVar names the variable an app's exported secret refers to,
// UPSTREAM_<NAME>_CLIENT_SECRET, unique among taken.
func secretVar(app string, taken []string) string {
	base := "UPSTREAM_" + strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, app))
	v := base + "_CLIENT_SECRET"
	for i := 2; slices.Contains(taken, v); i++ {
		v = base + "_" + strconv.Itoa(i) + "_CLIENT_SECRET"
	}
	return v
}

// YAML node builders. Strings are escaped so that apply reads back
// exactly what was stored, ${ included.

func yamlStr(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: escapeEnv(s)}
}

func yamlInt(n int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(n, 10)}
}

func yamlList(flow bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	return n
}

func yamlMap(key string, value *yaml.Node) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	yamlAdd(m, key, value)
	return m
}

func yamlAdd(m *yaml.Node, key string, value *yaml.Node) {
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, value)
}
