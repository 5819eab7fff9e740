package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/models/pgtest"
)

// newReplicas starts n consoles on one database, as n replicas behind a
// load balancer: one SQLite file, or, with DRAWBRIDGE_TEST_DB=postgres,
// one PostgreSQL database. Each has its own listener and session keys,
// so a browser keeps to the replica it was made for.
func newReplicas(t *testing.T, n int) []*testApp {
	t.Helper()
	driver, dsn := "sqlite", filepath.Join(t.TempDir(), "shared.db")
	if os.Getenv("DRAWBRIDGE_TEST_DB") == "postgres" {
		driver, dsn = "postgres", pgtest.DSN(t)
	}
	secret := make([]byte, models.KeySize)
	rand.Read(secret)
	cipher, err := models.NewCipher(models.Key{ID: "test", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	apps := make([]*testApp, n)
	for i := range apps {
		ts := httptest.NewUnstartedServer(nil)
		cfg := DefaultConfig()
		cfg.Server.ConsoleURL = "http://" + ts.Listener.Addr().String()
		cfg.Server.DataDir = t.TempDir()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		store, err := models.Open(context.Background(), StoreOptions(cfg, models.Options{
			Driver: driver, DSN: dsn, Cipher: cipher, Logger: testLogger(t),
		}))
		if err != nil {
			t.Fatalf("replica %d: open the store: %v", i, err)
		}
		t.Cleanup(func() { store.Close() })
		srv, err := New(Deps{Config: cfg, Keys: testKeys(t), Store: store, Logger: testLogger(t), Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		ts.Config.Handler = srv
		ts.Start()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { srv.Run(ctx); close(done) }()
		t.Cleanup(func() {
			ts.Close()
			cancel()
			<-done
			srv.Close(context.Background())
		})
		apps[i] = &testApp{URL: ts.URL, Store: store, Server: srv, Config: cfg}
	}
	return apps
}

// attempt posts a sign-in to a replica and returns its status and body.
func attempt(b *browser, email, password string) (int, string) {
	b.t.Helper()
	resp, body := b.post("/login", url.Values{"email": {email}, "password": {password}})
	return resp.StatusCode, body
}

// Failures on two replicas of one database add up: three on one and two
// on the other use up an account's five, and the sixth attempt, even
// with the right password, is refused on either. Counted per replica,
// neither would have reached five.
func TestSignInThrottleSharedByReplicas(t *testing.T) {
	apps := newReplicas(t, 2)
	apps[0].user(t, "alice@example.com", false)
	apps[0].user(t, "bob@example.com", false)
	one, two := apps[0].browser(t), apps[1].browser(t)

	for i, b := range []*browser{one, one, one, two, two} {
		if status, _ := attempt(b, "alice@example.com", "wrong password!!"); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, status)
		}
	}
	for name, b := range map[string]*browser{"one": one, "two": two} {
		status, body := attempt(b, "alice@example.com", testPassword)
		if status != http.StatusTooManyRequests {
			t.Fatalf("the sixth attempt, on replica %s: status %d, want 429", name, status)
		}
		if msg := doc(t, body).Find(`[data-testid="login-error"]`).Text(); !strings.Contains(msg, "Too many failed attempts. Try again in") {
			t.Errorf("replica %s's throttled page says %q", name, msg)
		}
	}
	// The address has used 5 of its 30: another account signs in.
	if got := apps[1].browser(t).login("bob@example.com"); got != "/" {
		t.Errorf("bob lands on %q, want /", got)
	}
}

// The address count is shared as well: thirty failures from one address,
// over many accounts and both replicas, pause the next attempt there.
func TestSignInThrottleSharedByReplicasPerAddress(t *testing.T) {
	apps := newReplicas(t, 2)
	apps[0].user(t, "alice@example.com", false)
	browsers := []*browser{apps[0].browser(t), apps[1].browser(t)}
	for i := range 30 {
		email := fmt.Sprintf("guess%d@example.com", i)
		if status, _ := attempt(browsers[i%2], email, "wrong password!!"); status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, status)
		}
	}
	for i, b := range browsers {
		if status, _ := attempt(b, "alice@example.com", testPassword); status != http.StatusTooManyRequests {
			t.Errorf("alice from the same address on replica %d: status %d, want 429", i, status)
		}
	}
}
