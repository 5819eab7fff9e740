package models

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestActor(t *testing.T) {
	ctx := context.Background()
	if got := ActorFrom(ctx); got != "" {
		t.Errorf("ActorFrom(empty) = %q", got)
	}
	if got := ActorFrom(WithActor(ctx, " alice@example.com ")); got != "alice@example.com" {
		t.Errorf("ActorFrom = %q, want alice@example.com", got)
	}
	s := newTestStore(t)
	createPolicy(t, s, "by-system")
	if c := lastChange(t, s); c.Actor != ActorSystem {
		t.Errorf("actor without WithActor = %q, want %q", c.Actor, ActorSystem)
	}
	if err := s.CreatePolicy(WithActor(ctx, "alice@example.com"), &Policy{Name: "by-alice", Source: "x"}); err != nil {
		t.Fatal(err)
	}
	if c := lastChange(t, s); c.Actor != "alice@example.com" {
		t.Errorf("actor = %q, want alice@example.com", c.Actor)
	}
	if err := s.CreatePolicy(WithActor(ctx, strings.Repeat("é", 200)), &Policy{Name: "long", Source: "x"}); err != nil {
		t.Fatal(err)
	}
	if c := lastChange(t, s); len(c.Actor) != 320 || !strings.HasPrefix(strings.Repeat("é", 200), c.Actor) {
		t.Errorf("a long actor was recorded as %d bytes: %q", len(c.Actor), c.Actor)
	}
}

