package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/proxy/token"
	"github.com/drawbridge/drawbridge/web"
)

// reloadRoute is the route host of the keys reload test: requests reach
// it by their Host header, on the test server's address.
const reloadRoute = "http://tools.example"

// assertionUpstream is an MCP upstream that answers every call with an
// empty result and remembers the kid of the X-Drawbridge-Assertion the
// gateway sent with it.
type assertionUpstream struct {
	mu   sync.Mutex
	kids []string
}

func (u *assertionUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	header, _, _ := strings.Cut(r.Header.Get(token.AssertionHeader), ".")
	var h struct {
		Kid string `json:"kid"`
	}
	if b, err := base64.RawURLEncoding.DecodeString(header); err == nil {
		json.Unmarshal(b, &h)
	}
	u.mu.Lock()
	u.kids = append(u.kids, h.Kid)
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
}

// lastKid is the kid of the last assertion received.
func (u *assertionUpstream) lastKid() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.kids) == 0 {
		return ""
	}
	return u.kids[len(u.kids)-1]
}

// servingGateway is Drawbridge serving a data directory in this process,
// as serve runs it: started once, never restarted.
type servingGateway struct {
	url    string
	cfg    web.Config
	userID uint
}

// serveDataDir runs the gateway on data directory dir until t ends.
func serveDataDir(t *testing.T, dir, userEmail string) *servingGateway {
	t.Helper()
	b, err := openBackend(context.Background(), configFlags{dataDir: dir, logLevel: "error"}, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	u, err := b.store.GetUserByEmail(context.Background(), userEmail)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{Config: b.cfg, Keys: b.keys, Store: b.store, Logger: b.logger})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	t.Cleanup(func() {
		ts.Close()
		cancel()
		<-done
		srv.Close(context.Background())
	})
	return &servingGateway{url: ts.URL, cfg: b.cfg, userID: u.ID}
}

// jwks is the JWKS the gateway serves now.
func (g *servingGateway) jwks(t *testing.T) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.url+"/.well-known/jwks.json", nil)
	req.Host = strings.TrimPrefix(g.cfg.ConsoleBase(), "http://")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /.well-known/jwks.json: %s %s", resp.Status, body)
	}
	return string(body)
}

// ping calls the route with bearer and returns the status.
func (g *servingGateway) ping(t *testing.T, bearer string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.url+"/", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Host = strings.TrimPrefix(reloadRoute, "http://")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// mint signs an access token for the route, as the gateway's
// authorization server would, with the current key of data directory
// dir's signing.pem.
func (g *servingGateway) mint(t *testing.T, dir string) (raw, kid string) {
	t.Helper()
	b, err := readExistingKeyFile(filepath.Join(dir, signingKeyFile), envSigningKey)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := parseSigningKeys(b)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := token.NewKeySet(sk.current)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := token.NewIssuer(ks, g.cfg.ConsoleBase(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err = issuer.Issue(token.Claims{Subject: strconv.FormatUint(uint64(g.userID), 10), Audience: reloadRoute, ClientID: "keys-test"})
	if err != nil {
		t.Fatal(err)
	}
	return raw, ks.KeyID()
}

// waitForJWKS waits, a bounded while, until the gateway's JWKS lists
// every kid of want.
func (g *servingGateway) waitForJWKS(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		jwks := g.jwks(t)
		missing := ""
		for _, kid := range want {
			if !strings.Contains(jwks, kid) {
				missing = kid
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the JWKS still lacks %s 10 s after the rotation: %s", missing, jwks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKeysReloadWhileServing rotates the signing key of a Drawbridge on
// SQLite while it serves, through the CLI as an operator would: without
// a restart, it accepts a token signed with the new key, publishes both
// keys, and signs what it forwards with the new one.
func TestKeysReloadWhileServing(t *testing.T) {
	dir := dataDir(t)
	const email = "ada@example.com"
	if out, err := runCLI(t, "", "user", "create", "--data-dir", dir, "--email", email); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	upstream := &assertionUpstream{}
	us := httptest.NewServer(upstream)
	t.Cleanup(us.Close)
	config := "policies:\n  - {name: everyone, allow: {and: [{authenticated_user: true}]}}\n" +
		"routes:\n  - {name: Tools, from: \"" + reloadRoute + "\", to: \"" + us.URL + "/mcp\", mcp: {server: {}}, policies: [everyone]}\n"
	if out, err := runCLI(t, "", "apply", "-f", writeFile(t, "tools.yaml", config), "--data-dir", dir); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	g := serveDataDir(t, dir, email)

	oldToken, oldKid := g.mint(t, dir)
	if status := g.ping(t, oldToken); status != http.StatusOK || upstream.lastKid() != oldKid {
		t.Fatalf("before the rotation: %d, assertion signed by %q; want 200 and the key %s", status, upstream.lastKid(), oldKid)
	}

	// The version poll: nothing but the rotation tells the server.
	if out, err := runCLI(t, "", "keys", "rotate", "signing", "--data-dir", dir); err != nil ||
		!strings.Contains(out, "signs with the new key within a second, without a restart") {
		t.Fatalf("%v: %s", err, out)
	}
	_, newKid := g.mint(t, dir)
	g.waitForJWKS(t, oldKid, newKid)
	if status := g.ping(t, oldToken); status != http.StatusOK || upstream.lastKid() != newKid {
		t.Errorf("after the rotation: %d, assertion signed by %q; want 200 and the new key %s", status, upstream.lastKid(), newKid)
	}

	// A token signed with a key rotated in a moment ago is accepted at
	// once: if the poll has not told the server yet, the unknown kid
	// makes it re-read the keys.
	if out, err := runCLI(t, "", "keys", "rotate", "signing", "--data-dir", dir); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	newest, newestKid := g.mint(t, dir)
	if status := g.ping(t, newest); status != http.StatusOK {
		t.Fatalf("a token signed with the key just rotated in: %d, want 200", status)
	}
	if jwks := g.jwks(t); !strings.Contains(jwks, newestKid) || !strings.Contains(jwks, newKid) || !strings.Contains(jwks, oldKid) {
		t.Errorf("after accepting the newest key's token, the JWKS lacks a key: %s", jwks)
	}

	// A kid nobody rotated in is refused, re-read or not.
	forged, _ := g.mint(t, keyDir(t))
	if status := g.ping(t, forged); status != http.StatusUnauthorized {
		t.Errorf("a token signed with another installation's key: %d, want 401", status)
	}
}
