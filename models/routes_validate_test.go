package models

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestNormalizeFrom(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"http://github.localhost:8080", "http://github.localhost:8080"},
		{"  https://MCP.Example.COM  ", "https://mcp.example.com"},
		{"HTTPS://mcp.example.com", "https://mcp.example.com"},
		{"https://mcp.example.com/", "https://mcp.example.com"},
		{"https://mcp.example.com:443", "https://mcp.example.com"},
		{"http://mcp.example.com:80/", "http://mcp.example.com"},
		{"http://mcp.example.com:443", "http://mcp.example.com:443"},
		{"https://mcp.example.com:80", "https://mcp.example.com:80"},
		{"http://mcp.example.com:08080", "http://mcp.example.com:8080"},
		{"https://example.com/GitHub/", "https://example.com/GitHub"},
		{"https://example.com/a/b-c_d.e~f", "https://example.com/a/b-c_d.e~f"},
		{"https://example.com/v1:tools@x", "https://example.com/v1:tools@x"},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9000"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://[0:0:0:0:0:0:0:1]", "http://[::1]"},
		{"http://my_service:8080", "http://my_service:8080"},
		// Refused.
		{"", ""},
		{"github.localhost:8080", ""},
		{"ftp://example.com", ""},
		{"https://", ""},
		{"https:///path", ""},
		{"http:example.com", ""},
		{"https://user:pw@example.com", ""},
		{"https://user@example.com", ""},
		{"https://example.com?x=1", ""},
		{"https://example.com/?", ""},
		{"https://example.com#top", ""},
		{"https://example.com/#", ""},
		{"https://example.com/a/../b", ""},
		{"https://example.com/a/./b", ""},
		{"https://example.com/..", ""},
		{"https://example.com//a", ""},
		{"https://example.com/a//b", ""},
		{"https://example.com/a//", ""},
		{"https://example.com/a%2fb", ""},
		{"https://example.com/a%2Fb", ""},
		{"https://example.com/%61", ""},
		{"https://example.com/a b", ""},
		{`https://example.com/a\b`, ""},
		{"https://example.com/a(b)", ""},
		{"https://example.com/a!b", ""},
		{"https://example.com/é", ""},
		{"https://exa mple.com", ""},
		{"https://example..com", ""},
		{"https://example.com.", ""},
		{"https://-example.com", ""},
		{"https://ex%41mple.com", ""},
		{"https://bücher.example", ""},
		{"http://127.1", ""},
		{"http://0x7f.1", ""},
		{"http://2130706433", ""},
		{"http://[fe80::1%25eth0]", ""},
		{"https://example.com:0", ""},
		{"https://example.com:65536", ""},
		{"https://example.com:x", ""},
		{"https://" + strings.Repeat("a", 2050) + ".com", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeFrom(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("NormalizeFrom(%q) = %q, want refused", tt.in, got)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("NormalizeFrom(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		case err != nil && !strings.HasPrefix(err.Error(), "must") && err.Error() != "is required":
			t.Errorf("NormalizeFrom(%q) error %q does not read as a form message", tt.in, err)
		}
	}
}

// FuzzNormalizeFrom checks that whatever NormalizeFrom accepts is a fixed
// point, parses back to the same origin and prefix, and has no spelling
// that could hide a second path.
func FuzzNormalizeFrom(f *testing.F) {
	for _, seed := range []string{
		"http://github.localhost:8080", "https://A.example.com:443/x/", "http://[::1]/a", "https://e.com/a/../b",
		"https://e.com/%2e%2e/", "http://127.1", "https://e.com//", "http://x:80/a:b@c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeFrom(in)
		if err != nil {
			return
		}
		again, err := NormalizeFrom(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeFrom(%q) = %q, which normalizes to %q, %v", in, out, again, err)
		}
		u, err := url.Parse(out)
		if err != nil || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.RawPath != "" {
			t.Fatalf("NormalizeFrom(%q) = %q, which parses as %+v, %v", in, out, u, err)
		}
		segments := strings.Split(u.Path, "/")
		if strings.HasSuffix(u.Path, "/") || strings.Contains(u.Path, "//") ||
			slices.Contains(segments, ".") || slices.Contains(segments, "..") ||
			strings.ContainsAny(out, "%\\ ") || u.Host != strings.ToLower(u.Host) {
			t.Fatalf("NormalizeFrom(%q) = %q, not clean", in, out)
		}
	})
}

