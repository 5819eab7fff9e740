package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// testSigningRotationEverywhere: `keys rotate signing` runs against the
// shared database, from one more process; no replica restarts. Every
// replica then publishes the new key (the delay from the rotation is
// logged) and accepts an access token the new key signed. A second
// rotation is followed at once by such a token, before any replica may
// have heard of it: each accepts it at the first try, re-reading the
// keys for its unknown kid if the announcement has not reached it yet.
func testSigningRotationEverywhere(t *testing.T, rs *replicaSet) {
	store := rs.openStore(t)
	ctx := context.Background()
	dana, err := store.GetUserByEmail(ctx, danaEmail)
	if err != nil {
		t.Fatal(err)
	}
	oldKid := sharedSigningKid(t, store)
	jwksClients := make([]*http.Client, len(rs.replicas))
	for i, r := range rs.replicas {
		jwksClients[i] = dialAll("http://" + r.Addr)
		if jwks, err := replicaJWKS(jwksClients[i], rs.lb.URL); err != nil || !strings.Contains(jwks, oldKid) {
			t.Fatalf("replica %d before the rotation: JWKS %s, %v; want the current key %s", i, jwks, err, oldKid)
		}
	}

	first := rs.replicas[0]
	out := first.cli(t, "", "keys", "rotate", "signing")
	rotated := time.Now()
	if !strings.Contains(out, "Every running replica signs with the new key") {
		t.Errorf("keys rotate signing printed %q", out)
	}
	newKid := sharedSigningKid(t, store)
	got := waitEveryReplica(jwksClients, func(c *http.Client) (bool, error) {
		jwks, err := replicaJWKS(c, rs.lb.URL)
		return strings.Contains(jwks, newKid) && strings.Contains(jwks, oldKid), err
	})
	for i, r := range got {
		if r.err != nil {
			t.Fatalf("replica %d does not publish the new key %s and the retired one: %v", i, newKid, r.err)
		}
		t.Logf("replica %d published the new key %s after the rotation", i, r.at.Sub(rotated).Round(100*time.Microsecond))
	}
	acceptedEverywhere(t, rs, mintShared(t, rs, store, dana.ID), "after the rotation")

	first.cli(t, "", "keys", "rotate", "signing")
	newest := mintShared(t, rs, store, dana.ID)
	newestKid := sharedSigningKid(t, store)
	acceptedEverywhere(t, rs, newest, "at once after a second rotation")
	for i, c := range jwksClients {
		if jwks, err := replicaJWKS(c, rs.lb.URL); err != nil || !strings.Contains(jwks, newestKid) {
			t.Errorf("replica %d, having accepted a token of the newest key: JWKS %s, %v; want the key %s", i, jwks, err, newestKid)
		}
	}
}

// acceptedEverywhere fails t unless every replica, asked once, lets the
// access token raw call a tool.
func acceptedEverywhere(t *testing.T, rs *replicaSet, raw, when string) {
	t.Helper()
	for i, r := range rs.replicas {
		status, _, err := callTool(rs.direct(r, raw), rs.toolsURL, "echo", `{"text":"rotated"}`)
		if err != nil || status != http.StatusOK {
			t.Errorf("replica %d, %s: a token the new key signed got %d, %v; want 200", i, when, status, err)
		}
	}
}

// sharedSigningKid is the kid of the current signing key in the
// replicas' database.
func sharedSigningKid(t *testing.T, store *models.Store) string {
	t.Helper()
	return sharedSigningSet(t, store).KeyID()
}

// sharedSigningSet is the current signing key in the replicas' database.
func sharedSigningSet(t *testing.T, store *models.Store) *token.KeySet {
	t.Helper()
	b, err := store.SharedKey(context.Background(), sharedSigningKey, nil)
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
	return ks
}

// mintShared signs an access token for user to the Tools route with the
// database's current signing key, as a replica's authorization server
// would.
func mintShared(t *testing.T, rs *replicaSet, store *models.Store, user uint) string {
	t.Helper()
	issuer, err := token.NewIssuer(sharedSigningSet(t, store), strings.TrimSuffix(rs.lb.URL, "/"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := issuer.Issue(token.Claims{
		Subject: strconv.FormatUint(uint64(user), 10), Audience: rs.toolsURL, ClientID: "replica-keys", Scope: "mcp",
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// replicaJWKS is the JWKS the replica client reaches serves, asked on
// the console host.
func replicaJWKS(client *http.Client, consoleURL string) (string, error) {
	resp, err := client.Get(strings.TrimSuffix(consoleURL, "/") + "/.well-known/jwks.json")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET /.well-known/jwks.json: %s", resp.Status)
	}
	return string(body), err
}
