package models

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestUserWritesBumpConfigVersionOnce(t *testing.T) {
	hash, err := HashPassword("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name      string
		write     func(s *Store, id uint) error
		wantErr   error // nil, ErrNotFound, ErrConflict, or errInvalid
		wantBump  int64
		wantEpoch int // SessionEpoch afterwards
	}{
		{"create", func(s *Store, _ uint) error {
			return s.CreateUser(ctx, &User{Email: "new@example.com", Provider: ProviderLocal})
		}, nil, 1, 0},
		{"set password", func(s *Store, id uint) error { return s.SetPasswordHash(ctx, id, hash) }, nil, 1, 1},
		{"grant admin", func(s *Store, id uint) error { return s.SetAdmin(ctx, id, true) }, nil, 1, 0},
		{"revoke admin from a non-admin: no change", func(s *Store, id uint) error { return s.SetAdmin(ctx, id, false) }, nil, 0, 0},
		{"grant auditor", func(s *Store, id uint) error { return s.SetAuditor(ctx, id, true) }, nil, 1, 0},
		{"revoke auditor from a non-auditor: no change", func(s *Store, id uint) error { return s.SetAuditor(ctx, id, false) }, nil, 0, 0},
		{"disable", func(s *Store, id uint) error { return s.SetDisabled(ctx, id, true) }, nil, 1, 1},
		{"enable", func(s *Store, id uint) error { return s.SetDisabled(ctx, id, false) }, nil, 1, 1},
		{"upsert oidc, new", func(s *Store, _ uint) error {
			_, err := s.UpsertOIDCUser(ctx, OIDCIdentity{Provider: "corp", Subject: "9", Email: "oidc@example.com"})
			return err
		}, nil, 1, 0},
		{"upsert oidc, links the user", func(s *Store, _ uint) error {
			_, err := s.UpsertOIDCUser(ctx, OIDCIdentity{Provider: "corp", Subject: "9", Email: "user@example.com"})
			return err
		}, nil, 1, 0},
		{"record sign-in", func(s *Store, id uint) error { return s.RecordSignIn(ctx, id, time.Now()) }, nil, 0, 0},
		{"create, invalid", func(s *Store, _ uint) error {
			return s.CreateUser(ctx, &User{Email: "nope", Provider: ProviderLocal})
		}, errInvalid, 0, 0},
		{"create, duplicate", func(s *Store, _ uint) error {
			return s.CreateUser(ctx, &User{Email: "USER@example.com", Provider: ProviderLocal})
		}, ErrConflict, 0, 0},
		{"plaintext password", func(s *Store, id uint) error { return s.SetPasswordHash(ctx, id, "hunter2hunter2") }, errInvalid, 0, 0},
		{"set password, no such user", func(s *Store, id uint) error { return s.SetPasswordHash(ctx, id+1, hash) }, ErrNotFound, 0, 0},
		{"set admin, no such user", func(s *Store, id uint) error { return s.SetAdmin(ctx, id+1, true) }, ErrNotFound, 0, 0},
		{"set auditor, no such user", func(s *Store, id uint) error { return s.SetAuditor(ctx, id+1, true) }, ErrNotFound, 0, 0},
		{"disable, no such user", func(s *Store, id uint) error { return s.SetDisabled(ctx, id+1, true) }, ErrNotFound, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			u := createUser(t, s, "user@example.com")
			before := configVersionOf(t, s)
			changesBefore := changeCount(t, s)

			err := tt.write(s, u.ID)
			var ve *ValidationError
			switch {
			case tt.wantErr == errInvalid && !errors.As(err, &ve):
				t.Fatalf("err = %v, want a *ValidationError", err)
			case tt.wantErr != errInvalid && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := configVersionOf(t, s) - before; got != tt.wantBump {
				t.Errorf("config version moved by %d, want %d", got, tt.wantBump)
			}
			if got := changeCount(t, s) - changesBefore; got != tt.wantBump {
				t.Errorf("%d history rows recorded, want %d (one per bump)", got, tt.wantBump)
			}
			after, err := s.GetUser(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.SessionEpoch != tt.wantEpoch {
				t.Errorf("SessionEpoch = %d, want %d", after.SessionEpoch, tt.wantEpoch)
			}
		})
	}
}

// errInvalid stands for "any *ValidationError" in table tests.
var errInvalid = errors.New("invalid")

func TestUserSettersApply(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	u := createUser(t, s, "a@example.com")
	hash, err := HashPassword("another long password")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // so UpdatedAt can be seen to move
	if err := s.SetPasswordHash(ctx, u.ID, hash); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAdmin(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.IsAdmin || !got.Disabled || got.SessionEpoch != 2 || !CheckPassword(got.PasswordHash, "another long password") {
		t.Errorf("after setters: %+v", got)
	}
	if !got.UpdatedAt.After(u.UpdatedAt) {
		t.Errorf("UpdatedAt %v did not move past %v", got.UpdatedAt, u.UpdatedAt)
	}
}

// TestSetAuditor grants and revokes the auditor role: it reads back, is
// recorded in the history, and leaves the admin role alone.
func TestSetAuditor(t *testing.T) {
	s := newTestStore(t)
	ctx := WithActor(context.Background(), "root@example.com")
	u := createUser(t, s, "auditor@example.com")
	if u.IsAuditor {
		t.Fatal("a new user is an auditor")
	}
	if err := s.SetAuditor(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUser(ctx, u.ID)
	if err != nil || !got.IsAuditor || got.IsAdmin {
		t.Fatalf("after granting: %+v, %v", got, err)
	}
	c := lastChange(t, s)
	if c.Resource != ResourceUser || c.ResourceID != u.ID || c.Actor != "root@example.com" ||
		!strings.Contains(c.Before, "is_auditor: false\n") || !strings.Contains(c.After, "is_auditor: true\n") {
		t.Errorf("recorded %+v\n%s\n->\n%s", c, c.Before, c.After)
	}
	if err := s.SetAuditor(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetUser(ctx, u.ID); got.IsAuditor {
		t.Error("revoking did not stick")
	}
}
