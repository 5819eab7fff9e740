package models

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testServiceAccount returns a valid account named name, acting as user
// userID, not yet stored; its token is "token-" + name.
func testServiceAccount(name string, userID uint, routeIDs ...uint) *ServiceAccount {
	return &ServiceAccount{Name: name, UserID: userID, TokenHash: HashToken("token-" + name), RouteIDs: routeIDs}
}

// createServiceAccount inserts testServiceAccount, failing the test on
// error.
func createServiceAccount(t *testing.T, s *Store, name string, userID uint, routeIDs ...uint) *ServiceAccount {
	t.Helper()
	a := testServiceAccount(name, userID, routeIDs...)
	if err := s.CreateServiceAccount(context.Background(), a); err != nil {
		t.Fatalf("create service account %s: %v", name, err)
	}
	return a
}

// getServiceAccount reads account id, failing the test on error.
func getServiceAccount(t *testing.T, s *Store, id uint) *ServiceAccount {
	t.Helper()
	a, err := s.GetServiceAccount(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// setServiceAccountExpiry stores at as the account's expiry directly,
// past times included, which CreateServiceAccount refuses.
func setServiceAccountExpiry(t *testing.T, s *Store, id uint, at time.Time) {
	t.Helper()
	if err := s.db.Model(&ServiceAccount{}).Where("id = ?", id).Update("expires_at", dbTime(at)).Error; err != nil {
		t.Fatal(err)
	}
}

func TestCreateAndGetServiceAccount(t *testing.T) {
	s := newTestStore(t)
	ctx := WithActor(context.Background(), "admin@example.com")
	alice := createUser(t, s, "alice@example.com")
	r1, r2 := createRoute(t, s, "zeta", "http://z.localhost:8080"), createRoute(t, s, "alpha", "http://a.localhost:8080")
	expires := time.Now().Add(24 * time.Hour)
	a := &ServiceAccount{
		Name: " CI deploy ", Description: " Deploys from CI ", UserID: alice.ID, TokenHash: HashToken("jwt"),
		ExpiresAt: &expires, RouteIDs: []uint{r2.ID, r1.ID, r2.ID},
		// Ignored on create:
		CreatedBy: "mallory@example.com", PreviousTokenHash: HashToken("old"), RevokedAt: &expires, LastUsedAt: &expires,
	}
	if err := s.CreateServiceAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.CreatedAt.IsZero() || a.UpdatedAt.IsZero() || a.Name != "CI deploy" || a.Description != "Deploys from CI" ||
		a.CreatedBy != "admin@example.com" || a.UserEmail != "alice@example.com" || !a.RoutesRestricted ||
		a.PreviousTokenHash != "" || a.RevokedAt != nil || a.LastUsedAt != nil {
		t.Errorf("created %+v", a)
	}
	wantRoutes := []uint{r1.ID, r2.ID}
	if !slices.Equal(a.RouteIDs, wantRoutes) {
		t.Errorf("RouteIDs = %v, want %v", a.RouteIDs, wantRoutes)
	}

	byID := getServiceAccount(t, s, a.ID)
	byName, err := s.FindServiceAccount(ctx, " ci DEPLOY")
	if err != nil {
		t.Fatal(err)
	}
	byIDText, err := s.FindServiceAccount(ctx, strconv.FormatUint(uint64(a.ID), 10))
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []*ServiceAccount{byID, byName, byIDText} {
		if got.ID != a.ID || got.Name != "CI deploy" || got.Description != "Deploys from CI" || got.UserID != alice.ID ||
			got.UserEmail != "alice@example.com" || got.CreatedBy != "admin@example.com" || got.TokenHash != HashToken("jwt") ||
			got.ExpiresAt == nil || !got.ExpiresAt.Equal(*a.ExpiresAt) || got.RevokedAt != nil || got.LastUsedAt != nil ||
			!got.RoutesRestricted || !slices.Equal(got.RouteIDs, wantRoutes) || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Errorf("read back %+v", got)
		}
		if st := got.Status(time.Now()); st != ServiceAccountActive {
			t.Errorf("Status = %q, want active", st)
		}
	}

	// An all-digit name would read as an ID on the command line.
	if fields := invalidFields(t, s.CreateServiceAccount(ctx, testServiceAccount("2024", alice.ID))); !slices.Equal(fields, []string{"name"}) {
		t.Errorf("an all-digit name: invalid %v, want name", fields)
	}
	if fields := invalidFields(t, s.CreateServiceAccount(ctx, testServiceAccount("ci\u202edeploy", alice.ID))); !slices.Equal(fields, []string{"name"}) {
		t.Errorf("a name with a bidi override: invalid %v, want name", fields)
	}
	plain := createServiceAccount(t, s, "plain", alice.ID)
	if len(plain.RouteIDs) != 0 || plain.RoutesRestricted {
		t.Errorf("an account without routes has RouteIDs %v, restricted %v", plain.RouteIDs, plain.RoutesRestricted)
	}
	if got := getServiceAccount(t, s, plain.ID); got.RouteIDs == nil || len(got.RouteIDs) != 0 {
		t.Errorf("read RouteIDs = %#v, want empty, not nil", got.RouteIDs)
	}

	if _, err := s.GetServiceAccount(ctx, 99); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetServiceAccount(missing) = %v, want ErrNotFound", err)
	}
	for _, key := range []string{"99", "nightly", ""} {
		if _, err := s.FindServiceAccount(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("FindServiceAccount(%q) = %v, want ErrNotFound", key, err)
		}
	}
}

