package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCreateGetListPolicies(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p := &Policy{Name: " company-only ", Description: " Staff ", Source: "allow:\r\n  domain: {is: example.com}\r\n"}
	if err := s.CreatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 || p.Name != "company-only" || p.Description != "Staff" || p.Source != "allow:\n  domain: {is: example.com}\n" {
		t.Errorf("created %+v, want trimmed with LF line endings", p)
	}
	byID, err := s.GetPolicy(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	byName, err := s.GetPolicyByName(ctx, "company-only")
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*Policy{byID, byName} {
		if got.ID != p.ID || got.Source != p.Source || !got.CreatedAt.Equal(p.CreatedAt) {
			t.Errorf("read back %+v, want %+v", got, p)
		}
	}
	if _, err := s.GetPolicy(ctx, p.ID+1); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetPolicy(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetPolicyByName(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetPolicyByName(missing) = %v, want ErrNotFound", err)
	}

	for _, name := range []string{"engineering", "admins", "deny_deletes"} {
		createPolicy(t, s, name)
	}
	all := []string{"admins", "company-only", "deny_deletes", "engineering"}
	tests := []struct {
		filter    PolicyFilter
		want      []string
		wantTotal int64
	}{
		{PolicyFilter{}, all, 4},
		{PolicyFilter{Query: "ENG"}, []string{"engineering"}, 1},
		{PolicyFilter{Query: "staff"}, []string{"company-only"}, 1}, // description
		{PolicyFilter{Query: "s_d"}, []string{}, 0},                 // _ is literal
		{PolicyFilter{Offset: 1, Limit: 2}, all[1:3], 4},
		{PolicyFilter{Query: "policy", Offset: 2}, []string{"engineering"}, 3},
	}
	for _, tt := range tests {
		policies, total, err := s.ListPolicies(ctx, tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := policyNames(policies); !slices.Equal(got, tt.want) || total != tt.wantTotal {
			t.Errorf("ListPolicies(%+v) = %q, %d; want %q, %d", tt.filter, got, total, tt.want, tt.wantTotal)
		}
	}
	everything, err := s.AllPolicies(ctx)
	if err != nil || !slices.Equal(policyNames(everything), all) || everything[0].Source == "" {
		t.Errorf("AllPolicies = %+v, %v", everything, err)
	}
}

func TestUpdatePolicy(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p := createPolicy(t, s, "old-name")
	other := createPolicy(t, s, "other")
	r := createRoute(t, s, "r", "http://r.localhost", p.ID)
	v0 := configVersionOf(t, s)

	up := &Policy{ID: p.ID, Name: "new-name", Description: "d", Source: "deny:\n  accept: true\n"}
	if err := s.UpdatePolicy(ctx, up); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetPolicy(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "new-name" || got.Source != up.Source || !got.CreatedAt.Equal(p.CreatedAt) || !got.UpdatedAt.After(p.UpdatedAt) {
		t.Errorf("after update: %+v", got)
	}
	if configVersionOf(t, s) != v0+1 {
		t.Errorf("config version = %d, want %d", configVersionOf(t, s), v0+1)
	}
	// Routes follow the rename: they refer to the policy by ID.
	if route, err := s.GetRoute(ctx, r.ID); err != nil || !slices.Equal(policyNames(route.Policies), []string{"new-name"}) {
		t.Errorf("route's policies after rename = %+v, %v", route, err)
	}

	taken := *got
	taken.Name = other.Name
	var ce *ConflictError
	if err := s.UpdatePolicy(ctx, &taken); !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("rename onto another policy = %v, want a *ConflictError on name", err)
	}
	if err := s.CreatePolicy(ctx, &Policy{Name: "other", Source: testPolicySource}); !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("create with a taken name = %v, want a *ConflictError on name", err)
	}
	missing := &Policy{ID: p.ID + 100, Name: "x", Source: testPolicySource}
	if err := s.UpdatePolicy(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdatePolicy(missing) = %v, want ErrNotFound", err)
	}
}

func TestPolicyValidation(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		policy Policy
		want   []string
	}{
		{"valid", Policy{Name: "a", Source: "x"}, nil},
		{"longest name", Policy{Name: "a" + strings.Repeat("-", 63), Source: "x"}, nil},
		{"largest source", Policy{Name: "big", Source: strings.Repeat("x", 64<<10)}, nil},
		{"everything wrong", Policy{Name: "", Description: strings.Repeat("d", 1001), Source: " \n\t"}, []string{"name", "description", "source"}},
		{"upper case", Policy{Name: "Company", Source: "x"}, []string{"name"}},
		{"starts with a dash", Policy{Name: "-a", Source: "x"}, []string{"name"}},
		{"space", Policy{Name: "a b", Source: "x"}, []string{"name"}},
		{"dot", Policy{Name: "a.b", Source: "x"}, []string{"name"}},
		{"name too long", Policy{Name: "a" + strings.Repeat("b", 64), Source: "x"}, []string{"name"}},
		{"source too large", Policy{Name: "a", Source: strings.Repeat("x", 64<<10+1)}, []string{"source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := configVersionOf(t, s)
			p := tt.policy
			err := s.CreatePolicy(ctx, &p)
			if got := invalidFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("invalid fields = %q, want %q (error: %v)", got, tt.want, err)
			}
			if tt.want == nil {
				if err := s.DeletePolicy(ctx, p.ID); err != nil {
					t.Fatal(err)
				}
			} else if configVersionOf(t, s) != before {
				t.Error("config version moved on a refused write")
			}
		})
	}
}

