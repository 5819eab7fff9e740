package proxy_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// serviceAccount creates an account acting as the gateway's user and
// returns its token.
func (g *gateway) serviceAccount(name string, edit func(*models.ServiceAccount)) (string, *models.ServiceAccount) {
	g.t.Helper()
	issuer, err := token.NewServiceAccountIssuer(g.keys, issuerURL)
	if err != nil {
		g.t.Fatal(err)
	}
	a := &models.ServiceAccount{Name: name, UserID: g.user.ID}
	if edit != nil {
		edit(a)
	}
	var expires time.Time
	if a.ExpiresAt != nil {
		expires = *a.ExpiresAt
	}
	raw, err := g.store.CreateServiceAccountWithToken(context.Background(), a, func(id uint) (string, error) {
		raw, _, err := issuer.Issue(id, expires)
		return raw, err
	})
	if err != nil {
		g.t.Fatal(err)
	}
	g.waitVersion()
	return raw, a
}

// callAs sends one tools/call with authorization and returns the status
// and the JSON-RPC error message, if any.
func (g *gateway) callAs(from, authorization string) (int, string, http.Header) {
	g.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, from, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := g.httpClient("").Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var answer struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &answer)
	if answer.Error != nil {
		return resp.StatusCode, answer.Error.Message, resp.Header
	}
	return resp.StatusCode, "", resp.Header
}

func TestServiceAccountCallsAsItsUser(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", "allow:\n  and:\n    - email: {is: ada@example.com}\n    - service_account: {is: ci}\n")
	raw, acc := g.serviceAccount("ci", nil)

	for name, auth := range map[string]string{"prefixed": "Bearer Drawbridge-" + raw, "raw JWT": "Bearer " + raw} {
		if status, msg, _ := g.callAs(route.From, auth); status != http.StatusOK {
			t.Fatalf("%s: %d %s", name, status, msg)
		}
	}
	h := g.upstream.headers()
	last := h[len(h)-1]
	if last.Get("Authorization") != "" {
		t.Errorf("the service-account token reached the upstream")
	}
	var assertion struct {
		Subject        string `json:"sub"`
		ServiceAccount string `json:"sa"`
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(last.Get(token.AssertionHeader), ".")[1])
	if err := json.Unmarshal(payload, &assertion); err != nil || assertion.ServiceAccount != "ci" || assertion.Subject != strconv.FormatUint(uint64(g.user.ID), 10) {
		t.Errorf("assertion %s: want the user, acting through the account", payload)
	}

	// Usage is recorded in a batch, not per request.
	if err := g.engine.FlushUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := g.store.GetServiceAccount(context.Background(), acc.ID)
	if err != nil || got.LastUsedAt == nil {
		t.Fatalf("last used not recorded: %+v %v", got, err)
	}
}

