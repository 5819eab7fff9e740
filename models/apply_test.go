package models

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// testBundle is a small whole configuration: an app, two policies, an
// MCP server route using both and a client route using one.
func testBundle() Bundle {
	return Bundle{
		Apps: []UpstreamApp{*testApp("github")},
		Policies: []Policy{
			{Name: "company-only", Description: "Company people.", Source: testPolicySource},
			{Name: "no-admin", Source: "deny:\n  or:\n    - mcp_tool: {starts_with: admin_}\n"},
		},
		Routes: []BundleRoute{
			{
				Route: Route{Name: "GitHub", From: "http://github.localhost:8080", To: "http://127.0.0.1:9001/mcp",
					Kind: KindMCPServer, TimeoutSeconds: 30, Enabled: true},
				App: "github", PolicyNames: []string{"company-only", "no-admin"},
			},
			{
				Route:       Route{Name: "Chat", From: "http://chat.localhost:8080", To: "http://127.0.0.1:3000", Kind: KindMCPClient, Enabled: true},
				PolicyNames: []string{"company-only"},
			},
		},
	}
}

// planLines renders a plan as "action resource name" strings.
func planLines(p Plan) []string {
	out := make([]string, len(p.Items))
	for i, it := range p.Items {
		out[i] = it.Action + " " + it.Resource + " " + it.Name
	}
	return out
}

