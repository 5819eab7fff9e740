package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCreateAndGetUser(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := &User{
		Email:    "  Alice@Example.COM ",
		Name:     " Alice ",
		Provider: ProviderLocal,
		Groups:   []string{"eng", " ops", "eng", ""},
	}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.CreatedAt.IsZero() {
		t.Errorf("CreateUser did not fill ID and CreatedAt: %+v", u)
	}
	if u.Email != "alice@example.com" || u.Name != "Alice" {
		t.Errorf("stored email, name = %q, %q; want trimmed, email lowercased", u.Email, u.Name)
	}
	if want := []string{"eng", "ops"}; !slices.Equal(u.Groups, want) {
		t.Errorf("groups = %q, want %q", u.Groups, want)
	}

	byID, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	byEmail, err := s.GetUserByEmail(ctx, " ALICE@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*User{byID, byEmail} {
		if got.ID != u.ID || got.Email != u.Email || !slices.Equal(got.Groups, u.Groups) ||
			got.Provider != ProviderLocal || !got.CreatedAt.Equal(u.CreatedAt) {
			t.Errorf("read back %+v, want %+v", got, u)
		}
	}
}

func TestGetUserNotFound(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	createUser(t, s, "someone@example.com")
	if u, err := s.GetUser(ctx, 999); !errors.Is(err, ErrNotFound) || u != nil {
		t.Errorf("GetUser(999) = %v, %v; want nil, ErrNotFound", u, err)
	}
	if u, err := s.GetUserByEmail(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) || u != nil {
		t.Errorf("GetUserByEmail = %v, %v; want nil, ErrNotFound", u, err)
	}
}

func TestCreateUserValidation(t *testing.T) {
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		user User
		want []string // the fields reported, in order
	}{
		{"valid local", User{Email: "a@example.com", Provider: ProviderLocal, PasswordHash: hash}, nil},
		{"valid oidc", User{Email: "a@example.com", Provider: "corp", Subject: "123"}, nil},
		{"name of 200 multibyte characters", User{Email: "a@example.com", Provider: ProviderLocal, Name: strings.Repeat("é", 200)}, nil},
		{"everything wrong", User{Email: "not-an-email", Name: strings.Repeat("x", 201), PasswordHash: "hunter2"}, []string{"email", "name", "provider", "password"}},
		{"missing email", User{Provider: ProviderLocal}, []string{"email"}},
		{"display name in email", User{Email: "Alice <a@example.com>", Provider: ProviderLocal}, []string{"email"}},
		{"no domain", User{Email: "alice@", Provider: ProviderLocal}, []string{"email"}},
		{"email too long", User{Email: strings.Repeat("a", 250) + "@x.io", Provider: ProviderLocal}, []string{"email"}},
		{"local with subject", User{Email: "a@example.com", Provider: ProviderLocal, Subject: "123"}, []string{"subject"}},
		{"provider too long", User{Email: "a@example.com", Provider: strings.Repeat("p", 65)}, []string{"provider"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			before := configVersionOf(t, s)
			u := tt.user
			err := s.CreateUser(context.Background(), &u)
			var fields []string
			var ve *ValidationError
			if errors.As(err, &ve) {
				for _, f := range ve.Fields {
					fields = append(fields, f.Field)
				}
			} else if err != nil {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			if !slices.Equal(fields, tt.want) {
				t.Errorf("invalid fields = %q, want %q (error: %v)", fields, tt.want, err)
			}
			wantVersion := before + 1
			if tt.want != nil {
				wantVersion = before
			}
			if got := configVersionOf(t, s); got != wantVersion {
				t.Errorf("config version = %d, want %d", got, wantVersion)
			}
		})
	}
}

