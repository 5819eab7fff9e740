package vault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/models/pgtest"
	"github.com/drawbridge/drawbridge/proxy/vault"
	"github.com/drawbridge/drawbridge/web/webtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// onPostgres says the store is PostgreSQL (DRAWBRIDGE_TEST_DB=postgres,
// as for the models suite), not SQLite.
var onPostgres = os.Getenv("DRAWBRIDGE_TEST_DB") == "postgres"

// storeOptions locates a fresh database for t: an SQLite file at dbPath,
// or a PostgreSQL database of t's own.
func storeOptions(t *testing.T, dbPath string) models.Options {
	t.Helper()
	if onPostgres {
		return models.Options{Driver: "postgres", DSN: pgtest.DSN(t)}
	}
	return models.Options{Driver: "sqlite", DSN: dbPath}
}

// tokenTTL is the provider's access token lifetime: short, so tests see
// tokens expire.
const tokenTTL = 2 * time.Second

// upstream is a real OAuth provider with refresh tokens, an app for it in
// a real store, and a user who connected through the code flow.
type upstream struct {
	provider *webtest.OIDCProvider
	store    *models.Store
	dbPath   string
	app      *models.UpstreamApp
	user     *models.User
}

const callback = "http://127.0.0.1:9/oauth/upstream/callback" // never requested: the code is read off the redirect

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	p := webtest.StartOIDCProviderWith(t, webtest.OIDCProviderOptions{
		ClientID: "drawbridge", ClientSecret: "s3cret-" + rand.Text(), RedirectURIs: []string{callback},
		Accounts: []webtest.OIDCAccount{{Login: "octocat", Email: "octocat@example.com", Name: "Octo Cat"}},
		Refresh:  true, AccessTokenTTL: tokenTTL, ExtraScopes: []string{"repo"},
	})
	ep := p.Endpoints(t)
	key := make([]byte, 32)
	rand.Read(key)
	cipher, err := models.NewCipher(models.Key{ID: "k1", Secret: key})
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(t.TempDir(), "vault.db")
	opts := storeOptions(t, dbPath)
	opts.Cipher = cipher
	store, err := models.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	u := &models.User{Email: "alice@example.com", Name: "Alice", Provider: models.ProviderLocal}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	app := &models.UpstreamApp{
		Name: "octo", ClientID: p.ClientID, ClientSecret: p.ClientSecret, AuthURL: ep.AuthURL, TokenURL: ep.TokenURL,
		RevocationURL: ep.RevocationURL, Scopes: []string{"openid", "repo"}, PKCE: true, AuthStyle: models.AuthStyleHeader,
	}
	if err := store.CreateUpstreamApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	up := &upstream{provider: p, store: store, dbPath: dbPath, app: app, user: u}
	up.connect(t)
	return up
}

// connect runs the code flow with PKCE as Drawbridge's Connect does, and
// stores the tokens.
func (up *upstream) connect(t *testing.T) *models.UpstreamConnection {
	t.Helper()
	cfg := vault.OAuth2Config(up.app, up.provider.ClientSecret, callback)
	verifier := oauth2.GenerateVerifier()
	jar, _ := cookiejar.New(nil)
	back := up.provider.SignIn(t, &http.Client{Jar: jar}, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "octocat")
	tok, err := cfg.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("the provider issued no refresh token")
	}
	c := vault.Connection(up.user.ID, up.app.ID, tok, "")
	if err := up.store.SaveUpstreamConnection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (up *upstream) vault(t *testing.T) *vault.Vault {
	return vault.New(vault.Options{Store: up.store})
}

// expire waits until the stored access token has expired.
func (up *upstream) expire(t *testing.T) {
	t.Helper()
	c, err := up.store.GetUpstreamConnection(context.Background(), up.user.ID, up.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.ExpiresAt == nil {
		t.Fatal("the provider gave no expiry")
	}
	time.Sleep(time.Until(*c.ExpiresAt) + 50*time.Millisecond)
}

// tokensAtOnce asks n vaults' Token at once, calls per vault each, and
// returns every answer.
func tokensAtOnce(t *testing.T, up *upstream, vaults []*vault.Vault, calls int) []string {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var got []string
	start := make(chan struct{})
	for _, v := range vaults {
		for range calls {
			wg.Go(func() {
				<-start
				tok, err := v.Token(context.Background(), up.user.ID, up.app)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("Token: %v", err)
				}
				got = append(got, tok)
			})
		}
	}
	close(start)
	wg.Wait()
	return got
}

