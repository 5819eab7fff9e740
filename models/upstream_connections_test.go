package models

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testConnection returns a connection of the user at the app, with tokens
// that name both, expiring in an hour, not yet stored.
func testConnection(userID, appID uint) *UpstreamConnection {
	expires := time.Now().Add(time.Hour)
	tag := HashToken(time.Now().String())[:8]
	return &UpstreamConnection{
		UserID: userID, AppID: appID,
		AccessToken: "access-" + tag, RefreshToken: "refresh-" + tag, TokenType: "bearer",
		ExpiresAt: &expires, Scopes: []string{"repo", "read:user"}, Account: "octocat",
	}
}

// saveConnection stores c, failing the test on error.
func saveConnection(t *testing.T, s *Store, c *UpstreamConnection) *UpstreamConnection {
	t.Helper()
	if err := s.SaveUpstreamConnection(context.Background(), c); err != nil {
		t.Fatalf("save connection of user %d at app %d: %v", c.UserID, c.AppID, err)
	}
	return c
}

// getConnection reads the user's connection to the app, failing the test
// on error.
func getConnection(t *testing.T, s *Store, userID, appID uint) *UpstreamConnection {
	t.Helper()
	c, err := s.GetUpstreamConnection(context.Background(), userID, appID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rawConnection reads the user's connection to the app as its table holds
// it, sealed tokens and lease included.
func rawConnection(t *testing.T, s *Store, userID, appID uint) connectionRow {
	t.Helper()
	var row connectionRow
	if err := s.db.Where("user_id = ? AND app_id = ?", userID, appID).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row
}

func TestSaveUpstreamConnection(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	github := createApp(t, s, "github")
	v0 := configVersionOf(t, s)

	c := testConnection(alice.ID, github.ID)
	c.Status, c.Version = "bogus", 42 // the store decides these
	saveConnection(t, s, c)
	if c.ID == 0 || c.Status != ConnectionConnected || c.Version != 1 || c.CreatedAt.IsZero() ||
		!c.UpdatedAt.Equal(c.CreatedAt) || !c.HasRefreshToken {
		t.Errorf("saved connection = %+v", c)
	}
	got := getConnection(t, s, alice.ID, github.ID)
	want := *c
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("read back:\n got %+v\nwant %+v", *got, want)
	}
	if _, err := s.GetUpstreamConnection(ctx, alice.ID, github.ID+1); !errors.Is(err, ErrNotFound) {
		t.Errorf("connection to another app: err = %v, want ErrNotFound", err)
	}

	// A lease held when the user reconnects is gone afterwards.
	if ok, err := s.ClaimUpstreamRefresh(ctx, alice.ID, github.ID, 1, "gw-1", time.Now().Add(time.Minute)); err != nil || !ok {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	again := &UpstreamConnection{UserID: alice.ID, AppID: github.ID, AccessToken: "second", TokenType: "bearer"}
	saveConnection(t, s, again)
	if again.ID != c.ID || again.Version != 2 || !again.CreatedAt.Equal(c.CreatedAt) ||
		again.UpdatedAt.Before(c.UpdatedAt) || again.HasRefreshToken || again.ExpiresAt != nil {
		t.Errorf("saved again = %+v, first %+v", again, c)
	}
	got = getConnection(t, s, alice.ID, github.ID)
	if got.AccessToken != "second" || got.RefreshToken != "" || got.HasRefreshToken || got.Account != "" ||
		got.Scopes == nil || len(got.Scopes) != 0 || got.Version != 2 {
		t.Errorf("after the second save = %+v", got)
	}
	if n := rowCount(t, s, "upstream_connections"); n != 1 {
		t.Errorf("%d connections, want 1 per user and app", n)
	}
	if row := rawConnection(t, s, alice.ID, github.ID); row.RefreshLeaseOwner != "" || row.RefreshLeaseUntil != nil {
		t.Errorf("lease after a save = %q until %v", row.RefreshLeaseOwner, row.RefreshLeaseUntil)
	}
	if v := configVersionOf(t, s); v != v0 {
		t.Errorf("config version %d → %d: tokens are not configuration", v0, v)
	}

	if err := s.SaveUpstreamConnection(ctx, testConnection(alice.ID+100, github.ID)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: err = %v, want ErrNotFound", err)
	}
	if err := s.SaveUpstreamConnection(ctx, testConnection(alice.ID, github.ID+100)); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown app: err = %v, want ErrNotFound", err)
	}
}

func TestSaveUpstreamConnectionValidation(t *testing.T) {
	s := newTestStore(t)
	long := strings.Repeat("x", 16<<10+1)
	tests := []struct {
		name string
		edit func(c *UpstreamConnection)
		want []string
	}{
		{"largest allowed", func(c *UpstreamConnection) {
			c.AccessToken, c.RefreshToken, c.TokenType = long[1:], long[1:], long[:64]
			c.Account, c.Scopes = long[:320], slices.Repeat([]string{long[:256]}, 64)
		}, nil},
		{"no ids", func(c *UpstreamConnection) { c.UserID, c.AppID = 0, 0 }, []string{"user_id", "app_id"}},
		{"no access token", func(c *UpstreamConnection) { c.AccessToken = "" }, []string{"access_token"}},
		{"too many scopes", func(c *UpstreamConnection) { c.Scopes = make([]string, 65) }, []string{"scopes"}},
		{"everything wrong", func(c *UpstreamConnection) {
			c.UserID, c.AppID = 0, 0
			c.AccessToken, c.RefreshToken, c.TokenType, c.Account = long, long, long[:65], long[:321]
			c.Scopes = []string{"ok", long[:257]}
		}, []string{"user_id", "app_id", "access_token", "refresh_token", "token_type", "scopes", "account"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The first case stores; ids that exist are not needed to fail.
			alice := createUser(t, s, strings.ReplaceAll(tt.name, " ", "-")+"@example.com")
			app := createApp(t, s, strings.ReplaceAll(tt.name, " ", "-"))
			c := testConnection(alice.ID, app.ID)
			tt.edit(c)
			if got := invalidFields(t, s.SaveUpstreamConnection(context.Background(), c)); !slices.Equal(got, tt.want) {
				t.Errorf("invalid fields = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUpstreamTokensSealedAtRest writes distinctive tokens, refreshed
// ones too, and looks for them in the database's bytes: in the WAL while
// the store is open, in the main file once closing has checkpointed it.
// The account, stored in clear, shows that the search would find them.
func TestUpstreamTokensSealedAtRest(t *testing.T) {
	sqliteOnly(t, "reads the bytes of SQLite's database file and WAL")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	s, err := Open(ctx, Options{Driver: "sqlite", DSN: path, Cipher: testCipher(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	alice := createUser(t, s, "alice@example.com")
	github := createApp(t, s, "github")

	secrets := []string{"gho_ACCESS_c4a1e9f0d2b7", "ghr_REFRESH_5e8d3a7b1c9f", "gho_ACCESS_NEW_0b6f2e4d8a1c", "ghr_REFRESH_NEW_9d7c5b3a1e0f"}
	const clear = "account-in-clear-3f9b1d"
	c := &UpstreamConnection{UserID: alice.ID, AppID: github.ID, AccessToken: secrets[0], RefreshToken: secrets[1],
		TokenType: "bearer", Account: clear}
	saveConnection(t, s, c)
	if ok, err := s.ClaimUpstreamRefresh(ctx, alice.ID, github.ID, c.Version, "gw", time.Now().Add(time.Minute)); err != nil || !ok {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	c.AccessToken, c.RefreshToken = secrets[2], secrets[3]
	if err := s.FinishUpstreamRefresh(ctx, c, "gw"); err != nil {
		t.Fatal(err)
	}
	row := rawConnection(t, s, alice.ID, github.ID)
	for _, sealed := range []string{row.AccessTokenSealed, row.RefreshTokenSealed} {
		if !strings.HasPrefix(sealed, "v1:k1:") {
			t.Errorf("stored token %q is not sealed", sealed)
		}
	}

	check := func(when string, files ...string) {
		t.Helper()
		var all []byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if !bytes.Contains(all, []byte(clear)) {
			t.Fatalf("%s: the account %q is not in %v either: the search cannot see", when, clear, files)
		}
		for _, secret := range secrets {
			if bytes.Contains(all, []byte(secret)) {
				t.Errorf("%s: token %q is in the database in clear", when, secret)
			}
		}
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL while the store is open: %v", err)
	}
	check("open", path, path+"-wal")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed", path, path+"-wal")
}

// TestUpstreamTokensBoundToTheirRow checks that a sealed token moved to
// another connection or column does not decrypt, and that a token that
// does not decrypt is an error naming the row, never an empty token.
func TestUpstreamTokensBoundToTheirRow(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice, bob := createUser(t, s, "alice@example.com"), createUser(t, s, "bob@example.com")
	github := createApp(t, s, "github")
	saveConnection(t, s, testConnection(alice.ID, github.ID))
	mine := saveConnection(t, s, testConnection(bob.ID, github.ID))
	theirs := rawConnection(t, s, alice.ID, github.ID)

	tests := []struct{ name, column, value, want string }{
		{"another user's access token", "access_token_sealed", theirs.AccessTokenSealed, "access token"},
		{"the refresh token as access token", "access_token_sealed", rawConnection(t, s, bob.ID, github.ID).RefreshTokenSealed, "access token"},
		{"another user's refresh token", "refresh_token_sealed", theirs.RefreshTokenSealed, "refresh token"},
		{"garbage", "refresh_token_sealed", "v1:k1:AAAA", "refresh token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saveConnection(t, s, testConnection(bob.ID, github.ID))
			if err := s.db.Table("upstream_connections").Where("id = ?", mine.ID).Update(tt.column, tt.value).Error; err != nil {
				t.Fatal(err)
			}
			_, err := s.GetUpstreamConnection(ctx, bob.ID, github.ID)
			if err == nil || !strings.Contains(err.Error(), "upstream connection "+itoa(mine.ID)) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("get: err = %v, want one naming the connection and its %s", err, tt.want)
			}
			if _, err := s.DeleteUpstreamConnection(ctx, bob.ID, github.ID); err == nil {
				t.Error("delete returned a connection whose token does not decrypt")
			}
			if list, err := s.ListUpstreamConnections(ctx, ConnectionFilter{UserID: bob.ID}); err != nil || len(list) != 1 {
				t.Errorf("list = %v, %v; the row stays, and lists need no tokens", list, err)
			}
		})
	}
}

func TestDeleteUpstreamConnection(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	github, notion := createApp(t, s, "github"), createApp(t, s, "notion")
	c := saveConnection(t, s, testConnection(alice.ID, github.ID))
	saveConnection(t, s, testConnection(alice.ID, notion.ID))

	got, err := s.DeleteUpstreamConnection(ctx, alice.ID, github.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.AccessToken != c.AccessToken || got.RefreshToken != c.RefreshToken {
		t.Errorf("deleted = %+v, want the tokens of %+v", got, c)
	}
	if _, err := s.GetUpstreamConnection(ctx, alice.ID, github.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: err = %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteUpstreamConnection(ctx, alice.ID, github.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: err = %v, want ErrNotFound", err)
	}
	getConnection(t, s, alice.ID, notion.ID)
}

func TestUpstreamRefreshLease(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice := createUser(t, s, "alice@example.com")
	github := createApp(t, s, "github")
	v0 := configVersionOf(t, s)
	c := saveConnection(t, s, testConnection(alice.ID, github.ID))
	minute := time.Now().Add(time.Minute)
	claim := func(version int64, owner string, until time.Time) bool {
		t.Helper()
		ok, err := s.ClaimUpstreamRefresh(ctx, alice.ID, github.ID, version, owner, until)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	refreshed := func(access string, version int64) *UpstreamConnection {
		return &UpstreamConnection{UserID: alice.ID, AppID: github.ID, AccessToken: access, RefreshToken: "rt-" + access,
			TokenType: "Bearer", Version: version}
	}

	if !claim(1, "a", minute) {
		t.Fatal("first claim refused")
	}
	if claim(1, "b", minute) {
		t.Error("second claim while the lease is live: granted")
	}
	if err := s.FinishUpstreamRefresh(ctx, refreshed("by-b", 1), "b"); !errors.Is(err, ErrConflict) {
		t.Errorf("finish by a non-owner: err = %v, want ErrConflict", err)
	}
	if err := s.FinishUpstreamRefresh(ctx, refreshed("stale", 0), "a"); !errors.Is(err, ErrConflict) {
		t.Errorf("finish at a stale version: err = %v, want ErrConflict", err)
	}
	r := refreshed("by-a", 1)
	if err := s.FinishUpstreamRefresh(ctx, r, "a"); err != nil {
		t.Fatal(err)
	}
	if r.Version != 2 || r.Status != ConnectionConnected || r.LastRefreshedAt == nil || !r.HasRefreshToken {
		t.Errorf("finished = %+v", r)
	}
	got := getConnection(t, s, alice.ID, github.ID)
	if got.AccessToken != "by-a" || got.RefreshToken != "rt-by-a" || got.TokenType != "Bearer" || got.ExpiresAt != nil ||
		!slices.Equal(got.Scopes, c.Scopes) || got.Account != c.Account || got.Version != 2 ||
		got.LastRefreshedAt == nil || !got.LastRefreshedAt.Equal(*r.LastRefreshedAt) || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("after the refresh = %+v", got)
	}
	if row := rawConnection(t, s, alice.ID, github.ID); row.RefreshLeaseOwner != "" || row.RefreshLeaseUntil != nil {
		t.Errorf("lease after finishing = %q until %v", row.RefreshLeaseOwner, row.RefreshLeaseUntil)
	}
	if err := s.FinishUpstreamRefresh(ctx, refreshed("again", 1), "a"); !errors.Is(err, ErrConflict) {
		t.Errorf("finish twice: err = %v, want ErrConflict", err)
	}
	if claim(1, "b", minute) {
		t.Error("claim at a stale version: granted")
	}

	// A refresh that fails for now releases the lease, version unchanged.
	if !claim(2, "b", minute) {
		t.Fatal("claim at the new version refused")
	}
	if err := s.FailUpstreamRefresh(ctx, alice.ID, github.ID, "b", false); err != nil {
		t.Fatal(err)
	}
	// An expired lease can be taken over, and its old owner cannot
	// finish.
	if !claim(2, "c", time.Now().Add(-time.Second)) {
		t.Fatal("claim after a failed refresh refused")
	}
	if !claim(2, "d", minute) {
		t.Fatal("claim of an expired lease refused")
	}
	if err := s.FinishUpstreamRefresh(ctx, refreshed("by-c", 2), "c"); !errors.Is(err, ErrConflict) {
		t.Errorf("finish by the expired lease's owner: err = %v, want ErrConflict", err)
	}
	// Scopes given replace the stored ones.
	r = refreshed("by-d", 2)
	r.Scopes = []string{"repo"}
	if err := s.FinishUpstreamRefresh(ctx, r, "d"); err != nil {
		t.Fatal(err)
	}
	if got := getConnection(t, s, alice.ID, github.ID); !slices.Equal(got.Scopes, []string{"repo"}) || got.Version != 3 {
		t.Errorf("scopes after a refresh that named them = %v at version %d", got.Scopes, got.Version)
	}

	// Failing without the lease changes nothing; failing for good with it
	// needs a reconnect, and nothing can be claimed until then.
	if err := s.FailUpstreamRefresh(ctx, alice.ID, github.ID, "nobody", true); err != nil {
		t.Fatal(err)
	}
	if got := getConnection(t, s, alice.ID, github.ID); got.Status != ConnectionConnected || got.Version != 3 {
		t.Errorf("after a failure by a non-owner: %s at version %d", got.Status, got.Version)
	}
	if !claim(3, "e", minute) {
		t.Fatal("claim refused")
	}
	if err := s.FailUpstreamRefresh(ctx, alice.ID, github.ID, "e", true); err != nil {
		t.Fatal(err)
	}
	got = getConnection(t, s, alice.ID, github.ID)
	if got.Status != ConnectionNeedsReconnect || got.Version != 4 || got.AccessToken != "by-d" {
		t.Errorf("after a failure that needs a reconnect = %+v", got)
	}
	if row := rawConnection(t, s, alice.ID, github.ID); row.RefreshLeaseOwner != "" || row.RefreshLeaseUntil != nil {
		t.Errorf("lease after failing = %q until %v", row.RefreshLeaseOwner, row.RefreshLeaseUntil)
	}
	if claim(4, "f", minute) {
		t.Error("claim of a connection that needs a reconnect: granted")
	}
	again := saveConnection(t, s, testConnection(alice.ID, github.ID))
	if again.Status != ConnectionConnected || again.Version != 5 || !claim(5, "f", minute) {
		t.Errorf("reconnected = %+v, or its claim was refused", again)
	}

	if ok, err := s.ClaimUpstreamRefresh(ctx, alice.ID, github.ID+1, 1, "g", minute); ok || err != nil {
		t.Errorf("claim of a missing connection = %v, %v; want false, nil", ok, err)
	}
	if got := invalidFields(t, func() error { _, err := s.ClaimUpstreamRefresh(ctx, alice.ID, github.ID, 5, "", minute); return err }()); !slices.Equal(got, []string{"owner"}) {
		t.Errorf("claim without an owner: invalid fields = %v", got)
	}
	if got := invalidFields(t, s.FinishUpstreamRefresh(ctx, &UpstreamConnection{Version: 5}, "")); !slices.Equal(got, []string{"user_id", "app_id", "access_token", "owner"}) {
		t.Errorf("empty finish: invalid fields = %v", got)
	}
	if got := invalidFields(t, s.FailUpstreamRefresh(ctx, alice.ID, github.ID, "", true)); !slices.Equal(got, []string{"owner"}) {
		t.Errorf("fail without an owner: invalid fields = %v", got)
	}
	if v := configVersionOf(t, s); v != v0 {
		t.Errorf("config version %d → %d: tokens are not configuration", v0, v)
	}
}

// TestClaimUpstreamRefreshConcurrently races 20 claims of one connection
// at one version: exactly one holds the lease.
func TestClaimUpstreamRefreshConcurrently(t *testing.T) {
	s := newTestStore(t)
	alice := createUser(t, s, "alice@example.com")
	github := createApp(t, s, "github")
	c := saveConnection(t, s, testConnection(alice.ID, github.ID))

	const n = 20
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []string
	)
	start := make(chan struct{})
	for i := range n {
		owner := "gw-" + itoa(uint(i))
		wg.Go(func() {
			<-start
			ok, err := s.ClaimUpstreamRefresh(context.Background(), alice.ID, github.ID, c.Version, owner, time.Now().Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				winners = append(winners, owner)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("winners = %v, want exactly one", winners)
	}
	if row := rawConnection(t, s, alice.ID, github.ID); row.RefreshLeaseOwner != winners[0] {
		t.Errorf("lease owner = %q, want the winner %q", row.RefreshLeaseOwner, winners[0])
	}
}

func TestListUpstreamConnections(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice, bob := createUser(t, s, "alice@example.com"), createUser(t, s, "bob@example.com")
	notion, github := createApp(t, s, "notion"), createApp(t, s, "github")
	createApp(t, s, "linear")
	noRefresh := testConnection(bob.ID, notion.ID)
	noRefresh.RefreshToken = ""
	for _, c := range []*UpstreamConnection{testConnection(bob.ID, github.ID), noRefresh,
		testConnection(alice.ID, notion.ID), testConnection(alice.ID, github.ID)} {
		saveConnection(t, s, c)
	}
	if ok, err := s.ClaimUpstreamRefresh(ctx, bob.ID, notion.ID, 1, "gw", time.Now().Add(time.Minute)); err != nil || !ok {
		t.Fatalf("claim = %v, %v", ok, err)
	}
	if err := s.FailUpstreamRefresh(ctx, bob.ID, notion.ID, "gw", true); err != nil {
		t.Fatal(err)
	}

	type item struct {
		app, user  string
		hasRefresh bool
		status     string
	}
	list := func(f ConnectionFilter) []item {
		t.Helper()
		cs, err := s.ListUpstreamConnections(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []item{}
		for _, c := range cs {
			if c.AccessToken != "" || c.RefreshToken != "" {
				t.Errorf("listed connection %d carries tokens", c.ID)
			}
			if len(c.Scopes) != 2 || c.ExpiresAt == nil || c.Account != "octocat" || c.CreatedAt.IsZero() {
				t.Errorf("listed connection = %+v", c)
			}
			out = append(out, item{c.AppName, c.UserEmail, c.HasRefreshToken, c.Status})
		}
		return out
	}
	ghAlice := item{"github", "alice@example.com", true, ConnectionConnected}
	ghBob := item{"github", "bob@example.com", true, ConnectionConnected}
	noAlice := item{"notion", "alice@example.com", true, ConnectionConnected}
	noBob := item{"notion", "bob@example.com", false, ConnectionNeedsReconnect}
	tests := []struct {
		name   string
		filter ConnectionFilter
		want   []item
	}{
		{"all", ConnectionFilter{}, []item{ghAlice, ghBob, noAlice, noBob}},
		{"one user", ConnectionFilter{UserID: bob.ID}, []item{ghBob, noBob}},
		{"one app", ConnectionFilter{AppID: notion.ID}, []item{noAlice, noBob}},
		{"both", ConnectionFilter{UserID: alice.ID, AppID: github.ID}, []item{ghAlice}},
		{"none", ConnectionFilter{UserID: alice.ID + bob.ID}, []item{}},
	}
	for _, tt := range tests {
		if got := list(tt.filter); !slices.Equal(got, tt.want) {
			t.Errorf("%s: list = %v, want %v", tt.name, got, tt.want)
		}
	}

	counts, err := s.UpstreamConnectionCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint]ConnectionCounts{github.ID: {Connected: 2}, notion.ID: {Connected: 1, NeedsReconnect: 1}}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("counts = %v, want %v", counts, want)
	}
}

func TestTouchUpstreamConnections(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	alice, bob := createUser(t, s, "alice@example.com"), createUser(t, s, "bob@example.com")
	github := createApp(t, s, "github")
	saveConnection(t, s, testConnection(alice.ID, github.ID))
	saveConnection(t, s, testConnection(bob.ID, github.ID))
	lastUsed := func(u *User) *time.Time {
		t.Helper()
		c := getConnection(t, s, u.ID, github.ID)
		if c.Version != 1 {
			t.Errorf("touch changed the version to %d", c.Version)
		}
		return c.LastUsedAt
	}
	touch := func(used map[ConnectionKey]time.Time) {
		t.Helper()
		if err := s.TouchUpstreamConnections(ctx, used); err != nil {
			t.Fatal(err)
		}
	}

	touch(nil)
	t1 := time.Now()
	t0, t2 := t1.Add(-time.Minute), t1.Add(time.Minute)
	touch(map[ConnectionKey]time.Time{
		{alice.ID, github.ID}:      t1,
		{alice.ID + 99, github.ID}: t1, // no such connection
	})
	if got := lastUsed(alice); got == nil || !got.Equal(dbTime(t1)) {
		t.Errorf("alice last used %v, want %v", got, t1)
	}
	if got := lastUsed(bob); got != nil {
		t.Errorf("bob last used %v, want never", got)
	}
	touch(map[ConnectionKey]time.Time{{alice.ID, github.ID}: t0, {bob.ID, github.ID}: t0})
	if got := lastUsed(alice); got == nil || !got.Equal(dbTime(t1)) {
		t.Errorf("an earlier touch moved alice's last use back to %v", got)
	}
	if got := lastUsed(bob); got == nil || !got.Equal(dbTime(t0)) {
		t.Errorf("bob last used %v, want %v", got, t0)
	}
	touch(map[ConnectionKey]time.Time{{alice.ID, github.ID}: t2})
	if got := lastUsed(alice); got == nil || !got.Equal(dbTime(t2)) {
		t.Errorf("alice last used %v, want %v", got, t2)
	}
}