func TestCreateUserConflicts(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	createUser(t, s, "alice@example.com")
	if err := s.CreateUser(ctx, &User{Email: "bob@example.com", Provider: "corp", Subject: "s-1"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		user      User
		wantField string
	}{
		{"same email", User{Email: "alice@example.com", Provider: ProviderLocal}, "email"},
		{"email in another case", User{Email: " ALICE@Example.com", Provider: ProviderLocal}, "email"},
		{"same provider and subject", User{Email: "carol@example.com", Provider: "corp", Subject: "s-1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := configVersionOf(t, s)
			u := tt.user
			err := s.CreateUser(ctx, &u)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("err = %v, want ErrConflict", err)
			}
			var ce *ConflictError
			if tt.wantField != "" && (!errors.As(err, &ce) || ce.Field != tt.wantField) {
				t.Errorf("err = %v, want a *ConflictError on %q", err, tt.wantField)
			}
			if got := configVersionOf(t, s); got != before {
				t.Errorf("config version moved from %d to %d on a failed write", before, got)
			}
		})
	}
	// Local users all have an empty subject; that must not collide.
	createUser(t, s, "dave@example.com")
}

func TestListUsers(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	for _, u := range []User{
		{Email: "carol@example.com", Name: "Carol Jones"},
		{Email: "alice@example.com", Name: "Alice Smith"},
		{Email: "bob@corp.example", Name: "Bob SMITH"},
		{Email: "dan@example.com", Name: "Dan 100% Real"},
		{Email: "erin_x@example.com", Name: "Erin"},
	} {
		u.Provider = ProviderLocal
		if err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{"alice@example.com", "bob@corp.example", "carol@example.com", "dan@example.com", "erin_x@example.com"}
	tests := []struct {
		name      string
		filter    UserFilter
		want      []string
		wantTotal int64
	}{
		{"everyone, by email", UserFilter{}, all, 5},
		{"email substring", UserFilter{Query: "corp"}, []string{"bob@corp.example"}, 1},
		{"name, any case", UserFilter{Query: "smith"}, []string{"alice@example.com", "bob@corp.example"}, 2},
		{"query in upper case", UserFilter{Query: " JONES "}, []string{"carol@example.com"}, 1},
		{"percent is literal", UserFilter{Query: "100%"}, []string{"dan@example.com"}, 1},
		{"underscore is literal", UserFilter{Query: "n_x"}, []string{"erin_x@example.com"}, 1},
		{"lone percent", UserFilter{Query: "%"}, []string{"dan@example.com"}, 1},
		{"no match", UserFilter{Query: "zed"}, []string{}, 0},
		{"first page", UserFilter{Limit: 2}, all[:2], 5},
		{"second page", UserFilter{Offset: 2, Limit: 2}, all[2:4], 5},
		{"past the end", UserFilter{Offset: 10, Limit: 2}, []string{}, 5},
		{"filtered page", UserFilter{Query: "example.com", Offset: 1, Limit: 2}, []string{"carol@example.com", "dan@example.com"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, total, err := s.ListUsers(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, u := range users {
				got = append(got, u.Email)
			}
			if !slices.Equal(got, tt.want) || total != tt.wantTotal {
				t.Errorf("ListUsers(%+v) = %q, %d; want %q, %d", tt.filter, got, total, tt.want, tt.wantTotal)
			}
		})
	}
}

func TestCountUsers(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if c, err := s.CountUsers(ctx); err != nil || c != (UserCounts{}) {
		t.Fatalf("CountUsers on empty store = %+v, %v", c, err)
	}
	for i := range 5 {
		u := createUser(t, s, fmt.Sprintf("u%d@example.com", i))
		if i < 2 {
			if err := s.SetAdmin(ctx, u.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		if i == 1 || i == 4 {
			if err := s.SetDisabled(ctx, u.ID, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := UserCounts{Total: 5, Admins: 2, Disabled: 2}
	if c, err := s.CountUsers(ctx); err != nil || c != want {
		t.Errorf("CountUsers = %+v, %v; want %+v", c, err, want)
	}
}

func TestRecordSignIn(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := createUser(t, s, "a@example.com")
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("X", 3600))
	if err := s.RecordSignIn(ctx, u.ID, at); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := at.Truncate(time.Microsecond)
	if got.LastSignInAt == nil || !got.LastSignInAt.Equal(want) {
		t.Errorf("LastSignInAt = %v, want %v", got.LastSignInAt, want)
	}
	if err := s.RecordSignIn(ctx, 999, at); !errors.Is(err, ErrNotFound) {
		t.Errorf("RecordSignIn(999) = %v, want ErrNotFound", err)
	}
}
