package models

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawSharedKey reads the stored (sealed) value of shared key name.
func rawSharedKey(t *testing.T, s *Store, name string) string {
	t.Helper()
	var v string
	if err := s.db.Raw("SELECT value FROM shared_keys WHERE name = ?", name).Row().Scan(&v); err != nil {
		t.Fatalf("shared key %s: %v", name, err)
	}
	return v
}

// openWithKeys opens the store path stands for with a cipher of current
// and older, closes it, and returns Open's error.
func openWithKeys(t *testing.T, path string, current Key, older ...Key) error {
	t.Helper()
	c, err := NewCipher(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t, path)
	opts.Cipher = c
	s, err := Open(context.Background(), opts)
	if err == nil {
		s.Close()
	}
	return err
}

// randomKey is a generate function for SharedKey that counts its calls.
func randomKey(calls *int) func() ([]byte, error) {
	return func() ([]byte, error) {
		*calls++
		return []byte(rand.Text()), nil
	}
}

func TestSharedKeyGeneratedOnceAndSealed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	s := openTestStore(t, path)
	calls := 0
	first, err := s.SharedKey(ctx, "session", randomKey(&calls))
	if err != nil || len(first) == 0 || calls != 1 {
		t.Fatalf("first read: %q, %v after %d generations", first, err, calls)
	}
	again, err := openTestStore(t, path).SharedKey(ctx, "session", randomKey(&calls))
	if err != nil || !bytes.Equal(again, first) || calls != 1 {
		t.Errorf("second read, by another process: %q, %v after %d generations; want the first key, none generated", again, err, calls)
	}
	if raw := rawSharedKey(t, s, "session"); !strings.HasPrefix(raw, "v1:k1:") || strings.Contains(raw, string(first)) {
		t.Errorf("stored %q, want the key sealed with k1", raw)
	}
	if _, err := s.SharedKey(ctx, "signing", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("a missing key without generate: %v, want ErrNotFound", err)
	}
	boom := errors.New("no entropy")
	if _, err := s.SharedKey(ctx, "signing", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("a failing generate: %v", err)
	}
	if n := rowCount(t, s, "shared_keys"); n != 2 {
		t.Errorf("%d shared keys, want the check and session", n)
	}
	for _, name := range []string{"", sharedKeyCheck, strings.Repeat("x", maxSharedKeyName+1)} {
		if _, err := s.SharedKey(ctx, name, randomKey(&calls)); err == nil {
			t.Errorf("SharedKey(%q) accepted", name)
		}
		if err := s.SetSharedKey(ctx, name, []byte("x")); err == nil {
			t.Errorf("SetSharedKey(%q) accepted", name)
		}
	}
}

// TestSharedKeyFirstStartsAgree starts ten replicas at once, on two
// stores of one database, each generating its own key: all of them end
// with one and the same, one of those generated.
func TestSharedKeyFirstStartsAgree(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	stores := []*Store{openTestStore(t, path), openTestStore(t, processPath(t, path))}
	const replicas = 10
	var (
		start     sync.WaitGroup
		done      sync.WaitGroup
		got       [replicas][]byte
		errs      [replicas]error
		generated sync.Map
	)
	start.Add(1)
	for i := range replicas {
		done.Go(func() {
			start.Wait()
			got[i], errs[i] = stores[i%2].SharedKey(ctx, "signing", func() ([]byte, error) {
				k := []byte(fmt.Sprintf("key of replica %d", i))
				generated.Store(string(k), true)
				return k, nil
			})
		})
	}
	start.Done()
	done.Wait()
	for i := range replicas {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		if !bytes.Equal(got[i], got[0]) {
			t.Errorf("replica %d has %q, replica 0 %q", i, got[i], got[0])
		}
	}
	if _, ok := generated.Load(string(got[0])); !ok {
		t.Errorf("the key %q is none that a replica generated", got[0])
	}
}

