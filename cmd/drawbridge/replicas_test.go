package main

// The three-replica proof: three `drawbridge serve` processes on one
// PostgreSQL database, each with a data directory of its own (as if on
// machines of their own), configured alike with the public URL and the
// encryption key and nothing else, behind a round-robin balancer that
// knows nothing of sessions. Whatever one person or client does, its
// steps land on different replicas, and must work as on one.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/models/pgtest"
	"github.com/drawbridge/drawbridge/proxy/policy"
	"github.com/drawbridge/drawbridge/web/webtest"
)

const (
	replicaCount = 3
	// replicaKeyID names the encryption key every replica is given.
	replicaKeyID = "replicas"
	// The person who signs in, connects and owns the service accounts.
	danaEmail, danaPassword = "dana@example.com", "dana-has-a-long-password"
)

// replicaSet is the replicas, the balancer in front of them, and the
// peers and routes the cases share.
type replicaSet struct {
	lb       *balancer
	replicas []*instance
	dsn      string
	cipher   *models.Cipher
	// admin is the replica whose banner named the first administrator.
	admin *instance

	provider *webtest.OIDCProvider // the upstream OAuth provider of Octo
	// Routes, all on the balancer's port: Tools (an echo server, for an
	// MCP client's OAuth flow), Octo (the same behind the provider),
	// Probe (its policy, "switch", changes) and Load (an upstream that
	// remembers every call, in loadSeen).
	toolsURL, octoURL, probeURL, loadURL string
	loadSeen                             *sync.Map
	// agent is the bearer token of the service account acting as dana.
	agent string
}

// TestThreeReplicas runs the cases that share one set of replicas, in
// order: the last one kills a replica.
func TestThreeReplicas(t *testing.T) {
	t.Parallel()
	rs := startReplicaSet(t)
	t.Run("OAuthFlowAcrossReplicas", func(t *testing.T) { testOAuthAcrossReplicas(t, rs) })
	t.Run("PolicyChangeObeyedByEveryReplica", func(t *testing.T) { testPolicyChangeEverywhere(t, rs) })
	t.Run("RevokedServiceAccountRefusedByTheOthers", func(t *testing.T) { testRevokedEverywhere(t, rs) })
	t.Run("OneUpstreamRefreshForFiftyCalls", func(t *testing.T) { testOneRefreshAcrossReplicas(t, rs) })
	t.Run("SigningKeyRotationReachesEveryReplica", func(t *testing.T) { testSigningRotationEverywhere(t, rs) })
	t.Run("ReplicaKilledUnderLoad", func(t *testing.T) { testReplicaKilledUnderLoad(t, rs) })
}