func TestRouteValidation(t *testing.T) {
	s := newTestStoreWith(t, func(o *Options) {
		o.ReservedHosts = []string{"Console.Localhost:8080", "[::1]:9999", "https://admin.example.com"}
	})
	ctx := context.Background()
	p := createPolicy(t, s, "p")
	app := createApp(t, s, "github")
	noApp := app.ID + 100
	ok := func(edit func(r *Route)) Route {
		r := Route{Name: "r", From: "http://r.localhost:8080", To: "http://127.0.0.1:9000/mcp", Kind: KindMCPServer}
		edit(&r)
		return r
	}
	tests := []struct {
		name     string
		route    Route
		policies []uint
		want     []string
	}{
		{"valid", ok(func(*Route) {}), []uint{p.ID}, nil},
		{"valid mcp_server with app", ok(func(r *Route) { r.UpstreamAppID = &app.ID }), nil, nil},
		{"valid mcp_client passing the token", ok(func(r *Route) { r.Kind, r.PassUpstreamToken = KindMCPClient, true }), nil, nil},
		{"valid limits at their maximum", ok(func(r *Route) { r.TimeoutSeconds, r.MaxRequestBytes = 3600, 64<<20 }), nil, nil},
		{"name of 100 multibyte characters", ok(func(r *Route) { r.Name = strings.Repeat("é", 100) }), nil, nil},
		{"everything wrong", Route{
			Name: strings.Repeat("n", 101), Description: strings.Repeat("d", 1001), From: "ftp://x", To: "nope",
			Kind: "grpc", UpstreamAppID: &noApp, TimeoutSeconds: -1, MaxRequestBytes: -1,
		}, []uint{p.ID + 100}, []string{"name", "description", "from", "to", "kind", "policies", "upstream_app", "timeout_seconds", "max_request_bytes"}},
		{"blank name", ok(func(r *Route) { r.Name = "  " }), nil, []string{"name"}},
		{"from with a query", ok(func(r *Route) { r.From = "http://r.localhost/?a=1" }), nil, []string{"from"}},
		{"from on the console host", ok(func(r *Route) { r.From = "http://console.localhost:8080" }), nil, []string{"from"}},
		{"from on the console host, another port", ok(func(r *Route) { r.From = "https://CONSOLE.localhost/x" }), nil, []string{"from"}},
		{"from on a reserved IPv6 host", ok(func(r *Route) { r.From = "http://[0::1]:8080" }), nil, []string{"from"}},
		{"from on a host reserved by URL", ok(func(r *Route) { r.From = "https://admin.example.com/mcp" }), nil, []string{"from"}},
		{"to without a host", ok(func(r *Route) { r.To = "http:///mcp" }), nil, []string{"to"}},
		{"to relative", ok(func(r *Route) { r.To = "/mcp" }), nil, []string{"to"}},
		{"to with user info", ok(func(r *Route) { r.To = "http://u:p@127.0.0.1/" }), nil, []string{"to"}},
		{"to with a fragment", ok(func(r *Route) { r.To = "http://127.0.0.1/#x" }), nil, []string{"to"}},
		{"to not http", ok(func(r *Route) { r.To = "ws://127.0.0.1/" }), nil, []string{"to"}},
		{"no kind", ok(func(r *Route) { r.Kind = "" }), nil, []string{"kind"}},
		{"app on an http route", ok(func(r *Route) { r.Kind, r.UpstreamAppID = KindHTTP, &app.ID }), nil, []string{"upstream_app"}},
		{"app on an mcp_client route", ok(func(r *Route) { r.Kind, r.UpstreamAppID = KindMCPClient, &app.ID }), nil, []string{"upstream_app"}},
		{"app ID 0 (a form's unreadable value)", ok(func(r *Route) { r.UpstreamAppID = new(uint) }), nil, []string{"upstream_app"}},
		{"missing app", ok(func(r *Route) { r.UpstreamAppID = &noApp }), nil, []string{"upstream_app"}},
		{"token passed to an mcp_server route", ok(func(r *Route) { r.PassUpstreamToken = true }), nil, []string{"pass_upstream_token"}},
		{"token passed to an http route", ok(func(r *Route) { r.Kind, r.PassUpstreamToken = KindHTTP, true }), nil, []string{"pass_upstream_token"}},
		{"missing policy", ok(func(*Route) {}), []uint{p.ID, p.ID + 7, 0}, []string{"policies"}},
		{"timeout too long", ok(func(r *Route) { r.TimeoutSeconds = 3601 }), nil, []string{"timeout_seconds"}},
		{"body cap too big", ok(func(r *Route) { r.MaxRequestBytes = 64<<20 + 1 }), nil, []string{"max_request_bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := configVersionOf(t, s)
			r := tt.route
			err := s.CreateRoute(ctx, &r, tt.policies)
			if got := invalidFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("invalid fields = %q, want %q (error: %v)", got, tt.want, err)
			}
			wantVersion := before
			if tt.want == nil {
				wantVersion++
				if err := s.DeleteRoute(ctx, r.ID); err != nil {
					t.Fatal(err)
				}
				wantVersion++
			}
			if got := configVersionOf(t, s); got != wantVersion {
				t.Errorf("config version = %d, want %d", got, wantVersion)
			}
		})
	}
}

func TestRouteValidationOnUpdate(t *testing.T) {
	s := newTestStoreWith(t, func(o *Options) { o.ReservedHosts = []string{"console.localhost:8080"} })
	ctx := context.Background()
	r := createRoute(t, s, "r", "http://r.localhost:8080")
	bad := *r
	bad.From, bad.Kind = "http://console.localhost:9090/x", "nope"
	err := s.UpdateRoute(ctx, &bad, nil)
	if got := invalidFields(t, err); !slices.Equal(got, []string{"from", "kind"}) {
		t.Errorf("invalid fields = %q, want from, kind", got)
	}
	if got, _ := s.GetRoute(ctx, r.ID); got.From != r.From || got.Kind != r.Kind {
		t.Errorf("refused update changed the route: %+v", got)
	}
}

func TestUnderPrefix(t *testing.T) {
	for _, c := range []struct {
		path, prefix string
		want         bool
	}{
		{"/anything", "", true},
		{"/github", "/github", true},
		{"/github/mcp", "/github", true},
		{"/githubber", "/github", false},
		{"/", "/github", false},
		{"/git", "/github", false},
	} {
		if got := UnderPrefix(c.path, c.prefix); got != c.want {
			t.Errorf("UnderPrefix(%q, %q) = %v, want %v", c.path, c.prefix, got, c.want)
		}
	}
}