func TestSetSharedKey(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	if err := s.SetSharedKey(ctx, "signing", []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSharedKey(ctx, "signing", []byte("second")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SharedKey(ctx, "signing", nil); err != nil || string(got) != "second" {
		t.Errorf("after two sets: %q, %v", got, err)
	}
	if n := rowCount(t, s, "shared_keys"); n != 2 {
		t.Errorf("%d shared keys, want the check and signing", n)
	}

	boom := errors.New("refused")
	err := s.UpdateSharedKey(ctx, "signing", func(current []byte) ([]byte, error) { return nil, boom })
	if got, _ := s.SharedKey(ctx, "signing", nil); !errors.Is(err, boom) || string(got) != "second" {
		t.Errorf("an update that failed: %v, left %q", err, got)
	}
	var seen []byte
	err = s.UpdateSharedKey(ctx, "fresh", func(current []byte) ([]byte, error) { seen = current; return []byte("made"), nil })
	if got, _ := s.SharedKey(ctx, "fresh", nil); err != nil || seen != nil || string(got) != "made" {
		t.Errorf("an update of a missing key: saw %q, stored %q, %v", seen, got, err)
	}
}

// TestUpdateSharedKeyLosesNoRotation rotates one key from ten replicas at
// once, each adding a line to it: the key ends with every line, as it
// would have rotating one replica after another.
func TestUpdateSharedKeyLosesNoRotation(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	stores := []*Store{openTestStore(t, path), openTestStore(t, processPath(t, path))}
	if err := stores[0].SetSharedKey(ctx, "signing", []byte("start\n")); err != nil {
		t.Fatal(err)
	}
	const replicas = 10
	var done sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		done.Go(func() {
			errs[i] = stores[i%2].UpdateSharedKey(ctx, "signing", func(current []byte) ([]byte, error) {
				return fmt.Appendf(current, "rotation %d\n", i), nil
			})
		})
	}
	done.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	got, err := stores[1].SharedKey(ctx, "signing", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range replicas {
		if !bytes.Contains(got, fmt.Appendf(nil, "rotation %d\n", i)) {
			t.Errorf("rotation %d was lost:\n%s", i, got)
		}
	}
}

// TestSharedKeyOtherEncryptionKeys reads a shared key sealed with a key
// the reading process does not have: an error that says so, naming both,
// and the key is left as it is.
func TestSharedKeyOtherEncryptionKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	openTestStore(t, path) // the check, sealed with k1
	// k2 is current, k1 still opens: a process re-sealing secrets may
	// open the database, and seals the key with k2.
	if err := reencryptingWith(t, path, k2, k1).SetSharedKey(ctx, "signing", []byte("pem")); err != nil {
		t.Fatal(err)
	}
	s := withKeys(t, path, k1)
	_, err := s.SharedKey(ctx, "signing", nil)
	var ke *EncryptionKeysError
	if !errors.Is(err, ErrEncryptionKeys) || !errors.As(err, &ke) || ke.SealedWith != "k2" || len(ke.Have) != 1 || ke.Have[0] != "k1" {
		t.Fatalf("got %v, want an *EncryptionKeysError: sealed with k2, k1 at hand", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "every replica needs the same encryption keys") {
		t.Errorf("the error does not say what to do: %s", msg)
	}
	if err := s.UpdateSharedKey(ctx, "signing", func([]byte) ([]byte, error) { return []byte("lost"), nil }); !errors.Is(err, ErrEncryptionKeys) {
		t.Errorf("an update over a key this process cannot open: %v", err)
	}
	if got, err := reencryptingWith(t, path, k2, k1).SharedKey(ctx, "signing", nil); err != nil || string(got) != "pem" {
		t.Errorf("the key is %q after the refused update", got)
	}
}

// TestOpenRefusesANewerCurrentKey: a process whose current key is newer
// than the one the database is sealed with would seal secrets that the
// processes without that key cannot open; it is refused, told how a
// rotation goes, unless it is the one re-sealing everything.
func TestOpenRefusesANewerCurrentKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	k1, k2 := testKey("k1", 1), testKey("k2", 2)
	openTestStore(t, path) // sealed with k1
	c, _ := NewCipher(k2, k1)
	_, err := Open(context.Background(), Options{Driver: testOptions(t, path).Driver, DSN: testOptions(t, path).DSN, Cipher: c})
	if err == nil || !strings.Contains(err.Error(), `encrypts with key "k2", but this database's secrets are sealed with key "k1"`) ||
		!strings.Contains(err.Error(), "drawbridge keys reencrypt") {
		t.Fatalf("Open with k2 current over k1: %v, want a refusal that says how to rotate", err)
	}
	// k1 current, k2 only decrypting: the first step of a rotation.
	withKeys(t, path, k1, k2)
	// The re-encryption re-seals the check: then k2 current opens.
	if _, err := reencryptingWith(t, path, k2, k1).ReencryptSecrets(context.Background()); err != nil {
		t.Fatal(err)
	}
	withKeys(t, path, k2, k1)
	withKeys(t, path, k2)
}

// TestOpenRefusesOtherEncryptionKeys opens, with other encryption keys,
// a database whose check is sealed with k1: a key of another id, and one
// of the same id but another secret, are both refused.
func TestOpenRefusesOtherEncryptionKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	openTestStore(t, path)
	for name, tt := range map[string]struct {
		key  Key
		want string
	}{
		"another id":                  {testKey("k2", 2), `sealed with key "k1"`},
		"the same id":                 {testKey("k1", 9), "a key also named k1, but another one"},
		"another id, the same secret": {testKey("k0", 1), `sealed with key "k1"`},
	} {
		if err := openWithKeys(t, path, tt.key); !errors.Is(err, ErrEncryptionKeys) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want ErrEncryptionKeys saying %s", name, err, tt.want)
		}
	}
}

