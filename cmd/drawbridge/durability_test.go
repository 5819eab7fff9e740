package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drawbridge/drawbridge/proxy/token"
)

// TestKilledUnderLoadLosesNoAuditEvent: calls stream through the gateway
// from 16 clients when the process is killed with SIGKILL. Every call the
// upstream saw must be in the audit log on disk, since an event is
// committed before its call is forwarded.
func TestKilledUnderLoadLosesNoAuditEvent(t *testing.T) {
	t.Parallel()
	seen := &sync.Map{}
	upstreamURL := recordingUpstream(t, seen)
	inst := startDrawbridge(t)
	port := inst.URL[strings.LastIndexByte(inst.URL, ':')+1:]
	routeURL := "http://localhost:" + port

	// The route is applied by another process, as an operator would.
	file := filepath.Join(t.TempDir(), "route.yaml")
	config := fmt.Sprintf("policies:\n  - name: open\n    source: |\n      allow:\n        and:\n          - authenticated_user: true\n"+
		"routes:\n  - name: Durable\n    from: %s\n    to: %s\n    mcp: {server: {}}\n    policies: [open]\n", routeURL, upstreamURL)
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	inst.cli(t, "", "apply", "-f", file, "--console-url", inst.URL)
	bearer := mintToken(t, inst, routeURL)
	client := dialAll(inst.URL)
	call := func(text string) (int, error) {
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"` + text + `"}}}`
		req, _ := http.NewRequest(http.MethodPost, routeURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for status, _ := call("warm-up"); status != http.StatusOK; status, _ = call("warm-up") {
		if time.Now().After(deadline) {
			t.Fatalf("the applied route never served (last status %d)", status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := call(fmt.Sprintf("w%d-%d", w, n)); err == nil {
					sent.Add(1)
				}
			}
		}()
	}
	// Kill mid-flight, once the load is well under way: some calls are then
	// on their way in, some upstream, some on their way back.
	loadDeadline := time.Now().Add(20 * time.Second)
	for countSeen(seen) < 100 && time.Now().Before(loadDeadline) {
		time.Sleep(50 * time.Millisecond)
	}
	inst.kill()
	close(stop)
	wg.Wait()

	audited := auditedTexts(t, filepath.Join(inst.DataDir, "drawbridge.db"))
	var upstream, missing int
	seen.Range(func(k, _ any) bool {
		upstream++
		if !audited[k.(string)] {
			missing++
			t.Errorf("the upstream ran echo %q, and the audit log does not have it", k)
		}
		return missing < 10
	})
	if upstream < 50 {
		t.Fatalf("only %d calls reached the upstream before the kill: no load to speak of", upstream)
	}
	t.Logf("%d calls answered, %d reached the upstream, %d audited events on disk after SIGKILL", sent.Load(), upstream, len(audited))
}

// recordingUpstream is an MCP server whose echo tool remembers every text
// it was called with.
func recordingUpstream(t *testing.T, seen *sync.Map) string {
	t.Helper()
	type in struct {
		Text string `json:"text"`
	}
	server := sdk.NewServer(&sdk.Implementation{Name: "recording", Version: "1"}, nil)
	sdk.AddTool(server, &sdk.Tool{Name: "echo"}, func(_ context.Context, _ *sdk.CallToolRequest, a in) (*sdk.CallToolResult, in, error) {
		seen.Store(a.Text, true)
		return nil, a, nil
	})
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return server },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, Logger: slog.New(slog.DiscardHandler)})
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/mcp"
}

// mintToken signs an access token for the first admin with the instance's
// own signing key, as its authorization server would.
func mintToken(t *testing.T, inst *instance, resource string) string {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(inst.DataDir, "signing.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("signing key is a %T, want ECDSA", key)
	}
	keys, err := token.NewKeySet(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := token.NewIssuer(keys, inst.URL, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := issuer.Issue(token.Claims{Subject: "1", Audience: resource, ClientID: "durability-test", Scope: "mcp"})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// auditedTexts reads, straight from the database file a killed process
// left, the echo texts of every audited call.
func auditedTexts(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return auditedTextsIn(t, db)
}

// storedAuditEvents is every event a database holds, read without the
// store: settled, and, on SQLite, still in the journal, which the next
// process to open the database settles (models/audit_journal.go).
const storedAuditEvents = `(SELECT tool, decision, arguments FROM audit_events
	UNION ALL SELECT tool, decision, arguments FROM audit_journal) AS stored`

// auditedTextsIn is auditedTexts for a database already open: SQLite's,
// or the PostgreSQL database replicas share.
func auditedTextsIn(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	rows, err := db.Query(`SELECT arguments FROM ` + storedAuditEvents + ` WHERE tool = 'echo'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var args struct {
			Text string `json:"text"`
		}
		if json.Unmarshal([]byte(raw), &args) == nil {
			out[args.Text] = true
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func countSeen(seen *sync.Map) int {
	n := 0
	seen.Range(func(any, any) bool { n++; return true })
	return n
}