func TestServiceAccountRefusals(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", "allow:\n  and:\n    - authenticated_user: true\n")
	other := g.route("Other", "other.localhost", "allow:\n  and:\n    - authenticated_user: true\n")
	ctx := context.Background()
	refused := func(what, auth string, status int, want string) {
		t.Helper()
		before := len(g.upstream.headers())
		got, msg, h := g.callAs(route.From, auth)
		if got != status || !strings.Contains(msg, want) {
			t.Errorf("%s: %d %q, want %d %q", what, got, msg, status, want)
		}
		if strings.Contains(h.Get("WWW-Authenticate"), "resource_metadata") {
			t.Errorf("%s: the challenge sends an account to sign in", what)
		}
		if len(g.upstream.headers()) != before {
			t.Errorf("%s: reached the upstream", what)
		}
	}

	raw, acc := g.serviceAccount("revoked", nil)
	if err := g.store.RevokeServiceAccount(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	refused("revoked", "Bearer Drawbridge-"+raw, http.StatusUnauthorized, "not valid")

	// Revoked from a second process: refused here once the version moves.
	raw, acc = g.serviceAccount("elsewhere", nil)
	if status, _, _ := g.callAs(route.From, "Bearer Drawbridge-"+raw); status != http.StatusOK {
		t.Fatalf("before revocation: %d", status)
	}
	if err := g.otherProcess().RevokeServiceAccount(ctx, acc.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for status, _, _ := g.callAs(route.From, "Bearer Drawbridge-"+raw); status != http.StatusUnauthorized; status, _, _ = g.callAs(route.From, "Bearer Drawbridge-"+raw) {
		if time.Now().After(deadline) {
			t.Fatal("a revocation in another process was not obeyed within 2 s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	soon := time.Now().Add(1500 * time.Millisecond)
	raw, _ = g.serviceAccount("expiring", func(a *models.ServiceAccount) { a.ExpiresAt = &soon })
	if status, _, _ := g.callAs(route.From, "Bearer Drawbridge-"+raw); status != http.StatusOK {
		t.Fatalf("before expiry: %d", status)
	}
	time.Sleep(time.Until(soon))
	refused("expired", "Bearer Drawbridge-"+raw, http.StatusUnauthorized, "expired")

	raw, _ = g.serviceAccount("restricted", func(a *models.ServiceAccount) { a.RouteIDs = []uint{other.ID} })
	refused("another route", "Bearer Drawbridge-"+raw, http.StatusForbidden, "may not use this route")

	// Rotated with no grace: the old token stops at once.
	raw, acc = g.serviceAccount("rotated", nil)
	if err := g.store.RotateServiceAccount(ctx, acc.ID, models.HashToken("a newer token"), 0); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	refused("rotated", "Bearer Drawbridge-"+raw, http.StatusUnauthorized, "not valid")

	// Forgeries: right shape, wrong bytes.
	good, acc := g.serviceAccount("forged", nil)
	parts := strings.Split(good, ".")
	claims := `{"iss":"` + issuerURL + `","sub":"` + strconv.FormatUint(uint64(acc.ID), 10) + `","jti":"jti-0123456789abcdef","iat":` + strconv.FormatInt(time.Now().Unix(), 10) + `}`
	enc := base64.RawURLEncoding.EncodeToString
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherKeys, _ := token.NewKeySet(otherKey)
	otherIssuer, _ := token.NewServiceAccountIssuer(otherKeys, issuerURL)
	byOtherKey, _, _ := otherIssuer.Issue(acc.ID, time.Time{})
	for what, forged := range map[string]string{
		"signed by another key": byOtherKey,
		"alg none":              enc([]byte(`{"alg":"none","typ":"drawbridge-sa+jwt","kid":"x"}`)) + "." + enc([]byte(claims)) + ".",
		"HS256":                 enc([]byte(`{"alg":"HS256","typ":"drawbridge-sa+jwt","kid":"x"}`)) + "." + enc([]byte(claims)) + "." + parts[2],
		"claims swapped":        parts[0] + "." + enc([]byte(claims)) + "." + parts[2],
		"future nbf":            parts[0] + "." + enc([]byte(strings.TrimSuffix(claims, "}")+`,"nbf":9999999999}`)) + "." + parts[2],
		"deleted account": func() string {
			r, a := g.serviceAccount("deleted", nil)
			_ = g.store.DeleteServiceAccount(ctx, a.ID)
			g.waitVersion()
			return r
		}(),
	} {
		refused(what, "Bearer Drawbridge-"+forged, http.StatusUnauthorized, "not valid")
	}

	// A disabled owner.
	raw, _ = g.serviceAccount("owner-off", nil)
	if err := g.store.SetDisabled(ctx, g.user.ID, true); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	refused("disabled owner", "Bearer Drawbridge-"+raw, http.StatusUnauthorized, "can no longer sign in")
}

// A restricted account works on its routes, lists only them, and cannot
// end its user's upstream connections.
func TestServiceAccountRestrictionAndGatewayPaths(t *testing.T) {
	g := newGateway(t)
	open := "allow:\n  and:\n    - authenticated_user: true\n"
	alpha := g.route("Alpha", "alpha.localhost", open)
	g.route("Beta", "beta.localhost", open)
	raw, _ := g.serviceAccount("alpha-only", func(a *models.ServiceAccount) { a.RouteIDs = []uint{alpha.ID} })
	auth := "Bearer Drawbridge-" + raw
	if status, msg, _ := g.callAs(alpha.From, auth); status != http.StatusOK {
		t.Fatalf("its own route: %d %s", status, msg)
	}
	req, _ := http.NewRequest(http.MethodGet, alpha.From+"/.drawbridge/mcp/routes", nil)
	req.Header.Set("Authorization", auth)
	resp, err := g.httpClient("").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Alpha") || strings.Contains(string(body), "Beta") {
		t.Fatalf("routes list for a restricted account: %d %s", resp.StatusCode, body)
	}
	req, _ = http.NewRequest(http.MethodPost, alpha.From+"/.drawbridge/mcp/disconnect", nil)
	req.Header.Set("Authorization", auth)
	resp, err = g.httpClient("").Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("disconnect with a service account: %d, want 403", resp.StatusCode)
	}
}

// After a rotation with a grace, both tokens work until the grace ends.
func TestServiceAccountRotationGrace(t *testing.T) {
	g := newGateway(t)
	route := g.route("Tools", "tools.localhost", "allow:\n  and:\n    - authenticated_user: true\n")
	old, acc := g.serviceAccount("rotating", nil)
	issuer, _ := token.NewServiceAccountIssuer(g.keys, issuerURL)
	next, _, err := issuer.Issue(acc.ID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.store.RotateServiceAccount(context.Background(), acc.ID, models.HashToken(next), time.Hour); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	for name, tok := range map[string]string{"old, in its grace": old, "new": next} {
		if status, msg, _ := g.callAs(route.From, "Bearer Drawbridge-"+tok); status != http.StatusOK {
			t.Errorf("%s token: %d %s", name, status, msg)
		}
	}
	if err := g.store.RotateServiceAccount(context.Background(), acc.ID, models.HashToken("yet another"), 0); err != nil {
		t.Fatal(err)
	}
	g.waitVersion()
	for name, tok := range map[string]string{"old": old, "replaced": next} {
		if status, _, _ := g.callAs(route.From, "Bearer Drawbridge-"+tok); status != http.StatusUnauthorized {
			t.Errorf("%s token after a rotation without grace: %d, want 401", name, status)
		}
	}
}
