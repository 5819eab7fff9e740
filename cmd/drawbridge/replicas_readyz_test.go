package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/models/pgtest"
)

// TestReadyzFollowsTheDatabase: a replica's /readyz says the database is
// unreachable while PostgreSQL is down, and ready again once it is back,
// with no restart of Drawbridge; a route applied after that is served,
// so the configuration watch has reconnected too.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	cluster := pgtest.NewCluster(t)
	secret := make([]byte, models.KeySize)
	rand.Read(secret)
	inst := startDrawbridgeWith(t, serveOptions{Env: []string{
		"DRAWBRIDGE_DATABASE_DRIVER=postgres",
		"DRAWBRIDGE_DATABASE_DSN=" + cluster.DSN(t),
		envEncryptionKey + "=" + replicaKeyID + ":" + base64.StdEncoding.EncodeToString(secret),
	}})
	client := dialAll(inst.URL)
	waitReady(t, client, inst.URL, http.StatusOK, "ok", 10*time.Second)

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, client, inst.URL, http.StatusServiceUnavailable, "unreachable", 15*time.Second)
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	waitReady(t, client, inst.URL, http.StatusOK, "ok", 15*time.Second)

	upstream := recordingUpstream(t, &sync.Map{})
	routeURL := "http://localhost:" + inst.port(t)
	config := fmt.Sprintf("policies:\n  - name: open\n    allow:\n      and:\n        - authenticated_user: true\n"+
		"routes:\n  - name: After\n    from: %s\n    to: %s\n    mcp: {server: {}}\n    policies: [open]\n", routeURL, upstream)
	inst.cli(t, "", "apply", "-f", writeFile(t, "after.yaml", config), "--console-url", inst.URL)
	waitForRoute(t, client, routeURL)
}

// waitReady polls /readyz until it answers status with the database
// check saying database, failing t after timeout.
func waitReady(t *testing.T, client *http.Client, consoleURL string, status int, database string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, consoleURL+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			var ready struct {
				Checks map[string]string `json:"checks"`
			}
			if resp.StatusCode == status && json.Unmarshal(body, &ready) == nil && ready.Checks["database"] == database {
				cancel()
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		cancel()
		if time.Now().After(deadline) {
			t.Fatalf("/readyz did not answer %d with database %q within %s; last: %s", status, database, timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