func TestFiftyConcurrentCallsRefreshOnce(t *testing.T) {
	up := newUpstream(t)
	v := up.vault(t)
	first, err := v.Token(context.Background(), up.user.ID, up.app)
	if err != nil {
		t.Fatal(err)
	}
	before := up.provider.Stats(t)
	up.expire(t)

	got := tokensAtOnce(t, up, []*vault.Vault{v}, 50)
	after := up.provider.Stats(t)
	if n := after.RefreshGrants - before.RefreshGrants; n != 1 {
		t.Fatalf("50 concurrent calls caused %d refreshes, want 1", n)
	}
	for _, tok := range got {
		if tok == first || tok != got[0] {
			t.Fatalf("calls got different or stale tokens: %q vs %q (first %q)", tok, got[0], first)
		}
	}
	// The rotated refresh token was saved: the next refresh works.
	up.expire(t)
	if _, err := v.Token(context.Background(), up.user.ID, up.app); err != nil {
		t.Fatalf("second refresh with the rotated refresh token: %v", err)
	}
	if n := up.provider.Stats(t).RefreshGrants - after.RefreshGrants; n != 1 {
		t.Fatalf("second expiry caused %d refreshes, want 1", n)
	}
}

// Two vaults on one database are two processes: the refresh lease in the
// row lets only one of them spend the refresh token.
func TestTwoProcessesRefreshOnce(t *testing.T) {
	up := newUpstream(t)
	vaults := []*vault.Vault{up.vault(t), up.vault(t), up.vault(t)}
	before := up.provider.Stats(t)
	up.expire(t)
	got := tokensAtOnce(t, up, vaults, 10)
	stats := up.provider.Stats(t)
	if n := stats.RefreshGrants - before.RefreshGrants; n != 1 {
		t.Fatalf("three processes refreshing at once caused %d refreshes, want 1", n)
	}
	if stats.RefreshFailures != before.RefreshFailures {
		t.Fatalf("a refresh token was spent twice: %d refused refreshes", stats.RefreshFailures-before.RefreshFailures)
	}
	for _, tok := range got {
		if tok != got[0] {
			t.Fatalf("processes hold different tokens after one refresh")
		}
	}
}

func TestRevokedUpstreamGrantNeedsReconnect(t *testing.T) {
	up := newUpstream(t)
	v := up.vault(t)
	up.provider.RevokeGrants(t)
	up.expire(t)
	if _, err := v.Token(context.Background(), up.user.ID, up.app); !errors.Is(err, vault.ErrNeedsReconnect) {
		t.Fatalf("Token after the upstream revoked the grant: %v, want ErrNeedsReconnect", err)
	}
	c, err := up.store.GetUpstreamConnection(context.Background(), up.user.ID, up.app.ID)
	if err != nil || c.Status != models.ConnectionNeedsReconnect {
		t.Fatalf("connection = %+v, %v; want status needs_reconnect", c, err)
	}
	// Another process learns it from the row without asking the upstream.
	before := up.provider.Stats(t)
	if _, err := up.vault(t).Token(context.Background(), up.user.ID, up.app); !errors.Is(err, vault.ErrNeedsReconnect) {
		t.Fatalf("second process: %v, want ErrNeedsReconnect", err)
	}
	if up.provider.Stats(t) != before {
		t.Fatal("a connection marked needs re-Connect was refreshed again")
	}
	// Connecting again clears it.
	up.connect(t)
	if _, err := v.Token(context.Background(), up.user.ID, up.app); err != nil {
		t.Fatalf("after connecting again: %v", err)
	}
}

