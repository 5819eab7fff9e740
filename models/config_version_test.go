package models

import (
	"context"
	"testing"
	"time"
)

// TestEveryWriteBumpsOnceAndRecordsOnce runs each kind of configuration
// write against a fresh store and counts what it left behind.
func TestEveryWriteBumpsOnceAndRecordsOnce(t *testing.T) {
	ctx := context.Background()
	type fixture struct {
		policy *Policy
		app    *UpstreamApp
		route  *Route
	}
	tests := []struct {
		name    string
		write   func(s *Store, f fixture) error
		wantErr bool
		want    int64 // bumps, and history rows
	}{
		{"create route", func(s *Store, f fixture) error {
			return s.CreateRoute(ctx, &Route{Name: "n", From: "http://n.localhost", To: "http://127.0.0.1", Kind: KindHTTP}, []uint{f.policy.ID})
		}, false, 1},
		{"update route", func(s *Store, f fixture) error { f.route.Enabled = false; return s.UpdateRoute(ctx, f.route, nil) }, false, 1},
		{"update route, no change", func(s *Store, f fixture) error { return s.UpdateRoute(ctx, f.route, []uint{f.policy.ID}) }, false, 0},
		{"update route, invalid", func(s *Store, f fixture) error { f.route.Kind = "x"; return s.UpdateRoute(ctx, f.route, nil) }, true, 0},
		{"delete route", func(s *Store, f fixture) error { return s.DeleteRoute(ctx, f.route.ID) }, false, 1},
		{"delete route, missing", func(s *Store, f fixture) error { return s.DeleteRoute(ctx, f.route.ID+1) }, true, 0},
		{"create policy", func(s *Store, _ fixture) error { return s.CreatePolicy(ctx, &Policy{Name: "new", Source: "x"}) }, false, 1},
		{"create policy, duplicate", func(s *Store, _ fixture) error { return s.CreatePolicy(ctx, &Policy{Name: "p", Source: "x"}) }, true, 0},
		{"update policy", func(s *Store, f fixture) error { f.policy.Source = "y"; return s.UpdatePolicy(ctx, f.policy) }, false, 1},
		{"update policy, no change", func(s *Store, f fixture) error { return s.UpdatePolicy(ctx, f.policy) }, false, 0},
		{"delete policy, in use", func(s *Store, f fixture) error { return s.DeletePolicy(ctx, f.policy.ID) }, true, 0},
		{"create app", func(s *Store, _ fixture) error { return s.CreateUpstreamApp(ctx, testApp("new")) }, false, 1},
		{"create app, invalid", func(s *Store, _ fixture) error { return s.CreateUpstreamApp(ctx, &UpstreamApp{Name: "new"}) }, true, 0},
		{"update app", func(s *Store, f fixture) error { f.app.PKCE = true; return s.UpdateUpstreamApp(ctx, f.app) }, false, 1},
		{"update app secret", func(s *Store, f fixture) error { f.app.ClientSecret = "new"; return s.UpdateUpstreamApp(ctx, f.app) }, false, 1},
		{"update app, no change", func(s *Store, f fixture) error { return s.UpdateUpstreamApp(ctx, f.app) }, false, 0},
		{"delete app, in use", func(s *Store, f fixture) error { return s.DeleteUpstreamApp(ctx, f.app.ID) }, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			f := fixture{policy: createPolicy(t, s, "p"), app: createApp(t, s, "a")}
			f.route = &Route{Name: "r", From: "http://r.localhost", To: "http://127.0.0.1", Kind: KindMCPServer, UpstreamAppID: &f.app.ID, Enabled: true}
			if err := s.CreateRoute(ctx, f.route, []uint{f.policy.ID}); err != nil {
				t.Fatal(err)
			}
			v0, n0 := configVersionOf(t, s), changeCount(t, s)
			err := tt.write(s, f)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tt.wantErr)
			}
			if got := configVersionOf(t, s) - v0; got != tt.want {
				t.Errorf("config version moved by %d, want %d", got, tt.want)
			}
			if got := changeCount(t, s) - n0; got != tt.want {
				t.Errorf("%d history rows recorded, want %d", got, tt.want)
			}
		})
	}
}

func TestOnChangeFollowsCommittedBumps(t *testing.T) {
	calls := 0
	s := newTestStore(t)
	s.OnChange(func() { calls++ })
	ctx := context.Background()
	p := &Policy{Name: "open", Source: "allow:\n  and:\n    - accept: true\n"}
	if err := s.CreatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("after a create: %d calls, want 1", calls)
	}
	if err := s.UpdatePolicy(ctx, p); err != nil { // nothing changed
		t.Fatal(err)
	}
	if err := s.CreatePolicy(ctx, &Policy{Name: "open", Source: p.Source}); err == nil {
		t.Fatal("a duplicate name was accepted")
	}
	if calls != 1 {
		t.Errorf("a no-op update and a refused write made %d calls in all, want 1", calls)
	}
	_ = s.RevokeAccessToken(ctx, "no-such-jti-0000000000", time.Now())
	if calls != 1 {
		t.Errorf("revoking nothing called OnChange")
	}
}