// TestFirstStartsWithDifferentKeys starts six processes at once on a
// database no process has opened, half with k1 and half with k2: those
// with the keys that wrote the check start, and the others refuse.
func TestFirstStartsWithDifferentKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	// Migrated, as the first Open would leave it, but without the check.
	db, err := openTestDB(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, migrations, discardLog); err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	sqlDB.Close()

	keys := []Key{testKey("k1", 1), testKey("k2", 2)}
	const processes = 6
	var (
		start, done sync.WaitGroup
		errs        [processes]error
	)
	start.Add(1)
	for i := range processes {
		c, err := NewCipher(keys[i%2])
		if err != nil {
			t.Fatal(err)
		}
		opts := testOptions(t, path)
		opts.Cipher = c
		done.Go(func() {
			start.Wait()
			var s *Store
			if s, errs[i] = Open(ctx, opts); errs[i] == nil {
				s.Close()
			}
		})
	}
	start.Done()
	done.Wait()
	started := map[string]int{}
	for i, err := range errs {
		switch {
		case err == nil:
			started[keys[i%2].ID]++
		case !errors.Is(err, ErrEncryptionKeys):
			t.Errorf("process %d: %v", i, err)
		}
	}
	if len(started) != 1 || (started["k1"] != processes/2 && started["k2"] != processes/2) {
		t.Errorf("started, by key: %v; want all of one key's processes and none of the other's", started)
	}
}

// TestSharedKeyUpdateAnnounced: a shared key written is a change every
// process on the database must hear of, to re-read its keys: the write
// bumps the configuration version in its own transaction, announced on
// PostgreSQL as configuration writes are, and a refused one does not.
// BumpConfigVersion does the same for keys kept outside the database.
// Neither records history.
func TestSharedKeyUpdateAnnounced(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	s := openTestStore(t, path)
	watcher := openTestStore(t, processPath(t, path))
	hooked := 0
	s.OnChange(func() { hooked++ })
	heard := make(chan struct{}, 100)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		watcher.WatchConfig(wctx, slog.New(slog.DiscardHandler), func() { heard <- struct{}{} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	hear := func(what string) {
		t.Helper()
		if !onPostgres {
			return // SQLite has no announcements: processes poll the version
		}
		select {
		case <-heard:
		case <-time.After(5 * time.Second):
			t.Fatalf("no announcement %s", what)
		}
	}
	hear("once listening")

	v0, n0 := configVersionOf(t, s), changeCount(t, s)
	if err := s.SetSharedKey(ctx, "signing", []byte("rotated")); err != nil {
		t.Fatal(err)
	}
	hear("after a key was written")
	if v := configVersionOf(t, s); v != v0+1 || hooked != 1 {
		t.Errorf("after a key was written: version %d (want %d), OnChange called %d times (want 1)", v, v0+1, hooked)
	}
	refused := s.UpdateSharedKey(ctx, "signing", func([]byte) ([]byte, error) { return nil, errors.New("no") })
	if v := configVersionOf(t, s); refused == nil || v != v0+1 || hooked != 1 {
		t.Errorf("a refused update (%v) moved the version to %d or called OnChange (%d calls)", refused, v, hooked)
	}
	if err := s.BumpConfigVersion(ctx); err != nil {
		t.Fatal(err)
	}
	hear("after BumpConfigVersion")
	if v := configVersionOf(t, s); v != v0+2 || hooked != 2 {
		t.Errorf("after BumpConfigVersion: version %d (want %d), OnChange called %d times (want 2)", v, v0+2, hooked)
	}
	if n := changeCount(t, s); n != n0 {
		t.Errorf("%d history rows recorded, want none", n-n0)
	}
}