func TestServiceAccountStatus(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	before, after := at.Add(-time.Second), at.Add(time.Second)
	tests := []struct {
		expires, revoked *time.Time
		want             string
	}{
		{nil, nil, ServiceAccountActive},
		{&after, nil, ServiceAccountActive},
		{&at, nil, ServiceAccountExpired},
		{&before, nil, ServiceAccountExpired},
		{&after, &before, ServiceAccountRevoked},
		{&before, &before, ServiceAccountRevoked},
	}
	for _, tt := range tests {
		a := ServiceAccount{ExpiresAt: tt.expires, RevokedAt: tt.revoked}
		if got := a.Status(at); got != tt.want {
			t.Errorf("Status(expires %v, revoked %v) = %q, want %q", tt.expires, tt.revoked, got, tt.want)
		}
	}
}

func TestServiceAccountValidation(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	route := createRoute(t, s, "tools", "http://tools.localhost:8080")
	disabled := createUser(t, s, "gone@example.com")
	if err := s.SetDisabled(ctx, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	v0, n0 := configVersionOf(t, s), changeCount(t, s)
	past := time.Now().Add(-time.Minute)
	tests := []struct {
		name string
		edit func(a *ServiceAccount)
		want []string
	}{
		{"valid", func(a *ServiceAccount) {}, nil},
		{"everything wrong at once", func(a *ServiceAccount) {
			a.Name, a.Description, a.UserID, a.TokenHash, a.ExpiresAt = " ", strings.Repeat("d", 1001), 999, "raw-token", &past
			a.RouteIDs = []uint{route.ID, 77, 76, 77}
		}, []string{"name", "description", "user", "token_hash", "expires_at", "routes"}},
		{"name too long", func(a *ServiceAccount) { a.Name = strings.Repeat("é", 101) }, []string{"name"}},
		{"name of 100 characters", func(a *ServiceAccount) { a.Name = strings.Repeat("é", 100) }, nil},
		{"control character in the name", func(a *ServiceAccount) { a.Name = "ci\x1b[2J" }, []string{"name"}},
		{"no user", func(a *ServiceAccount) { a.UserID = 0 }, []string{"user"}},
		{"disabled user", func(a *ServiceAccount) { a.UserID = disabled.ID }, []string{"user"}},
		{"upper-case hash", func(a *ServiceAccount) { a.TokenHash = strings.ToUpper(a.TokenHash) }, []string{"token_hash"}},
		{"no hash", func(a *ServiceAccount) { a.TokenHash = "" }, []string{"token_hash"}},
		{"expires now", func(a *ServiceAccount) { n := time.Now(); a.ExpiresAt = &n }, []string{"expires_at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testServiceAccount("ci", alice.ID, route.ID)
			tt.edit(a)
			err := s.CreateServiceAccount(ctx, a)
			if got := invalidFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("invalid fields = %q, want %q (%v)", got, tt.want, err)
			}
			if err == nil {
				if err := s.DeleteServiceAccount(ctx, a.ID); err != nil {
					t.Fatal(err)
				}
				v0, n0 = v0+2, n0+2
			}
		})
	}
	err := s.CreateServiceAccount(ctx, &ServiceAccount{Name: "x", UserID: alice.ID, TokenHash: "x", RouteIDs: []uint{77, 76, 77}})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.For("routes") != "include IDs that name no route: 76, 77" || ve.For("user") != "" {
		t.Errorf("error = %v", err)
	}
	if v, n := configVersionOf(t, s), changeCount(t, s); v != v0 || n != n0 {
		t.Errorf("refused creates moved the version to %d (want %d) and the changes to %d (want %d)", v, v0, n, n0)
	}
}