// sourceError stands for the policy language's own error type.
type sourceError struct{ Line, Column int }

func (e *sourceError) Error() string {
	return fmt.Sprintf("line %d, column %d: bad rule", e.Line, e.Column)
}

func TestValidatePolicyHook(t *testing.T) {
	type call struct {
		name, source string
	}
	var calls []call
	s := newTestStoreWith(t, func(o *Options) {
		o.ValidatePolicy = func(name string, source []byte) error {
			calls = append(calls, call{name, string(source)})
			if strings.Contains(string(source), "bad") {
				return &sourceError{Line: 2, Column: 5}
			}
			return nil
		}
	})
	ctx := context.Background()

	p := &Policy{Name: "good", Source: "allow:\r\n  accept: true\r\n"}
	if err := s.CreatePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	if want := []call{{"good", "allow:\n  accept: true\n"}}; !slices.Equal(calls, want) {
		t.Errorf("hook calls = %q, want %q (normalized source)", calls, want)
	}

	v0 := configVersionOf(t, s)
	for _, write := range []func(*Policy) error{
		func(p *Policy) error { return s.CreatePolicy(ctx, p) },
		func(p *Policy) error { return s.UpdatePolicy(ctx, p) },
	} {
		bad := &Policy{ID: p.ID, Name: "good", Source: "allow:\n  bad: 1\n"}
		err := write(bad)
		var se *sourceError
		if !errors.As(err, &se) || se.Line != 2 || se.Column != 5 {
			t.Errorf("err = %v, want the hook's *sourceError", err)
		}
		var ve *ValidationError
		if errors.As(err, &ve) {
			t.Errorf("err = %v also holds a *ValidationError, but the fields were fine", err)
		}
	}
	// Bad fields and a bad source: both are reported.
	err := s.CreatePolicy(ctx, &Policy{Name: "Bad Name", Source: "bad"})
	var se *sourceError
	if got := invalidFields(t, err); !slices.Equal(got, []string{"name"}) || !errors.As(err, &se) {
		t.Errorf("err = %v, want the name's *ValidationError joined with the hook's *sourceError", err)
	}
	// An empty source is refused before the hook sees it.
	n := len(calls)
	if err := s.CreatePolicy(ctx, &Policy{Name: "empty"}); !slices.Equal(invalidFields(t, err), []string{"source"}) || len(calls) != n {
		t.Errorf("empty source: err = %v, hook called %d times", err, len(calls)-n)
	}
	if configVersionOf(t, s) != v0 {
		t.Error("config version moved on refused writes")
	}
	if _, err := s.GetPolicyByName(ctx, "bad-name"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused policy was stored: %v", err)
	}
}

func TestDeletePolicyRefusedWhileUsed(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p := createPolicy(t, s, "shared")
	b := createRoute(t, s, "Beta", "http://b.localhost", p.ID)
	createRoute(t, s, "alpha", "http://a.localhost", p.ID)
	v0 := configVersionOf(t, s)

	err := s.DeletePolicy(ctx, p.ID)
	var ce *ConflictError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &ce) || ce.Field != "policy" || ce.Message != "used by routes alpha, Beta" {
		t.Fatalf("DeletePolicy = %v, want a *ConflictError naming alpha, Beta", err)
	}
	if configVersionOf(t, s) != v0 {
		t.Error("config version moved on a refused delete")
	}
	if err := s.DeleteRoute(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePolicy(ctx, p.ID); !errors.As(err, &ce) || ce.Message != "used by route alpha" {
		t.Errorf("DeletePolicy = %v, want a *ConflictError naming alpha", err)
	}
	// The foreign key holds even against a write that skips the check.
	if err := s.db.Exec("DELETE FROM policies WHERE id = ?", p.ID).Error; err == nil {
		t.Error("raw delete of a policy in use succeeded; want a foreign key error")
	}
	if err := s.DeletePolicy(ctx, p.ID+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeletePolicy(missing) = %v, want ErrNotFound", err)
	}
}