func TestDisconnectForgetsAndRevokesUpstream(t *testing.T) {
	up := newUpstream(t)
	v := up.vault(t)
	if _, err := v.Token(context.Background(), up.user.ID, up.app); err != nil {
		t.Fatal(err)
	}
	before := up.provider.Stats(t)
	if err := v.Disconnect(context.Background(), up.user.ID, up.app); err != nil {
		t.Fatal(err)
	}
	if n := up.provider.Stats(t).Revocations - before.Revocations; n != 2 {
		t.Errorf("the upstream revoked %d tokens, want 2 (refresh and access)", n)
	}
	if _, err := v.Token(context.Background(), up.user.ID, up.app); !errors.Is(err, vault.ErrNotConnected) {
		t.Fatalf("Token after Disconnect: %v, want ErrNotConnected", err)
	}
	if err := v.Disconnect(context.Background(), up.user.ID, up.app); !errors.Is(err, vault.ErrNotConnected) {
		t.Fatalf("second Disconnect: %v, want ErrNotConnected", err)
	}
}

// The database file never holds an upstream token in clear.
func TestTokensAreSealedAtRest(t *testing.T) {
	if onPostgres {
		t.Skip("SQLite only: reads the bytes of SQLite's database files")
	}
	up := newUpstream(t)
	c, err := up.store.GetUpstreamConnection(context.Background(), up.user.ID, up.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	up.expire(t)
	if _, err := up.vault(t).Token(context.Background(), up.user.ID, up.app); err != nil {
		t.Fatal(err)
	}
	fresh, err := up.store.GetUpstreamConnection(context.Background(), up.user.ID, up.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	up.store.Close()
	var files []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(up.dbPath + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		files = append(files, b...)
	}
	for name, secret := range map[string]string{
		"first access token": c.AccessToken, "first refresh token": c.RefreshToken,
		"refreshed access token": fresh.AccessToken, "rotated refresh token": fresh.RefreshToken,
	} {
		if len(secret) < 16 {
			t.Fatalf("%s is too short to search for: %q", name, secret)
		}
		if bytes.Contains(files, []byte(secret)) {
			t.Errorf("the database files hold the %s in clear", name)
		}
	}
}

// With auth_style auto, x/oauth2 tries HTTP Basic, then the form body; the
// vault keeps the app's client so the way that worked is remembered, and
// a refused refresh reaches the provider once, not twice.
func TestAutoDetectedAuthStyleIsRemembered(t *testing.T) {
	up := newUpstream(t)
	up.app.AuthStyle = models.AuthStyleAuto
	v := up.vault(t)
	up.expire(t)
	if _, err := v.Token(context.Background(), up.user.ID, up.app); err != nil {
		t.Fatal(err)
	}
	up.provider.RevokeGrants(t)
	before := up.provider.Stats(t)
	up.expire(t)
	if _, err := v.Token(context.Background(), up.user.ID, up.app); !errors.Is(err, vault.ErrNeedsReconnect) {
		t.Fatalf("Token after revocation: %v", err)
	}
	if n := up.provider.Stats(t).RefreshFailures - before.RefreshFailures; n != 1 {
		t.Fatalf("one refused refresh reached the provider %d times, want 1", n)
	}
}

// A token with no refresh token that has expired cannot be renewed: the
// connection says so, for the portal and the authorization flow to send
// the user to Connect, instead of staying "connected" for ever.
func TestExpiredWithoutRefreshTokenNeedsReconnect(t *testing.T) {
	up := newUpstream(t)
	past := time.Now().Add(-time.Minute)
	c := &models.UpstreamConnection{UserID: up.user.ID, AppID: up.app.ID, AccessToken: "old-access-token-0123456789", TokenType: "Bearer", ExpiresAt: &past}
	if err := up.store.SaveUpstreamConnection(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := up.vault(t).Token(context.Background(), up.user.ID, up.app); !errors.Is(err, vault.ErrNeedsReconnect) {
		t.Fatalf("Token: %v, want ErrNeedsReconnect", err)
	}
	got, err := up.store.GetUpstreamConnection(context.Background(), up.user.ID, up.app.ID)
	if err != nil || got.Status != models.ConnectionNeedsReconnect {
		t.Fatalf("connection %+v, %v; want needs_reconnect", got, err)
	}
}
