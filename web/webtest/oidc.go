// Package webtest holds helpers that tests in any Drawbridge package use to
// stand up real peers, such as an OpenID Connect provider.
package webtest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds on the provider process: node starts it in well under a second, but
// a loaded CI machine can be slow, and a stuck process must not hang the test.
const (
	providerStartTimeout = 20 * time.Second
	providerStopTimeout  = 5 * time.Second
)

// OIDCProvider is a running OpenID Connect provider (panva/oidc-provider, a
// certified implementation) that knows one confidential client. It requires
// the authorization code flow with PKCE (S256), offers the openid, email,
// profile and groups scopes, and puts email, email_verified, name and the
// groups claim in the ID token. With the upstream options of
// OIDCProviderOptions it also stands in for an upstream OAuth 2 provider,
// such as GitHub, that issues refresh tokens for scopes of its own.
type OIDCProvider struct {
	// Issuer is the provider's issuer URL, http://127.0.0.1:PORT; discovery
	// is at Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID and ClientSecret identify the registered client, which
	// authenticates at the token endpoint with client_secret_basic, or
	// with OIDCProviderOptions.TokenAuthMethod.
	ClientID, ClientSecret string
	// RedirectURIs are the client's registered redirect URIs.
	RedirectURIs []string
	// GroupsClaim is the name of the claim that carries an account's groups.
	GroupsClaim string
}

// OIDCAccount is a person who can sign in at an OIDCProvider. Login is also
// the subject (sub) of their ID tokens.
type OIDCAccount struct {
	Login, Email, Name string
	Groups             []string
	// EmailUnverified makes email_verified false; by default it is true.
	EmailUnverified bool
}

// OIDCProviderOptions configure StartOIDCProviderWith.
type OIDCProviderOptions struct {
	ClientID, ClientSecret string
	RedirectURIs           []string
	// GroupsClaim names the groups claim; empty means "groups".
	GroupsClaim string
	Accounts    []OIDCAccount

	// The options below make the provider stand in for an upstream OAuth 2
	// provider such as GitHub; upstream.go has the helpers that go with them.

	// Refresh lets the client use the refresh_token grant: every code grant and
	// every refresh returns a refresh token, rotated on each use.
	// Presenting a refresh token that was already used fails and revokes its
	// whole grant (oidc-provider's reuse detection). Refresh also turns on the
	// revocation endpoint, and makes tokens outlive the provider's session.
	Refresh bool
	// AccessTokenTTL is the access token lifetime; zero means one hour.
	// It must be whole seconds. When set, a token stops working as soon as
	// it expires, without oidc-provider's usual 15 seconds of grace.
	AccessTokenTTL time.Duration
	// Scopes the provider offers beyond openid, email, profile and groups
	// (e.g. "repo", "read:user"), as an upstream API would.
	// A client may ask for them without openid: that is plain OAuth 2, with
	// no ID token.
	ExtraScopes []string
	// TokenAuthMethod is the client's token endpoint auth:
	// client_secret_basic (default) or client_secret_post.
	// With client_secret_post the token and revocation endpoints refuse HTTP
	// Basic; with client_secret_basic they take the secret in the form too,
	// as oidc-provider always does.
	TokenAuthMethod string
}

// StartOIDCProvider starts a provider with one client and the given accounts,
// and stops it when the test ends. Only these accounts can sign in.
func StartOIDCProvider(t testing.TB, clientID, clientSecret string, redirectURIs []string, accounts ...OIDCAccount) *OIDCProvider {
	t.Helper()
	return StartOIDCProviderWith(t, OIDCProviderOptions{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURIs: redirectURIs,
		Accounts:     accounts,
	})
}

// StartOIDCProviderWith is StartOIDCProvider with every option. It runs
// oidcprovider/provider.mjs with node, so node and the npm dependencies
// (npm ci --prefix web/webtest/oidcprovider) must be installed; without them
// the test fails rather than skips, so a missing install cannot pass as green.
func StartOIDCProviderWith(t testing.TB, opts OIDCProviderOptions) *OIDCProvider {
	t.Helper()
	p, stop := launchOIDCProvider(t, opts)
	t.Cleanup(stop)
	return p
}