func wantPlan(t *testing.T, got Plan, want ...string) {
	t.Helper()
	if lines := planLines(got); !slices.Equal(lines, want) {
		t.Errorf("plan:\n  %s\nwant:\n  %s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestApplyCreatesUpdatesAndLeavesUnchanged(t *testing.T) {
	s := newTestStore(t)
	ctx := WithActor(context.Background(), "apply -f drawbridge.yaml")
	v0 := configVersionOf(t, s)

	plan, err := s.Apply(ctx, testBundle(), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantPlan(t, plan,
		"create upstream_app github", "create policy company-only", "create policy no-admin",
		"create route GitHub", "create route Chat")
	if got := configVersionOf(t, s); got != v0+1 {
		t.Errorf("version %d after apply, want %d: one bump for the whole file", got, v0+1)
	}
	r, err := s.GetRouteByName(ctx, "GitHub")
	if err != nil {
		t.Fatal(err)
	}
	if r.UpstreamApp == nil || r.UpstreamApp.Name != "github" || !slices.Equal(policyNames(r.Policies), []string{"company-only", "no-admin"}) ||
		r.TimeoutSeconds != 30 || r.From != "http://github.localhost:8080" {
		t.Errorf("GitHub route = %+v", r)
	}
	if secret, err := s.UpstreamAppSecret(ctx, r.UpstreamApp.ID); err != nil || secret != "secret-github" {
		t.Errorf("secret = %q, %v", secret, err)
	}
	changes, _, err := s.ListChanges(ctx, ChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 5 {
		t.Errorf("%d history rows, want 5", len(changes))
	}
	for _, c := range changes {
		if c.Actor != "apply -f drawbridge.yaml" {
			t.Errorf("change %s %s recorded by %q", c.Action, c.ResourceName, c.Actor)
		}
	}

	// The same bundle again changes nothing, and so bumps nothing.
	plan, err = s.Apply(ctx, testBundle(), ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantPlan(t, plan,
		"unchanged upstream_app github", "unchanged policy company-only", "unchanged policy no-admin",
		"unchanged route GitHub", "unchanged route Chat")
	if plan.Changed() || configVersionOf(t, s) != v0+1 || changeCount(t, s) != 5 {
		t.Error("a no-op apply wrote something")
	}

	// An empty secret keeps the stored one; edits are updates.
	b := testBundle()
	b.Apps[0].ClientSecret = ""
	b.Policies[1].Description = "No admin tools."
	b.Routes[1].Enabled = false
	plan, err = s.Apply(ctx, b, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantPlan(t, plan,
		"unchanged upstream_app github", "unchanged policy company-only", "update policy no-admin",
		"unchanged route GitHub", "update route Chat")
	if got := configVersionOf(t, s); got != v0+2 {
		t.Errorf("version %d, want %d", got, v0+2)
	}
	if chat, err := s.GetRouteByName(ctx, "chat"); err != nil || chat.Enabled {
		t.Errorf("Chat = %+v, %v; want it disabled", chat, err)
	}
}

func TestApplyPrune(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	user := createUser(t, s, "ada@example.com")
	old := createPolicy(t, s, "old-policy")
	createApp(t, s, "old-app")
	createRoute(t, s, "Old", "http://old.localhost", old.ID)
	// A renamed route keeps its from: pruning the old name first frees it.
	createRoute(t, s, "Chat (old name)", "http://chat.localhost:8080")

	plan, err := s.Apply(ctx, testBundle(), ApplyOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	wantPlan(t, plan,
		"delete route Chat (old name)", "delete route Old",
		"create upstream_app github", "create policy company-only", "create policy no-admin",
		"create route GitHub", "create route Chat",
		"delete policy old-policy", "delete upstream_app old-app")
	if _, err := s.GetUser(ctx, user.ID); err != nil {
		t.Errorf("prune touched a user: %v", err)
	}
	if _, err := s.GetPolicyByName(ctx, "old-policy"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old-policy: %v, want it deleted", err)
	}

	// Pruning needs what routes refer to in the bundle: a policy only the
	// database has would be deleted under them.
	b := testBundle()
	b.Policies = b.Policies[:1]
	_, err = s.Apply(ctx, b, ApplyOptions{Prune: true})
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Problems) != 1 || ae.Problems[0].Name != "GitHub" ||
		!strings.Contains(ae.Problems[0].Err.Error(), `policy "no-admin", which the file does not define`) {
		t.Fatalf("got %v", err)
	}
	if _, err := s.GetPolicyByName(ctx, "no-admin"); err != nil {
		t.Errorf("a failed apply deleted no-admin: %v", err)
	}
}

func TestApplyIsAllOrNothing(t *testing.T) {
	s := newTestStoreWith(t, func(o *Options) {
		o.ValidatePolicy = func(name string, src []byte) error {
			if strings.Contains(string(src), "frobnicate") {
				return errors.New("unknown criterion frobnicate")
			}
			return nil
		}
	})
	ctx := context.Background()
	v0, n0 := configVersionOf(t, s), changeCount(t, s)

	b := testBundle()
	b.Routes = append(b.Routes, BundleRoute{Route: Route{Name: "Broken", From: "ftp://x", To: "http://127.0.0.1:1", Kind: KindHTTP}})
	_, err := s.Apply(ctx, b, ApplyOptions{})
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Problems) != 1 {
		t.Fatalf("got %v, want one problem", err)
	}
	p := ae.Problems[0]
	if p.Resource != ResourceRoute || p.Index != 2 || p.Name != "Broken" || !slices.Equal(invalidFields(t, p.Err), []string{"from"}) {
		t.Errorf("problem = %+v", p)
	}
	if configVersionOf(t, s) != v0 || changeCount(t, s) != n0 {
		t.Error("a failed apply bumped the version or recorded history")
	}
	if routes, total, _ := s.ListRoutes(ctx, RouteFilter{}); total != 0 {
		t.Errorf("a failed apply left routes %+v", routes)
	}
	if apps, _ := s.AllUpstreamApps(ctx); len(apps) != 0 {
		t.Errorf("a failed apply left apps %+v", apps)
	}

	// Every problem is reported at once, and a route is not blamed for a
	// policy that failed on its own.
	b = testBundle()
	b.Policies[0].Source = "allow: {frobnicate: true}\n"
	b.Policies = append(b.Policies, Policy{Name: "no-admin", Source: testPolicySource})
	b.Routes[0].App = "gitlab"
	b.Routes[1].PolicyNames = []string{"company-only", "missing"}
	_, err = s.Apply(ctx, b, ApplyOptions{})
	if !errors.As(err, &ae) {
		t.Fatalf("got %v", err)
	}
	var got []string
	for _, p := range ae.Problems {
		got = append(got, p.Resource+" "+p.Name+": "+p.Err.Error())
	}
	want := []string{
		"policy company-only: unknown criterion frobnicate",
		"policy no-admin: name: is defined twice",
		`route GitHub: invalid input: upstream_app: names upstream app "gitlab", which neither the file nor the database has`,
		`route Chat: invalid input: policies: names policy "missing", which neither the file nor the database has`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestApplyDryRunWritesNothing(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	v0, n0 := configVersionOf(t, s), changeCount(t, s)
	plan, err := s.Apply(ctx, testBundle(), ApplyOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Count(ActionCreate) != 5 || !plan.Changed() {
		t.Errorf("dry-run plan = %v", planLines(plan))
	}
	if configVersionOf(t, s) != v0 || changeCount(t, s) != n0 {
		t.Error("a dry run bumped the version or recorded history")
	}
	if _, total, _ := s.ListRoutes(ctx, RouteFilter{}); total != 0 {
		t.Error("a dry run created routes")
	}

	// A dry run reports problems as a real apply would.
	b := testBundle()
	b.Routes[0].Kind = "grpc"
	if _, err := s.Apply(ctx, b, ApplyOptions{DryRun: true}); err == nil || !strings.Contains(err.Error(), "kind") {
		t.Errorf("dry run of a bad bundle: %v", err)
	}
}

func TestApplyFindsReferencesInTheDatabase(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	createPolicy(t, s, "existing")
	b := Bundle{Routes: []BundleRoute{{
		Route:       Route{Name: "Wiki", From: "http://wiki.localhost", To: "http://127.0.0.1:8000", Kind: KindHTTP, Enabled: true},
		PolicyNames: []string{"existing"},
	}}}
	if _, err := s.Apply(ctx, b, ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := s.GetRouteByName(ctx, "wiki")
	if err != nil || !slices.Equal(policyNames(r.Policies), []string{"existing"}) {
		t.Errorf("Wiki = %+v, %v", r, err)
	}
}