func TestServiceAccountNameConflict(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	createServiceAccount(t, s, "Deploy", alice.ID)
	v0 := configVersionOf(t, s)
	dup := testServiceAccount(" deploy ", alice.ID)
	dup.TokenHash = HashToken("another token")
	err := s.CreateServiceAccount(ctx, dup)
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Field != "name" || !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate name: %v, want a *ConflictError on name", err)
	}
	// The token hash is unique too; only a bug could repeat one.
	again := testServiceAccount("other", alice.ID)
	again.TokenHash = HashToken("token-Deploy")
	if err := s.CreateServiceAccount(ctx, again); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate token hash: %v, want ErrConflict", err)
	}
	if v := configVersionOf(t, s); v != v0 {
		t.Errorf("refused creates moved the version from %d to %d", v0, v)
	}
}

func TestListServiceAccounts(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice, bob := createUser(t, s, "alice@example.com"), createUser(t, s, "bob@corp.example")
	route := createRoute(t, s, "tools", "http://tools.localhost:8080")
	nightly := testServiceAccount("nightly", alice.ID, route.ID)
	nightly.Description = "Runs 100% of the tests"
	if err := s.CreateServiceAccount(ctx, nightly); err != nil {
		t.Fatal(err)
	}
	deploy := createServiceAccount(t, s, "Deploy", bob.ID)
	old := createServiceAccount(t, s, "old-agent", alice.ID)
	setServiceAccountExpiry(t, s, old.ID, time.Now().Add(-time.Hour))
	soon := testServiceAccount("soon", bob.ID)
	later := time.Now().Add(time.Hour)
	soon.ExpiresAt = &later
	if err := s.CreateServiceAccount(ctx, soon); err != nil {
		t.Fatal(err)
	}
	gone := createServiceAccount(t, s, "gone", alice.ID)
	if err := s.RevokeServiceAccount(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}

	names := func(accounts []ServiceAccount) []string {
		out := []string{}
		for _, a := range accounts {
			out = append(out, a.Name)
		}
		return out
	}
	tests := []struct {
		name  string
		f     ServiceAccountFilter
		want  []string
		total int64
	}{
		{"all, newest first", ServiceAccountFilter{}, []string{"gone", "soon", "old-agent", "Deploy", "nightly"}, 5},
		{"name", ServiceAccountFilter{Query: " DEPL"}, []string{"Deploy"}, 1},
		{"description, % literal", ServiceAccountFilter{Query: "100%"}, []string{"nightly"}, 1},
		{"_ is literal", ServiceAccountFilter{Query: "old_"}, []string{}, 0},
		{"user email", ServiceAccountFilter{Query: "CORP.example"}, []string{"soon", "Deploy"}, 2},
		{"user", ServiceAccountFilter{UserID: alice.ID}, []string{"gone", "old-agent", "nightly"}, 3},
		{"active", ServiceAccountFilter{Status: ServiceAccountActive}, []string{"soon", "Deploy", "nightly"}, 3},
		{"expired", ServiceAccountFilter{Status: ServiceAccountExpired}, []string{"old-agent"}, 1},
		{"revoked", ServiceAccountFilter{Status: ServiceAccountRevoked}, []string{"gone"}, 1},
		{"user and status", ServiceAccountFilter{UserID: bob.ID, Status: ServiceAccountActive, Query: "soo"}, []string{"soon"}, 1},
		{"page", ServiceAccountFilter{Offset: 1, Limit: 2}, []string{"soon", "old-agent"}, 5},
		{"page past the end", ServiceAccountFilter{Offset: 9, Limit: 2}, []string{}, 5},
	}
	for _, tt := range tests {
		got, total, err := s.ListServiceAccounts(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !slices.Equal(names(got), tt.want) || total != tt.total {
			t.Errorf("%s: got %q of %d, want %q of %d", tt.name, names(got), total, tt.want, tt.total)
		}
	}

	all, _, err := s.ListServiceAccounts(ctx, ServiceAccountFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		wantEmail, wantRoutes := "alice@example.com", []uint{}
		switch a.ID {
		case deploy.ID, soon.ID:
			wantEmail = "bob@corp.example"
		case nightly.ID:
			wantRoutes = []uint{route.ID}
		}
		if a.UserEmail != wantEmail || !slices.Equal(a.RouteIDs, wantRoutes) || a.RouteIDs == nil || a.TokenHash == "" {
			t.Errorf("listed %s: email %q, routes %v", a.Name, a.UserEmail, a.RouteIDs)
		}
	}

	_, _, err = s.ListServiceAccounts(ctx, ServiceAccountFilter{Status: "paused"})
	if got := invalidFields(t, err); !slices.Equal(got, []string{"status"}) {
		t.Errorf("unknown status: %v", err)
	}
}

func TestAllServiceAccounts(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	r1, r2 := createRoute(t, s, "one", "http://one.localhost:8080"), createRoute(t, s, "two", "http://two.localhost:8080")
	free := createServiceAccount(t, s, "free", alice.ID)
	limited := createServiceAccount(t, s, "limited", alice.ID, r2.ID, r1.ID)
	expired := createServiceAccount(t, s, "expired", alice.ID, r2.ID)
	setServiceAccountExpiry(t, s, expired.ID, time.Now().Add(-time.Hour))
	revoked := createServiceAccount(t, s, "revoked", alice.ID, r1.ID)
	if err := s.RevokeServiceAccount(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}

	all, err := s.AllServiceAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint][]uint{free.ID: {}, limited.ID: {r1.ID, r2.ID}, expired.ID: {r2.ID}}
	if len(all) != len(want) {
		t.Fatalf("AllServiceAccounts = %+v, want %d accounts", all, len(want))
	}
	for _, a := range all {
		routes, ok := want[a.ID]
		if !ok || !slices.Equal(a.RouteIDs, routes) || a.TokenHash != HashToken("token-"+a.Name) || a.UserEmail != "alice@example.com" {
			t.Errorf("AllServiceAccounts has %+v", a)
		}
	}
}

