package models

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func TestCreateAndGetRoute(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p1, p2 := createPolicy(t, s, "zeta"), createPolicy(t, s, "alpha")
	app := createApp(t, s, "github")
	r := &Route{
		Name: " GitHub ", Description: " The GitHub MCP server ",
		From: "HTTPS://GitHub.Localhost:443/MCP/", To: "http://10.0.0.5:8080/mcp",
		Kind: KindMCPServer, UpstreamAppID: &app.ID,
		TimeoutSeconds: 30, MaxRequestBytes: 1 << 20, Enabled: true,
	}
	if err := s.CreateRoute(ctx, r, []uint{p1.ID, p2.ID, p1.ID}); err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.CreatedAt.IsZero() || r.Name != "GitHub" || r.Description != "The GitHub MCP server" {
		t.Errorf("created %+v", r)
	}
	if r.From != "https://github.localhost/MCP" {
		t.Errorf("From = %q, want it normalized", r.From)
	}

	byID, err := s.GetRoute(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	byName, err := s.GetRouteByName(ctx, " github")
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*Route{byID, byName, r} {
		if got.ID != r.ID || got.From != r.From || got.To != "http://10.0.0.5:8080/mcp" || got.Kind != KindMCPServer ||
			got.TimeoutSeconds != 30 || got.MaxRequestBytes != 1<<20 || !got.Enabled || !got.CreatedAt.Equal(r.CreatedAt) {
			t.Errorf("read back %+v", got)
		}
		if got.UpstreamApp == nil || got.UpstreamApp.Name != "github" || !got.UpstreamApp.HasSecret ||
			got.UpstreamAppID == nil || *got.UpstreamAppID != app.ID {
			t.Errorf("upstream app = %+v", got.UpstreamApp)
		}
		if names := policyNames(got.Policies); !slices.Equal(names, []string{"alpha", "zeta"}) {
			t.Errorf("policies = %q, want alpha, zeta (by name, once each)", names)
		}
	}
	if _, err := s.GetRoute(ctx, r.ID+1); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetRoute(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetRouteByName(ctx, "gitlab"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetRouteByName(missing) = %v, want ErrNotFound", err)
	}
}

func policyNames(policies []Policy) []string {
	names := []string{}
	for _, p := range policies {
		names = append(names, p.Name)
	}
	return names
}

func TestListRoutes(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p := createPolicy(t, s, "everyone")
	createRoute(t, s, "charlie", "http://c.localhost:8080", p.ID)
	createRoute(t, s, "Alpha", "http://a.localhost:8080/Tools")
	b := &Route{Name: "bravo", Description: "100% Jira", From: "http://b.localhost:8080", To: "http://jira.internal:9000/mcp", Kind: KindHTTP}
	if err := s.CreateRoute(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	createRoute(t, s, "delta", "http://d.localhost:8080")
	all := []string{"Alpha", "bravo", "charlie", "delta"}
	tests := []struct {
		name      string
		filter    RouteFilter
		want      []string
		wantTotal int64
	}{
		{"everything, by name ignoring case", RouteFilter{}, all, 4},
		{"name", RouteFilter{Query: "ALPH"}, []string{"Alpha"}, 1},
		{"description", RouteFilter{Query: "jira"}, []string{"bravo"}, 1},
		{"from", RouteFilter{Query: "c.localhost"}, []string{"charlie"}, 1},
		{"from path", RouteFilter{Query: "/tools"}, []string{"Alpha"}, 1},
		{"to", RouteFilter{Query: "jira.internal"}, []string{"bravo"}, 1},
		{"percent is literal", RouteFilter{Query: "100%"}, []string{"bravo"}, 1},
		{"no match", RouteFilter{Query: "zzz"}, []string{}, 0},
		{"first page", RouteFilter{Limit: 3}, all[:3], 4},
		{"second page", RouteFilter{Offset: 3, Limit: 3}, all[3:], 4},
		{"filtered page", RouteFilter{Query: "localhost", Offset: 1, Limit: 2}, all[1:3], 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes, total, err := s.ListRoutes(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range routes {
				got = append(got, r.Name)
			}
			if !slices.Equal(got, tt.want) || total != tt.wantTotal {
				t.Errorf("ListRoutes(%+v) = %q, %d; want %q, %d", tt.filter, got, total, tt.want, tt.wantTotal)
			}
		})
	}
	routes, _, err := s.ListRoutes(ctx, RouteFilter{Query: "charlie"})
	if err != nil || len(routes) != 1 || !slices.Equal(policyNames(routes[0].Policies), []string{"everyone"}) {
		t.Errorf("listed route's policies = %+v, %v; want everyone", routes, err)
	}
}

func TestUpdateRoute(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p1, p2 := createPolicy(t, s, "one"), createPolicy(t, s, "two")
	app := createApp(t, s, "github")
	r := createRoute(t, s, "web", "http://web.localhost:8080", p1.ID)
	v0 := configVersionOf(t, s)

	up := &Route{
		ID: r.ID, Name: "Web app", From: "http://web.localhost:8080/app/", To: "http://127.0.0.1:9002",
		Kind: KindMCPServer, UpstreamAppID: &app.ID, Enabled: false,
	}
	if err := s.UpdateRoute(ctx, up, []uint{p2.ID}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRoute(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Web app" || got.From != "http://web.localhost:8080/app" || got.Enabled || got.Kind != KindMCPServer ||
		got.UpstreamApp == nil || got.UpstreamApp.ID != app.ID || !got.CreatedAt.Equal(r.CreatedAt) || !got.UpdatedAt.After(r.UpdatedAt) {
		t.Errorf("after update: %+v", got)
	}
	if names := policyNames(got.Policies); !slices.Equal(names, []string{"two"}) {
		t.Errorf("policies = %q, want only two", names)
	}
	if configVersionOf(t, s) != v0+1 {
		t.Errorf("config version = %d, want %d", configVersionOf(t, s), v0+1)
	}

	// Back to http: the app must go, and no policies at all is allowed.
	got.Kind, got.UpstreamAppID = KindHTTP, nil
	if err := s.UpdateRoute(ctx, got, nil); err != nil {
		t.Fatal(err)
	}
	if got.UpstreamApp != nil || len(got.Policies) != 0 {
		t.Errorf("after clearing references: %+v", got)
	}

	missing := &Route{ID: r.ID + 100, Name: "x", From: "http://x.localhost", To: "http://127.0.0.1", Kind: KindHTTP}
	if err := s.UpdateRoute(ctx, missing, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateRoute(missing) = %v, want ErrNotFound", err)
	}
}

func TestRouteConflicts(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	createRoute(t, s, "GitHub", "http://github.localhost:8080")
	other := createRoute(t, s, "Other", "http://other.localhost:8080")
	tests := []struct {
		name      string
		route     Route
		wantField string
	}{
		{"same name", Route{Name: "GitHub", From: "http://new.localhost:8080"}, "name"},
		{"name in another case", Route{Name: " github ", From: "http://new.localhost:8080"}, "name"},
		{"same from", Route{Name: "New", From: "http://github.localhost:8080"}, "from"},
		{"same from, spelled otherwise", Route{Name: "New", From: "HTTP://GITHUB.localhost:8080/"}, "from"},
	}
	for _, tt := range tests {
		for _, update := range []bool{false, true} {
			before := configVersionOf(t, s)
			r := tt.route
			r.To, r.Kind = "http://127.0.0.1:1", KindHTTP
			var err error
			if update {
				r.ID = other.ID
				err = s.UpdateRoute(ctx, &r, nil)
			} else {
				err = s.CreateRoute(ctx, &r, nil)
			}
			var ce *ConflictError
			if !errors.Is(err, ErrConflict) || !errors.As(err, &ce) || ce.Field != tt.wantField {
				t.Errorf("%s (update %v): err = %v, want a *ConflictError on %s", tt.name, update, err, tt.wantField)
			}
			if configVersionOf(t, s) != before {
				t.Errorf("%s: config version moved on a refused write", tt.name)
			}
		}
	}
	// A route may keep its own name and from on update.
	other.Description = "renamed nothing"
	if err := s.UpdateRoute(ctx, other, nil); err != nil {
		t.Errorf("update keeping name and from: %v", err)
	}
}

func TestDeleteRoute(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p := createPolicy(t, s, "p")
	r := createRoute(t, s, "gone", "http://gone.localhost", p.ID)
	v0 := configVersionOf(t, s)
	if err := s.DeleteRoute(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRoute(ctx, r.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetRoute after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteRoute(ctx, r.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	if configVersionOf(t, s) != v0+1 {
		t.Errorf("config version = %d, want %d", configVersionOf(t, s), v0+1)
	}
	// Its policy links went with it, so the policy is free to go.
	if err := s.DeletePolicy(ctx, p.ID); err != nil {
		t.Errorf("delete the route's policy: %v", err)
	}
}

func TestRoutesUsing(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p, unused := createPolicy(t, s, "p"), createPolicy(t, s, "unused")
	app := createApp(t, s, "app")
	createRoute(t, s, "b", "http://b.localhost", p.ID)
	createRoute(t, s, "a", "http://a.localhost", p.ID, unused.ID)
	createRoute(t, s, "c", "http://c.localhost")
	withApp := &Route{Name: "m", From: "http://m.localhost", To: "http://127.0.0.1:1", Kind: KindMCPServer, UpstreamAppID: &app.ID}
	if err := s.CreateRoute(ctx, withApp, nil); err != nil {
		t.Fatal(err)
	}
	routes, err := s.RoutesUsingPolicy(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range routes {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("RoutesUsingPolicy = %q, want a, b", names)
	}
	if len(routes) == 2 && !slices.Equal(policyNames(routes[0].Policies), []string{"p", "unused"}) {
		t.Errorf("route a's policies = %q", policyNames(routes[0].Policies))
	}
	if routes, err := s.RoutesUsingApp(ctx, app.ID); err != nil || len(routes) != 1 || routes[0].Name != "m" {
		t.Errorf("RoutesUsingApp = %+v, %v; want m", routes, err)
	}
	if routes, err := s.RoutesUsingApp(ctx, app.ID+1); err != nil || routes == nil || len(routes) != 0 {
		t.Errorf("RoutesUsingApp(unused) = %#v, %v; want empty", routes, err)
	}
}
