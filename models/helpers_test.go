package models

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/drawbridge/drawbridge/models/pgtest"
)

func TestMain(m *testing.M) {
	// Production cost makes every hash take ~50 ms and 64 MiB; the tests
	// check behaviour, not cost.
	argonParams = argon2Params{memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// testKey returns a fixed key whose secret is 32 copies of fill.
func testKey(id string, fill byte) Key {
	return Key{ID: id, Secret: bytes.Repeat([]byte{fill}, KeySize)}
}

func testCipher(t *testing.T) *Cipher {
	t.Helper()
	c, err := NewCipher(testKey("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newTestStore opens a fresh store on a temp file, closed when t ends.
func newTestStore(t *testing.T) *Store {
	t.Helper()
	return openTestStore(t, filepath.Join(t.TempDir(), "drawbridge.db"))
}

// newTestStoreWith opens a fresh store with the options edit sets.
func newTestStoreWith(t *testing.T, edit func(*Options)) *Store {
	t.Helper()
	return openTestStoreWith(t, filepath.Join(t.TempDir(), "drawbridge.db"), edit)
}

// openTestStore opens the store at path, closed when t ends.
func openTestStore(t *testing.T, path string) *Store {
	t.Helper()
	return openTestStoreWith(t, path, nil)
}

// openTestStoreWith opens the store at path with the options edit sets
// (edit may be nil), closed when t ends.
func openTestStoreWith(t *testing.T, path string, edit func(*Options)) *Store {
	t.Helper()
	opts := testOptions(t, path)
	if edit != nil {
		edit(&opts)
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// createUser inserts a local user with email, failing the test on error.
func createUser(t *testing.T, s *Store, email string) *User {
	t.Helper()
	u := &User{Email: email, Name: "Test " + email, Provider: ProviderLocal}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

// configVersionOf reads the configuration version, failing the test on error.
func configVersionOf(t *testing.T, s *Store) int64 {
	t.Helper()
	v, err := s.ConfigVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// changeCount counts the history rows, failing the test on error.
func changeCount(t *testing.T, s *Store) int64 {
	t.Helper()
	_, n, err := s.ListChanges(context.Background(), ChangeFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// lastChange returns the newest history row with its snapshots.
func lastChange(t *testing.T, s *Store) *Change {
	t.Helper()
	ctx := context.Background()
	page, _, err := s.ListChanges(ctx, ChangeFilter{Limit: 1})
	if err != nil || len(page) == 0 {
		t.Fatalf("no change recorded (%v)", err)
	}
	c, err := s.GetChange(ctx, page[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testPolicySource is a policy any ValidatePolicy would accept.
const testPolicySource = "allow:\n  and:\n    - domain: {is: example.com}\n"

// createPolicy inserts a policy named name, failing the test on error.
func createPolicy(t *testing.T, s *Store, name string) *Policy {
	t.Helper()
	p := &Policy{Name: name, Description: "Policy " + name, Source: testPolicySource}
	if err := s.CreatePolicy(context.Background(), p); err != nil {
		t.Fatalf("create policy %s: %v", name, err)
	}
	return p
}

// testApp returns a valid upstream app named name, not yet stored.
func testApp(name string) *UpstreamApp {
	return &UpstreamApp{
		Name:         name,
		ClientID:     "client-" + name,
		ClientSecret: "secret-" + name,
		AuthURL:      "https://auth.example.com/authorize",
		TokenURL:     "https://auth.example.com/token",
		Scopes:       []string{"read:user", "repo"},
	}
}

// createApp inserts testApp(name), failing the test on error.
func createApp(t *testing.T, s *Store, name string) *UpstreamApp {
	t.Helper()
	a := testApp(name)
	if err := s.CreateUpstreamApp(context.Background(), a); err != nil {
		t.Fatalf("create upstream app %s: %v", name, err)
	}
	return a
}

// createRoute inserts an enabled http route, failing the test on error.
func createRoute(t *testing.T, s *Store, name, from string, policyIDs ...uint) *Route {
	t.Helper()
	r := &Route{Name: name, From: from, To: "http://127.0.0.1:9001/", Kind: KindHTTP, Enabled: true}
	if err := s.CreateRoute(context.Background(), r, policyIDs); err != nil {
		t.Fatalf("create route %s: %v", name, err)
	}
	return r
}

// invalidFields returns the fields a *ValidationError in err names, in
// order; nil if err is nil. Any other error fails the test.
func invalidFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	fields := []string{}
	for _, f := range ve.Fields {
		fields = append(fields, f.Field)
	}
	return fields
}

// wantLiveColumns checks that the live entity model reads and writes
// exactly the columns a migration created in table: a field the live type
// renamed or added would be a column GORM cannot find.
func wantLiveColumns(t *testing.T, s *Store, table string, model any) {
	t.Helper()
	stmt := s.db.Model(model).Statement
	if err := stmt.Parse(model); err != nil {
		t.Fatal(err)
	}
	live := slices.Clone(stmt.Schema.DBNames)
	slices.Sort(live)
	cols, err := s.db.Migrator().ColumnTypes(table)
	if err != nil {
		t.Fatal(err)
	}
	stored := []string{}
	for _, c := range cols {
		stored = append(stored, c.Name())
	}
	slices.Sort(stored)
	if !slices.Equal(live, stored) {
		t.Errorf("%s: live columns %v, stored %v", table, live, stored)
	}
}