// launchOIDCProvider starts the provider and returns it with the function
// that stops it.
func launchOIDCProvider(t testing.TB, opts OIDCProviderOptions) (*OIDCProvider, func()) {
	t.Helper()
	if opts.GroupsClaim == "" {
		opts.GroupsClaim = "groups"
	}
	script := providerScript(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("webtest: the OIDC provider needs Node.js (node) on PATH: %v", err)
	}

	accounts := make(map[string]any, len(opts.Accounts))
	for _, a := range opts.Accounts {
		accounts[a.Login] = map[string]any{
			"email":          a.Email,
			"name":           a.Name,
			"groups":         append([]string{}, a.Groups...),
			"email_verified": !a.EmailUnverified,
		}
	}
	accountsJSON, err := json.Marshal(accounts)
	if err != nil {
		t.Fatalf("webtest: encode OIDC accounts: %v", err)
	}

	cmd := exec.Command(node, script)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(),
		"PORT=0",
		"CLIENT_ID="+opts.ClientID,
		"CLIENT_SECRET="+opts.ClientSecret,
		"REDIRECT_URIS="+strings.Join(opts.RedirectURIs, ","),
		"GROUPS_CLAIM="+opts.GroupsClaim,
		"ACCOUNTS="+string(accountsJSON),
	)
	cmd.Env = append(cmd.Env, upstreamEnv(t, opts)...)
	// The provider exits when its stdin closes, so it dies with the test
	// binary even if the binary is killed before cleanup runs.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("webtest: OIDC provider stdin: %v", err)
	}
	ready := make(chan string, 1)
	logs := &processLog{t: t}
	// The ready line is the first that looks like one: oidc-provider prints
	// its notices on stdout too.
	var readySent bool
	cmd.Stdout = &lineWriter{fn: func(line string) {
		if !readySent && strings.HasPrefix(line, `{"issuer":`) {
			readySent = true
			ready <- line
			return
		}
		logs.add("stdout: " + line)
	}}
	cmd.Stderr = &lineWriter{fn: func(line string) { logs.add("stderr: " + line) }}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("webtest: start OIDC provider: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			_ = stdin.Close()
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("webtest: OIDC provider exited uncleanly: %v\n%s", err, logs)
				}
			case <-time.After(providerStopTimeout):
				_ = cmd.Process.Kill()
				<-exited
				t.Errorf("webtest: OIDC provider ignored SIGTERM for %v and was killed\n%s", providerStopTimeout, logs)
			}
			logs.stop()
		})
	}

	var hello struct {
		Issuer string `json:"issuer"`
	}
	select {
	case line := <-ready:
		if err := json.Unmarshal([]byte(line), &hello); err != nil || !strings.HasPrefix(hello.Issuer, "http://127.0.0.1:") {
			stop()
			t.Fatalf("webtest: OIDC provider printed %q, want {\"issuer\":\"http://127.0.0.1:PORT\"}\n%s", line, logs)
		}
	case err := <-exited:
		_ = stdin.Close()
		t.Fatalf("webtest: OIDC provider exited before it was ready: %v\n%s", err, logs)
	case <-time.After(providerStartTimeout):
		stop()
		t.Fatalf("webtest: OIDC provider not ready after %v\n%s", providerStartTimeout, logs)
	}
	t.Logf("webtest: OIDC provider %s ready in %v", hello.Issuer, time.Since(start).Round(time.Millisecond))
	logs.streamToTest()

	return &OIDCProvider{
		Issuer:       hello.Issuer,
		ClientID:     opts.ClientID,
		ClientSecret: opts.ClientSecret,
		RedirectURIs: append([]string{}, opts.RedirectURIs...),
		GroupsClaim:  opts.GroupsClaim,
	}, stop
}

// providerScript finds provider.mjs next to this source file, so that tests
// in any package (each run in its own directory) can start the provider, and
// checks that its npm dependencies are installed.
func providerScript(t testing.TB) string {
	t.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("webtest: cannot locate oidc.go to find oidcprovider/provider.mjs")
	}
	dir := filepath.Join(filepath.Dir(self), "oidcprovider")
	script := filepath.Join(dir, "provider.mjs")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("webtest: OIDC provider script: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		t.Fatalf("webtest: the OIDC provider's npm dependencies are not installed (%v); "+
			"run `npm ci --prefix web/webtest/oidcprovider` from the repository root", err)
	}
	return script
}
