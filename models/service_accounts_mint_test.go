package models

import (
	"context"
	"errors"
	"strconv"
	"testing"
)

// The token of a new account names its ID, so it is minted inside the
// transaction that creates the row, and the row keeps its hash.
func TestCreateServiceAccountWithToken(t *testing.T) {
	s := newTestStore(t)
	u := createUser(t, s, "ci@example.com")
	ctx := context.Background()
	before, _ := s.ConfigVersion(ctx)
	a := testServiceAccount("deploy", u.ID)
	tok, err := s.CreateServiceAccountWithToken(ctx, a, func(id uint) (string, error) {
		return "token-for-" + strconv.FormatUint(uint64(id), 10), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := getServiceAccount(t, s, a.ID)
	if tok != "token-for-"+strconv.FormatUint(uint64(a.ID), 10) || got.TokenHash != HashToken(tok) {
		t.Fatalf("token %q, stored hash %q", tok, got.TokenHash)
	}
	if after, _ := s.ConfigVersion(ctx); after != before+1 {
		t.Errorf("version %d → %d, want one bump", before, after)
	}

	// A mint that fails leaves nothing behind.
	boom := errors.New("boom")
	_, err = s.CreateServiceAccountWithToken(ctx, testServiceAccount("broken", u.ID), func(uint) (string, error) { return "", boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the mint's", err)
	}
	if _, err := s.FindServiceAccount(ctx, "broken"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed mint left an account: %v", err)
	}
}