func TestServiceAccountHistory(t *testing.T) {
	s := newTestStore(t)
	ctx := WithActor(context.Background(), "admin@example.com")
	alice := createUser(t, s, "alice@example.com")
	r1, r2 := createRoute(t, s, "zeta", "http://z.localhost:8080"), createRoute(t, s, "Alpha", "http://a.localhost:8080")
	expires := time.Date(2099, 5, 1, 10, 30, 0, 0, time.UTC)
	a := &ServiceAccount{Name: "ci", Description: "Builds", UserID: alice.ID, TokenHash: HashToken("first"),
		ExpiresAt: &expires, RouteIDs: []uint{r1.ID, r2.ID}}
	if err := s.CreateServiceAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	hashes := []string{HashToken("first"), HashToken("second"), HashToken("third")}
	check := func(c *Change, action, wantBefore, wantAfter string) {
		t.Helper()
		if c.Resource != ResourceServiceAccount || c.ResourceID != a.ID || c.ResourceName != "ci" || c.Action != action ||
			c.Actor != "admin@example.com" {
			t.Errorf("recorded %+v", c)
		}
		if c.Before != wantBefore || c.After != wantAfter {
			t.Errorf("%s:\nbefore:\n%s\nwant:\n%s\nafter:\n%s\nwant:\n%s", action, c.Before, wantBefore, c.After, wantAfter)
		}
		for _, h := range hashes {
			if strings.Contains(c.Before+c.After, h) {
				t.Errorf("%s: the history holds a token hash:\n%s\n%s", action, c.Before, c.After)
			}
		}
	}
	created := "name: ci\ndescription: Builds\nuser: alice@example.com\nexpires_at: \"2099-05-01T10:30:00Z\"\n" +
		"routes:\n  - Alpha\n  - zeta\ntoken: (set)\n"
	check(lastChange(t, s), ActionCreate, "", created)

	if err := s.RotateServiceAccount(ctx, a.ID, hashes[1], time.Hour); err != nil {
		t.Fatal(err)
	}
	c := lastChange(t, s)
	until := getServiceAccount(t, s, a.ID).PreviousValidUntil.UTC().Format(time.RFC3339)
	rotated := strings.Replace(created, "token: (set)\n", "token: (changed)\nprevious_token_valid_until: \""+until+"\"\n", 1)
	check(c, ActionUpdate, created, rotated)

	if err := s.RotateServiceAccount(ctx, a.ID, hashes[2], 0); err != nil {
		t.Fatal(err)
	}
	withPrevious := strings.Replace(rotated, "token: (changed)\n", "token: (set)\n", 1)
	rotatedAgain := strings.Replace(created, "token: (set)\n", "token: (changed)\n", 1)
	check(lastChange(t, s), ActionUpdate, withPrevious, rotatedAgain)

	if err := s.RevokeServiceAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	revokedAt := getServiceAccount(t, s, a.ID).RevokedAt.UTC().Format(time.RFC3339)
	revoked := created + "revoked_at: \"" + revokedAt + "\"\n"
	check(lastChange(t, s), ActionUpdate, created, revoked)

	if err := s.DeleteRoute(ctx, r1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteServiceAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	check(lastChange(t, s), ActionDelete, strings.Replace(revoked, "  - zeta\n", "", 1), "")

	// With no limit, the routes read "all"; a limit whose routes are all
	// gone reads as an empty list.
	free := createServiceAccount(t, s, "free", alice.ID)
	if after := lastChange(t, s).After; !strings.Contains(after, "\nroutes: all\n") || !strings.Contains(after, "\nexpires_at: never\n") {
		t.Errorf("unlimited account recorded as:\n%s", after)
	}
	limited := createServiceAccount(t, s, "limited", alice.ID, r2.ID)
	if err := s.DeleteRoute(ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeServiceAccount(ctx, limited.ID); err != nil {
		t.Fatal(err)
	}
	if after := lastChange(t, s).After; !strings.Contains(after, "\nroutes: []\n") {
		t.Errorf("account whose routes are gone recorded as:\n%s", after)
	}
	changes, _, err := s.ListChanges(ctx, ChangeFilter{Resource: ResourceServiceAccount, ResourceID: free.ID})
	if err != nil || len(changes) != 1 {
		t.Errorf("history of one account = %+v, %v", changes, err)
	}
}

func TestServiceAccountVersionBumps(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	var a *ServiceAccount
	steps := []struct {
		name string
		do   func() error
		bump int64
	}{
		{"create", func() error { a = createServiceAccount(t, s, "ci", alice.ID); return nil }, 1},
		{"touch", func() error { return s.TouchServiceAccounts(ctx, map[uint]time.Time{a.ID: time.Now()}) }, 0},
		{"rotate", func() error { return s.RotateServiceAccount(ctx, a.ID, HashToken("new"), time.Minute) }, 1},
		{"revoke", func() error { return s.RevokeServiceAccount(ctx, a.ID) }, 1},
		{"revoke again", func() error { return s.RevokeServiceAccount(ctx, a.ID) }, 0},
		{"delete", func() error { return s.DeleteServiceAccount(ctx, a.ID) }, 1},
		{"disable the user", func() error { return s.SetDisabled(ctx, alice.ID, true) }, 1},
	}
	for _, st := range steps {
		v0, n0 := configVersionOf(t, s), changeCount(t, s)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if v, n := configVersionOf(t, s), changeCount(t, s); v != v0+st.bump || n != n0+st.bump {
			t.Errorf("%s: version %d → %d, changes %d → %d; want +%d each", st.name, v0, v, n0, n, st.bump)
		}
	}
	for name, err := range map[string]error{
		"revoke":  s.RevokeServiceAccount(ctx, a.ID),
		"rotate":  s.RotateServiceAccount(ctx, a.ID, HashToken("newer"), 0),
		"delete":  s.DeleteServiceAccount(ctx, a.ID),
		"rotate0": s.RotateServiceAccount(ctx, 0, HashToken("newer"), 0),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a missing account: %v, want ErrNotFound", name, err)
		}
	}
}

func TestRotateServiceAccount(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	a := createServiceAccount(t, s, "ci", alice.ID)
	first, second, third := a.TokenHash, HashToken("second"), HashToken("third")

	start := now()
	if err := s.RotateServiceAccount(ctx, a.ID, second, time.Hour); err != nil {
		t.Fatal(err)
	}
	got := getServiceAccount(t, s, a.ID)
	if got.TokenHash != second || got.PreviousTokenHash != first || got.PreviousValidUntil == nil ||
		got.PreviousValidUntil.Before(start.Add(time.Hour)) || got.PreviousValidUntil.After(now().Add(time.Hour)) {
		t.Errorf("after a rotation with grace: %+v", got)
	}

	// A second rotation during the grace (a double click) keeps the token
	// still deployed, and its deadline; the one never picked up goes.
	graceBefore := got.PreviousValidUntil
	if err := s.RotateServiceAccount(ctx, a.ID, HashToken("second again"), 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := getServiceAccount(t, s, a.ID); got.TokenHash != HashToken("second again") || got.PreviousTokenHash != first || !got.PreviousValidUntil.Equal(*graceBefore) {
		t.Errorf("after a rotation during the grace: %+v", got)
	}
	if fields := invalidFields(t, s.RotateServiceAccount(ctx, a.ID, HashToken("too long"), 31*24*time.Hour)); !slices.Equal(fields, []string{"grace"}) {
		t.Errorf("a grace of 31 days: invalid %v", fields)
	}
	if err := s.RotateServiceAccount(ctx, a.ID, third, 0); err != nil {
		t.Fatal(err)
	}
	got = getServiceAccount(t, s, a.ID)
	if got.TokenHash != third || got.PreviousTokenHash != "" || got.PreviousValidUntil != nil {
		t.Errorf("after a rotation without grace: %+v", got)
	}
	if err := s.RotateServiceAccount(ctx, a.ID, second, -time.Hour); err != nil {
		t.Fatal(err)
	}
	if got = getServiceAccount(t, s, a.ID); got.TokenHash != second || got.PreviousTokenHash != "" || got.PreviousValidUntil != nil {
		t.Errorf("a negative grace kept the old token: %+v", got)
	}

	v0 := configVersionOf(t, s)
	for _, bad := range []string{"", "raw jwt", second} {
		if fields := invalidFields(t, s.RotateServiceAccount(ctx, a.ID, bad, 0)); !slices.Equal(fields, []string{"token_hash"}) {
			t.Errorf("rotate to %q: invalid fields %q", bad, fields)
		}
	}
	if err := s.RevokeServiceAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	err := s.RotateServiceAccount(ctx, a.ID, third, time.Hour)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("rotating a revoked account: %v, want ErrConflict saying it is revoked", err)
	}
	if got = getServiceAccount(t, s, a.ID); got.TokenHash != second {
		t.Errorf("a refused rotation changed the token")
	}
	if v := configVersionOf(t, s); v != v0+1 {
		t.Errorf("version %d, want %d: only the revocation bumps it", v, v0+1)
	}
}

func TestRevokeServiceAccount(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	a := createServiceAccount(t, s, "ci", alice.ID)
	if err := s.RevokeServiceAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	first := getServiceAccount(t, s, a.ID)
	if first.RevokedAt == nil || first.Status(time.Now()) != ServiceAccountRevoked {
		t.Fatalf("revoked account reads %+v", first)
	}
	if err := s.RevokeServiceAccount(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if again := getServiceAccount(t, s, a.ID); !again.RevokedAt.Equal(*first.RevokedAt) || !again.UpdatedAt.Equal(first.UpdatedAt) {
		t.Errorf("revoking again moved revoked_at from %v to %v", first.RevokedAt, again.RevokedAt)
	}
}

func TestServiceAccountRouteCascade(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	r1, r2 := createRoute(t, s, "one", "http://one.localhost:8080"), createRoute(t, s, "two", "http://two.localhost:8080")
	a := createServiceAccount(t, s, "ci", alice.ID, r1.ID, r2.ID)
	free := createServiceAccount(t, s, "free", alice.ID)

	if err := s.DeleteRoute(ctx, r1.ID); err != nil {
		t.Fatal(err)
	}
	if got := getServiceAccount(t, s, a.ID); !slices.Equal(got.RouteIDs, []uint{r2.ID}) || !got.RoutesRestricted {
		t.Errorf("after deleting one of its routes: routes %v, restricted %v", got.RouteIDs, got.RoutesRestricted)
	}
	// Deleting the last one must not lift the limit: the account may then
	// use nothing, and the gateway does not see it at all.
	if err := s.DeleteRoute(ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	if got := getServiceAccount(t, s, a.ID); len(got.RouteIDs) != 0 || !got.RoutesRestricted {
		t.Errorf("after deleting all its routes: routes %v, restricted %v", got.RouteIDs, got.RoutesRestricted)
	}
	all, err := s.AllServiceAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].ID != free.ID {
		t.Errorf("AllServiceAccounts = %+v, want only the unlimited account", all)
	}
	if n := rowCount(t, s, "service_account_routes"); n != 0 {
		t.Errorf("%d route links outlived their routes", n)
	}
}

func TestServiceAccountUserCascade(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice, bob := createUser(t, s, "alice@example.com"), createUser(t, s, "bob@example.com")
	route := createRoute(t, s, "tools", "http://tools.localhost:8080")
	createServiceAccount(t, s, "alice-ci", alice.ID, route.ID)
	kept := createServiceAccount(t, s, "bob-ci", bob.ID, route.ID)
	if err := s.db.Exec("DELETE FROM users WHERE id = ?", alice.ID).Error; err != nil {
		t.Fatal(err)
	}
	accounts, total, err := s.ListServiceAccounts(ctx, ServiceAccountFilter{})
	if err != nil || total != 1 || accounts[0].ID != kept.ID {
		t.Errorf("after deleting a user: %+v (%d), %v", accounts, total, err)
	}
	if n := rowCount(t, s, "service_account_routes"); n != 1 {
		t.Errorf("%d route links, want bob's one", n)
	}
}

func TestTouchServiceAccounts(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	a, b := createServiceAccount(t, s, "a", alice.ID), createServiceAccount(t, s, "b", alice.ID)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	lastUsed := func(id uint) *time.Time {
		t.Helper()
		return getServiceAccount(t, s, id).LastUsedAt
	}

	if err := s.TouchServiceAccounts(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchServiceAccounts(ctx, map[uint]time.Time{a.ID: t0, 999: t0}); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(a.ID); got == nil || !got.Equal(t0) {
		t.Errorf("a last used %v, want %v", got, t0)
	}
	if got := lastUsed(b.ID); got != nil {
		t.Errorf("b last used %v, want never", got)
	}
	// An older time, from a slower replica, does not win over a newer one.
	if err := s.TouchServiceAccounts(ctx, map[uint]time.Time{a.ID: t0.Add(-time.Hour), b.ID: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(a.ID); !got.Equal(t0) {
		t.Errorf("a last used %v after an older touch, want %v", got, t0)
	}
	if got := lastUsed(b.ID); got == nil || !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("b last used %v", got)
	}
	if err := s.TouchServiceAccounts(ctx, map[uint]time.Time{a.ID: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got := getServiceAccount(t, s, a.ID); !got.LastUsedAt.Equal(t0.Add(time.Hour)) || !got.UpdatedAt.Equal(a.UpdatedAt) {
		t.Errorf("after a newer touch: last used %v, updated %v (was %v)", got.LastUsedAt, got.UpdatedAt, a.UpdatedAt)
	}
}

func TestUserServiceAccountsSetting(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	st, err := s.GetSettings(ctx)
	if err != nil || st.UserServiceAccounts {
		t.Fatalf("default settings %+v, %v: user service accounts should be off", st, err)
	}
	st.UserServiceAccounts = true
	if err := s.UpdateSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetSettings(ctx); err != nil || !got.UserServiceAccounts {
		t.Errorf("stored settings %+v, %v", got, err)
	}
	c := lastChange(t, s)
	if !strings.HasSuffix(c.Before, "\nuser_service_accounts: false\n") || !strings.HasSuffix(c.After, "\nuser_service_accounts: true\n") {
		t.Errorf("recorded:\n%s\n%s", c.Before, c.After)
	}
	var n int64
	if err := s.db.Model(&setting{}).Where("name = ? AND value = ?", "user_service_accounts", "true").Count(&n).Error; err != nil || n != 1 {
		t.Errorf("settings rows named user_service_accounts = %d, %v", n, err)
	}
}
