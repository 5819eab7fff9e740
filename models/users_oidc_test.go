package models

import (
	"context"
	"errors"
	"slices"
	"testing"
)

func upsert(t *testing.T, s *Store, in OIDCIdentity) *User {
	t.Helper()
	u, err := s.UpsertOIDCUser(context.Background(), in)
	if err != nil {
		t.Fatalf("UpsertOIDCUser(%+v): %v", in, err)
	}
	return u
}

func TestUpsertOIDCUserCreatesThenUpdates(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	v0 := configVersionOf(t, s)

	first := upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-1", Email: "Alice@Example.com", Name: "Alice", Groups: []string{"eng", "all"}})
	if first.ID == 0 || first.Email != "alice@example.com" || first.Provider != "corp" || first.Subject != "s-1" ||
		first.IsAdmin || first.PasswordHash != "" || !slices.Equal(first.Groups, []string{"all", "eng"}) {
		t.Fatalf("created %+v", first)
	}
	if got := configVersionOf(t, s); got != v0+1 {
		t.Errorf("config version after create = %d, want %d", got, v0+1)
	}

	// The same claims again change nothing, and so bump nothing.
	same := upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-1", Email: "alice@example.com", Name: "Alice", Groups: []string{"all", "eng"}})
	if same.ID != first.ID {
		t.Errorf("second sign-in made user %d, want %d", same.ID, first.ID)
	}
	if got := configVersionOf(t, s); got != v0+1 {
		t.Errorf("config version after an unchanged sign-in = %d, want %d", got, v0+1)
	}

	// New claims are copied; an empty name does not wipe the old one.
	changed := upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-1", Email: "alice@new.example", Groups: []string{"ops"}})
	stored, err := s.GetUser(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*User{changed, stored} {
		if u.Email != "alice@new.example" || u.Name != "Alice" || !slices.Equal(u.Groups, []string{"ops"}) {
			t.Errorf("after new claims: %+v", u)
		}
	}
	if !stored.UpdatedAt.After(first.UpdatedAt) {
		t.Errorf("UpdatedAt %v did not move past %v", stored.UpdatedAt, first.UpdatedAt)
	}
	if got := configVersionOf(t, s); got != v0+2 {
		t.Errorf("config version after changed claims = %d, want %d", got, v0+2)
	}

	// Groups removed at the provider are removed here.
	if u := upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-1", Email: "alice@new.example"}); len(u.Groups) != 0 {
		t.Errorf("groups = %q, want none", u.Groups)
	}
}

func TestUpsertOIDCUserAdminGrantOnly(t *testing.T) {
	s := newTestStore(t)
	id := OIDCIdentity{Provider: "corp", Subject: "s-1", Email: "a@example.com"}
	if u := upsert(t, s, id); u.IsAdmin {
		t.Fatal("new user is admin without MakeAdmin")
	}
	id.MakeAdmin = true
	if u := upsert(t, s, id); !u.IsAdmin {
		t.Error("MakeAdmin did not grant admin")
	}
	id.MakeAdmin = false
	if u := upsert(t, s, id); !u.IsAdmin {
		t.Error("MakeAdmin=false revoked admin")
	}
	fresh := upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-2", Email: "b@example.com", MakeAdmin: true})
	if !fresh.IsAdmin {
		t.Error("new user with MakeAdmin is not admin")
	}
}

func TestUpsertOIDCUserAuditorGrantOnly(t *testing.T) {
	s := newTestStore(t)
	id := OIDCIdentity{Provider: "corp", Subject: "s-1", Email: "a@example.com", MakeAuditor: true}
	if u := upsert(t, s, id); !u.IsAuditor || u.IsAdmin {
		t.Errorf("new user with MakeAuditor: %+v", u)
	}
	id.MakeAuditor = false
	if u := upsert(t, s, id); !u.IsAuditor {
		t.Error("MakeAuditor=false revoked auditor")
	}
	other := upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-2", Email: "b@example.com"})
	if other.IsAuditor {
		t.Fatal("new user is an auditor without MakeAuditor")
	}
	if u := upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-2", Email: "b@example.com", MakeAuditor: true}); !u.IsAuditor {
		t.Error("MakeAuditor did not grant auditor to an existing user")
	}
}

func TestUpsertOIDCUserLinksByEmail(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	hash, err := HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	local := &User{Email: "alice@example.com", Provider: ProviderLocal, PasswordHash: hash}
	if err := s.CreateUser(ctx, local); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisabled(ctx, local.ID, true); err != nil {
		t.Fatal(err)
	}

	linked := upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-1", Email: "ALICE@example.com"})
	if linked.ID != local.ID || linked.Provider != "corp" || linked.Subject != "s-1" {
		t.Errorf("linked %+v, want user %d linked to corp/s-1", linked, local.ID)
	}
	if !linked.Disabled {
		t.Error("linking re-enabled a disabled user")
	}
	if linked.PasswordHash != hash {
		t.Error("linking dropped the user's password")
	}

	// Now linked, the user is found by subject even after an email change.
	moved := upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-1", Email: "alice@elsewhere.example"})
	if moved.ID != local.ID {
		t.Errorf("found user %d by subject, want %d", moved.ID, local.ID)
	}
}

func TestUpsertOIDCUserConflicts(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-1", Email: "alice@example.com"})
	upsert(t, s, OIDCIdentity{Provider: "corp", Subject: "s-2", Email: "bob@example.com"})
	tests := []struct {
		name string
		in   OIDCIdentity
	}{
		{"email of a user with another subject at this provider", OIDCIdentity{Provider: "corp", Subject: "s-3", Email: "alice@example.com"}},
		{"email change onto another user's email", OIDCIdentity{Provider: "corp", Subject: "s-2", Email: "alice@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := configVersionOf(t, s)
			_, err := s.UpsertOIDCUser(ctx, tt.in)
			var ce *ConflictError
			if !errors.Is(err, ErrConflict) || !errors.As(err, &ce) || ce.Field != "email" {
				t.Errorf("err = %v, want a *ConflictError on email", err)
			}
			if got := configVersionOf(t, s); got != before {
				t.Errorf("config version moved from %d to %d on a refused sign-in", before, got)
			}
		})
	}
	// A different provider may link the same person, replacing the link.
	u := upsert(t, s, OIDCIdentity{Provider: "other", Subject: "x", Email: "alice@example.com"})
	if u.Provider != "other" || u.Subject != "x" {
		t.Errorf("cross-provider link gave %+v", u)
	}
}

func TestUpsertOIDCUserValidation(t *testing.T) {
	s := newTestStore(t)
	tests := []struct {
		name string
		in   OIDCIdentity
		want []string
	}{
		{"empty", OIDCIdentity{}, []string{"provider", "subject", "email"}},
		{"local is reserved", OIDCIdentity{Provider: "local", Subject: "1", Email: "a@example.com"}, []string{"provider"}},
		{"bad email", OIDCIdentity{Provider: "corp", Subject: "1", Email: "a@"}, []string{"email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.UpsertOIDCUser(context.Background(), tt.in)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			var got []string
			for _, f := range ve.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("fields = %q, want %q", got, tt.want)
			}
		})
	}
}