func TestRouteHistorySnapshots(t *testing.T) {
	s := newTestStore(t)
	ctx := WithActor(context.Background(), "admin@example.com")
	p1, p2 := createPolicy(t, s, "staff"), createPolicy(t, s, "admins")
	app := createApp(t, s, "github")
	r := &Route{
		Name: "GitHub", Description: "Code <& issues>", From: "http://github.localhost:8080", To: "http://127.0.0.1:9001/mcp",
		Kind: KindMCPServer, UpstreamAppID: &app.ID, TimeoutSeconds: 60, Enabled: true,
	}
	if err := s.CreateRoute(ctx, r, []uint{p1.ID, p2.ID}); err != nil {
		t.Fatal(err)
	}
	c := lastChange(t, s)
	want := `name: GitHub
description: Code <& issues>
from: http://github.localhost:8080
to: http://127.0.0.1:9001/mcp
kind: mcp_server
upstream_app: github
policies:
  - admins
  - staff
timeout_seconds: 60
max_request_bytes: 0
pass_upstream_token: false
enabled: true
`
	if c.Resource != ResourceRoute || c.ResourceID != r.ID || c.ResourceName != "GitHub" || c.Action != ActionCreate ||
		c.Actor != "admin@example.com" || c.Before != "" || c.After != want {
		t.Errorf("create recorded as %+v\nafter:\n%s\nwant:\n%s", c, c.After, want)
	}
	if time.Since(c.At) > time.Minute || c.At.Location() != time.UTC {
		t.Errorf("At = %v, want just now, in UTC", c.At)
	}

	// An update that only re-spells what is stored changes nothing.
	v0, n0 := configVersionOf(t, s), changeCount(t, s)
	same := *r
	same.From, same.Name = "HTTP://GitHub.localhost:8080/", " GitHub "
	if err := s.UpdateRoute(ctx, &same, []uint{p2.ID, p1.ID}); err != nil {
		t.Fatal(err)
	}
	if configVersionOf(t, s) != v0 || changeCount(t, s) != n0 {
		t.Error("an update to the same values bumped the version or recorded a change")
	}
	if same.From != r.From || !same.UpdatedAt.Equal(r.UpdatedAt) {
		t.Errorf("no-op update left %+v", same)
	}

	same.Enabled = false
	if err := s.UpdateRoute(WithActor(ctx, "bob@example.com"), &same, []uint{p1.ID}); err != nil {
		t.Fatal(err)
	}
	c = lastChange(t, s)
	if c.Action != ActionUpdate || c.Actor != "bob@example.com" || c.Before != want ||
		!strings.Contains(c.After, "\npolicies:\n  - staff\ntimeout_seconds:") || !strings.Contains(c.After, "\nenabled: false\n") {
		t.Errorf("update recorded as %+v\nbefore:\n%s\nafter:\n%s", c, c.Before, c.After)
	}
	before := c.After
	if err := s.DeleteRoute(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	c = lastChange(t, s)
	if c.Action != ActionDelete || c.ResourceID != r.ID || c.ResourceName != "GitHub" || c.Before != before || c.After != "" {
		t.Errorf("delete recorded as %+v", c)
	}
}

func TestPolicyAndAppHistorySnapshots(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p := createPolicy(t, s, "staff")
	c := lastChange(t, s)
	want := "name: staff\ndescription: Policy staff\nsource: |\n  allow:\n    and:\n      - domain: {is: example.com}\n"
	if c.After != want {
		t.Errorf("policy snapshot:\n%s\nwant the source as a literal block:\n%s", c.After, want)
	}
	p.Description = "changed"
	if err := s.UpdatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	c = lastChange(t, s)
	if c.Resource != ResourcePolicy || c.Action != ActionUpdate || !strings.Contains(c.After, "\ndescription: changed\n") {
		t.Errorf("policy update recorded as %+v", c)
	}
	n0 := changeCount(t, s)
	if err := s.UpdatePolicy(ctx, &Policy{ID: p.ID, Name: "staff", Description: "changed", Source: testPolicySource}); err != nil {
		t.Fatal(err)
	}
	if changeCount(t, s) != n0 {
		t.Error("a policy update to the same values recorded a change")
	}

	a := createApp(t, s, "github")
	c = lastChange(t, s)
	if c.Resource != ResourceUpstreamApp || c.ResourceID != a.ID || !strings.Contains(c.After, "\nclient_secret: (set)\n") ||
		strings.Contains(c.After, "secret-github") {
		t.Errorf("app create recorded as %+v\n%s", c, c.After)
	}
	if err := s.DeleteUpstreamApp(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	c = lastChange(t, s)
	if c.Action != ActionDelete || !strings.Contains(c.Before, "\nclient_secret: (set)\n") || c.After != "" {
		t.Errorf("app delete recorded as %+v", c)
	}
}

func TestUserHistory(t *testing.T) {
	s := newTestStore(t)
	ctx := WithActor(context.Background(), "root@example.com")
	hash, err := HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	u := &User{Email: "alice@example.com", Name: "Alice", Provider: ProviderLocal, PasswordHash: hash}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	other, err := HashPassword("another long password")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		write      func() error
		wantBefore string // a line the before snapshot holds; "" for none
		wantAfter  string
	}{
		{"create", func() error { return nil }, "", "password: (set)\n"},
		{"set password", func() error { return s.SetPasswordHash(ctx, u.ID, other) }, "password: (set)\n", "password: (changed)\n"},
		{"grant admin", func() error { return s.SetAdmin(ctx, u.ID, true) }, "is_admin: false\n", "is_admin: true\n"},
		{"disable", func() error { return s.SetDisabled(ctx, u.ID, true) }, "session_epoch: 1\n", "session_epoch: 2\n"},
		{"oidc link", func() error {
			_, err := s.UpsertOIDCUser(ctx, OIDCIdentity{Provider: "corp", Subject: "a-1", Email: "alice@example.com", Groups: []string{"eng"}})
			return err
		}, "provider: local\n", "provider: corp\n"},
	}
	for i, step := range steps {
		if err := step.write(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		c := lastChange(t, s)
		if c.Resource != ResourceUser || c.ResourceID != u.ID || c.ResourceName != "alice@example.com" || c.Actor != "root@example.com" {
			t.Errorf("%s recorded as %+v", step.name, c)
		}
		if n := changeCount(t, s); n != int64(i+1) {
			t.Errorf("%s: %d changes in all, want %d", step.name, n, i+1)
		}
		if !strings.Contains(c.Before, step.wantBefore) || !strings.Contains(c.After, step.wantAfter) {
			t.Errorf("%s recorded as\n%s\n->\n%s", step.name, c.Before, c.After)
		}
		if strings.Contains(c.Before+c.After, "$argon2") {
			t.Errorf("%s: a password hash reached the history", step.name)
		}
	}
	// Writes that change nothing, and sign-ins, stay out of the history.
	n0, v0 := changeCount(t, s), configVersionOf(t, s)
	if err := s.SetAdmin(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertOIDCUser(ctx, OIDCIdentity{Provider: "corp", Subject: "a-1", Email: "alice@example.com", Groups: []string{"eng"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSignIn(ctx, u.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if changeCount(t, s) != n0 || configVersionOf(t, s) != v0 {
		t.Error("no-op user writes or a sign-in recorded a change or bumped the version")
	}
	if changes, _, err := s.ListChanges(ctx, ChangeFilter{Resource: ResourceUser, ResourceID: u.ID}); err != nil || len(changes) != len(steps) ||
		changes[0].Action != ActionUpdate || changes[len(changes)-1].Action != ActionCreate {
		t.Errorf("user's history = %+v, %v; want %d changes, newest first", changes, err, len(steps))
	}
}

func TestListChanges(t *testing.T) {
	s := newTestStore(t)
	alice := WithActor(context.Background(), "Alice@example.com")
	bob := WithActor(context.Background(), "bob@example.com")
	ctx := context.Background()
	if err := s.CreatePolicy(alice, &Policy{Name: "staff", Source: "x"}); err != nil { // 1
		t.Fatal(err)
	}
	if err := s.CreatePolicy(bob, &Policy{Name: "admins", Source: "x"}); err != nil { // 2
		t.Fatal(err)
	}
	p, err := s.GetPolicyByName(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	p.Source = "y"
	if err := s.UpdatePolicy(bob, p); err != nil { // 3
		t.Fatal(err)
	}
	if err := s.CreateRoute(alice, &Route{Name: "Staff wiki", From: "http://wiki.localhost", To: "http://127.0.0.1", Kind: KindHTTP}, nil); err != nil { // 4
		t.Fatal(err)
	}
	createUser(t, s, "staff@example.com") // 5, by system

	tests := []struct {
		name      string
		filter    ChangeFilter
		want      []string // resource/name/action, newest first
		wantTotal int64
	}{
		{"all", ChangeFilter{}, []string{"user/staff@example.com/create", "route/Staff wiki/create", "policy/staff/update", "policy/admins/create", "policy/staff/create"}, 5},
		{"resource", ChangeFilter{Resource: ResourcePolicy}, []string{"policy/staff/update", "policy/admins/create", "policy/staff/create"}, 3},
		{"one object", ChangeFilter{Resource: ResourcePolicy, ResourceID: p.ID}, []string{"policy/staff/update", "policy/staff/create"}, 2},
		{"actor, any case", ChangeFilter{Actor: "alice@EXAMPLE.com"}, []string{"route/Staff wiki/create", "policy/staff/create"}, 2},
		{"system", ChangeFilter{Actor: ActorSystem}, []string{"user/staff@example.com/create"}, 1},
		{"query on the name", ChangeFilter{Query: "STAFF"}, []string{"user/staff@example.com/create", "route/Staff wiki/create", "policy/staff/update", "policy/staff/create"}, 4},
		{"query and actor", ChangeFilter{Query: "staff", Actor: "bob@example.com"}, []string{"policy/staff/update"}, 1},
		{"page", ChangeFilter{Offset: 1, Limit: 2}, []string{"route/Staff wiki/create", "policy/staff/update"}, 5},
		{"none", ChangeFilter{Resource: ResourceUpstreamApp}, []string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes, total, err := s.ListChanges(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, c := range changes {
				got = append(got, c.Resource+"/"+c.ResourceName+"/"+c.Action)
				if c.Before != "" || c.After != "" {
					t.Errorf("ListChanges returned snapshots for change %d", c.ID)
				}
			}
			if !slices.Equal(got, tt.want) || total != tt.wantTotal {
				t.Errorf("ListChanges(%+v) = %q, %d; want %q, %d", tt.filter, got, total, tt.want, tt.wantTotal)
			}
		})
	}
	if _, err := s.GetChange(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetChange(missing) = %v, want ErrNotFound", err)
	}
}
