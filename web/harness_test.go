package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/drawbridge/drawbridge/models"
)

// testApp is a whole console on a real SQLite file and a real listener.
type testApp struct {
	URL    string
	Store  *models.Store
	Server *Server
	Config Config
	// Keys are the server's secrets, for tests that forge what it signs.
	Keys Keys
}

// newTestApp starts a console; edit may change the config first.
func newTestApp(t *testing.T, edit ...func(*Config)) *testApp {
	t.Helper()
	return newTestAppWithKeys(t, testKeys(t), edit...)
}

// newTestAppWithKeys is newTestApp with the server's keys given.
func newTestAppWithKeys(t *testing.T, keys Keys, edit ...func(*Config)) *testApp {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg := DefaultConfig()
	cfg.Server.ConsoleURL = "http://" + ts.Listener.Addr().String()
	cfg.Server.DataDir = t.TempDir()
	for _, e := range edit {
		e(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	store := newTestStore(t, cfg)
	srv, err := New(Deps{Config: cfg, Keys: keys, Store: store, Logger: testLogger(t), Version: "test"})
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
	return &testApp{URL: ts.URL, Store: store, Server: srv, Config: cfg, Keys: keys}
}

func newTestStore(t *testing.T, cfg Config) *models.Store {
	t.Helper()
	secret := make([]byte, 32)
	rand.Read(secret)
	cipher, err := models.NewCipher(models.Key{ID: "test", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	s, err := models.Open(context.Background(), StoreOptions(cfg, models.Options{
		Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "test.db"), Cipher: cipher, Logger: testLogger(t),
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testKeys(t *testing.T) Keys {
	t.Helper()
	k := Keys{SessionHash: make([]byte, 64), SessionBlock: make([]byte, 32)}
	rand.Read(k.SessionHash)
	rand.Read(k.SessionBlock)
	var err error
	if k.Signing, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	return k
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

const testPassword = "correct horse battery"

// user creates a local user with testPassword.
func (a *testApp) user(t *testing.T, email string, admin bool) *models.User {
	t.Helper()
	hash, err := models.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	u := &models.User{Email: email, Name: "Test " + email, PasswordHash: hash, IsAdmin: admin, Provider: models.ProviderLocal}
	if err := a.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// browser is a client with its own cookie jar that does not follow
// redirects, so tests see each 303.
type browser struct {
	t      *testing.T
	app    *testApp
	client *http.Client
}

func (a *testApp) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, app: a, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// get fetches path and returns the response with its body read.
func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.URL+path, nil)
	req.Header.Set("Accept", "text/html")
	return b.do(req)
}

// post submits a form as a same-origin browser would: the CSRF token from
// the session is added unless the form already has a _csrf field.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if _, ok := form[csrfField]; !ok {
		form.Set(csrfField, b.csrf())
	}
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Origin", b.app.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// csrf reads the token a page renders into its forms.
func (b *browser) csrf() string {
	b.t.Helper()
	resp, body := b.get("/login")
	if resp.StatusCode == http.StatusSeeOther { // signed in: any page's sign-out form has it
		_, body = b.get("/")
	}
	tok, _ := doc(b.t, body).Find(`input[name="_csrf"]`).First().Attr("value")
	if tok == "" {
		b.t.Fatal("no CSRF token on the page")
	}
	return tok
}

// loginRequest is the sign-in form's POST, with testPassword, as this
// browser would send it, for a test to add headers to and send (do).
func (b *browser) loginRequest(email string) *http.Request {
	b.t.Helper()
	form := url.Values{"email": {email}, "password": {testPassword}, csrfField: {b.csrf()}}
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.app.URL)
	return req
}

// login signs in with testPassword and returns the redirect target.
func (b *browser) login(email string) string {
	b.t.Helper()
	resp, body := b.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d, body %.300s", email, resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

func doc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