// startReplicaSet starts the database, the balancer, the replicas (side
// by side, as an orchestrator would: whichever comes first makes the
// schema and the first administrator), the peers, and applies the
// routes from one replica's CLI.
func startReplicaSet(t *testing.T) *replicaSet {
	t.Helper()
	dsn := pgtest.DSN(t)
	secret := make([]byte, models.KeySize)
	rand.Read(secret)
	cipher, err := models.NewCipher(models.Key{ID: replicaKeyID, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	// Only the database and the encryption key: session and signing keys
	// are the replicas' to share through the database.
	env := []string{
		"DRAWBRIDGE_DATABASE_DRIVER=postgres",
		"DRAWBRIDGE_DATABASE_DSN=" + dsn,
		envEncryptionKey + "=" + replicaKeyID + ":" + base64.StdEncoding.EncodeToString(secret),
	}
	rs := &replicaSet{lb: startBalancer(t), dsn: dsn, cipher: cipher, loadSeen: &sync.Map{}}
	rs.replicas = launchReplicas(t, rs.lb.URL, env)
	for _, r := range rs.replicas {
		rs.lb.add(r.Addr)
		if r.Email != "" {
			if rs.admin != nil {
				t.Errorf("two replicas say they created the first administrator")
			}
			rs.admin = r
		}
	}
	if rs.admin == nil {
		t.Fatal("no replica's banner named the first administrator")
	}

	port := rs.replicas[0].port(t)           // the balancer's: the public port
	rs.toolsURL = "http://localhost:" + port // the Go SDK's OAuth client takes loopback names only
	rs.octoURL = "http://octo.localhost:" + port
	rs.probeURL = "http://probe.localhost:" + port
	rs.loadURL = "http://load.localhost:" + port
	rs.provider = webtest.StartOIDCProviderWith(t, webtest.OIDCProviderOptions{
		ClientID: "drawbridge", ClientSecret: "upstream-secret", RedirectURIs: []string{rs.lb.URL + "/oauth/upstream/callback"},
		Accounts: []webtest.OIDCAccount{{Login: "octocat", Email: "octocat@example.com", Name: "Octo Cat"}},
		Refresh:  true, AccessTokenTTL: replicaUpstreamTTL, ExtraScopes: []string{"repo"},
	})
	ep := rs.provider.Endpoints(t)
	echo := webtest.StartEchoMCP(t)
	config := fmt.Sprintf(replicaConfig, rs.provider.ClientID, rs.provider.ClientSecret, ep.AuthURL, ep.TokenURL, ep.RevocationURL,
		rs.toolsURL, echo.URL, rs.octoURL, echo.URL, rs.probeURL, recordingUpstream(t, &sync.Map{}), rs.loadURL, recordingUpstream(t, rs.loadSeen))

	first := rs.replicas[0]
	first.cli(t, "", "apply", "-f", writeFile(t, "replicas.yaml", config), "--console-url", rs.lb.URL)
	first.cli(t, danaPassword+"\n", "user", "create", "--email", danaEmail, "--password-stdin")
	jwt := strings.TrimSpace(first.cli(t, "", "service-account", "create", "--user", danaEmail, "--name", "agent", "--quiet", "--console-url", rs.lb.URL))
	rs.agent = "Drawbridge-" + jwt
	// Each replica learns of all that from the database.
	for _, r := range rs.replicas {
		for _, u := range []string{rs.toolsURL, rs.octoURL, rs.probeURL, rs.loadURL} {
			waitForRoute(t, dialAll("http://"+r.Addr), u)
		}
		waitAccepted(t, rs.direct(r, rs.agent), rs.toolsURL)
	}
	return rs
}

// launchReplicas starts the replicas side by side.
func launchReplicas(t *testing.T, consoleURL string, env []string) []*instance {
	t.Helper()
	harness.drawbridgeBinary(t)
	out := make([]*instance, replicaCount)
	errs := make([]error, replicaCount)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i], errs[i] = launchDrawbridge(t, serveOptions{ConsoleURL: consoleURL, Env: env}) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

// replicaUpstreamTTL is how long Octo's upstream tokens live: short, for
// the refresh case to wait one out.
const replicaUpstreamTTL = 4 * time.Second

// replicaConfig is what the replicas serve: upstream app, policies,
// routes, in the order fmt fills them in.
const replicaConfig = `upstream_oauth_apps:
  - name: octo
    client_id: %s
    client_secret: %s
    auth_url: %s
    token_url: %s
    revocation_url: %s
    scopes: [openid, profile, repo]
    pkce: true
    auth_style: header
policies:
  - name: everyone
    allow:
      and:
        - authenticated_user: true
  - name: switch
    allow:
      and:
        - authenticated_user: true
routes:
  - name: Tools
    from: %s
    to: %s
    mcp: {server: {}}
    policies: [everyone]
  - name: Octo
    from: %s
    to: %s
    mcp: {server: {upstream_oauth_app: octo}}
    policies: [everyone]
  - name: Probe
    from: %s
    to: %s
    mcp: {server: {}}
    policies: [switch]
  - name: Load
    from: %s
    to: %s
    mcp: {server: {}}
    policies: [everyone]
`

// direct is an HTTP client that reaches replica r itself, past the
// balancer, whatever host a URL names, sending bearer.
func (rs *replicaSet) direct(r *instance, bearer string) *http.Client {
	c := dialAll("http://" + r.Addr)
	c.Transport = bearerTransport{bearer: bearer, base: c.Transport}
	return c
}

// openStore opens the replicas' database as one more process would.
func (rs *replicaSet) openStore(t *testing.T) *models.Store {
	t.Helper()
	s, err := models.Open(context.Background(), models.Options{
		Driver: "postgres", DSN: rs.dsn, Cipher: rs.cipher,
		ValidatePolicy: func(name string, src []byte) error { _, err := policy.Parse(name, src); return err },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
