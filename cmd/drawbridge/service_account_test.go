package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// saConsole is the console URL the tests run the commands with; the
// trailing slash is how people write it, and not part of the issuer.
const saConsole, saIssuer = "https://console.example.com/", "https://console.example.com"

// saData is a data directory with two routes, A and B, an enabled user
// ada@example.com and a disabled one, bob@example.com.
func saData(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	file := writeFile(t, "routes.yaml", `policies:
  - {name: p, allow: {and: [{accept: true}]}}
routes:
  - {name: A, from: http://a.localhost, to: http://127.0.0.1:1, policies: [p]}
  - {name: B, from: http://b.localhost, to: http://127.0.0.1:2, policies: [p]}
`)
	for _, args := range [][]string{
		{"apply", "-f", file},
		{"user", "create", "--email", "ada@example.com"},
		{"user", "create", "--email", "bob@example.com"},
		{"user", "disable", "--email", "bob@example.com"},
	} {
		if _, stderr, err := runWithEnv(t, nil, append(args, "--data-dir", dir, "--log-level", "error")...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
	}
	return dir
}

// saRun runs `drawbridge service-account args…` on data directory dir.
func saRun(t *testing.T, dir string, args ...string) (stdout string, err error) {
	t.Helper()
	stdout, _, err = runWithEnv(t, nil,
		append(append([]string{"service-account"}, args...), "--data-dir", dir, "--console-url", saConsole, "--log-level", "error")...)
	return stdout, err
}

// saAccount reads the account named name from dir's store.
func saAccount(t *testing.T, dir, name string) *models.ServiceAccount {
	t.Helper()
	acc, err := openData(t, dir).FindServiceAccount(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// wantToken checks that jwt is a service-account token of this
// Drawbridge, signed with dir's signing key, for acc, whose current hash
// it is.
func wantToken(t *testing.T, dir, jwt string, acc *models.ServiceAccount) {
	t.Helper()
	bare, claims, err := token.ParseServiceAccount(jwt, saIssuer)
	if err != nil || bare != jwt || claims.AccountID != acc.ID {
		t.Fatalf("ParseServiceAccount(%q) = account %d, %v; want account %d", jwt, claims.AccountID, err, acc.ID)
	}
	if got := models.HashToken(jwt); got != acc.TokenHash {
		t.Errorf("the token's hash %s is not the account's %s", got, acc.TokenHash)
	}
	keys, _, err := loadKeys(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(jwt, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(&keys.Signing.PublicKey); err != nil {
		t.Errorf("the token is not signed with the data directory's signing key: %v", err)
	}
}

func TestServiceAccountCreateQuiet(t *testing.T) {
	dir := saData(t)
	out, err := saRun(t, dir, "create", "--user", "Ada@Example.com", "--name", "ci", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	jwt, ok := strings.CutSuffix(out, "\n")
	if !ok || strings.ContainsAny(jwt, " \n\t") || strings.Count(jwt, ".") != 2 {
		t.Fatalf("--quiet printed %q; want a bare JWT and a newline", out)
	}
	acc := saAccount(t, dir, "ci")
	wantToken(t, dir, jwt, acc)
	if acc.UserEmail != "ada@example.com" || acc.ExpiresAt != nil || acc.RoutesRestricted || acc.CreatedBy != "command line" {
		t.Errorf("account = %+v; want ada's, never expiring, every route, created by the command line", acc)
	}
}

func TestServiceAccountCreatePrintsTokenOnce(t *testing.T) {
	dir := saData(t)
	out, err := saRun(t, dir, "create", "--user", "ada@example.com", "--name", "nightly",
		"--description", "the nightly build", "--expires", "2099-12-31", "--routes", "b, A")
	if err != nil {
		t.Fatal(err)
	}
	acc := saAccount(t, dir, "nightly")
	var jwt string
	for line := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(line, "  export DRAWBRIDGE_SERVICE_ACCOUNT_JWT='"); ok {
			jwt = strings.TrimSuffix(v, "'\n")
		}
	}
	wantToken(t, dir, jwt, acc)
	for _, want := range []string{
		fmt.Sprintf(`Created service account "nightly" (id %d), acting as ada@example.com.`, acc.ID),
		"Routes:   only B, A\n",
		"Expires:  2100-01-01 00:00 UTC\n",
		"Issuer:   " + saIssuer + " ",
		"\n  " + jwt + "\n",
		"  Authorization: Bearer Drawbridge-${DRAWBRIDGE_SERVICE_ACCOUNT_JWT}\n",
		"cannot show it again",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("create printed:\n%s\nwant it to contain %q", out, want)
		}
	}
	if strings.Contains(out, acc.TokenHash) {
		t.Error("create printed the token's hash")
	}
	if acc.Description != "the nightly build" || !acc.RoutesRestricted || len(acc.RouteIDs) != 2 ||
		acc.ExpiresAt == nil || !acc.ExpiresAt.Equal(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("account = %+v", acc)
	}
	if _, claims, _ := token.ParseServiceAccount(jwt, saIssuer); !claims.ExpiresAt.Equal(*acc.ExpiresAt) {
		t.Errorf("the token expires at %v, the account at %v", claims.ExpiresAt, acc.ExpiresAt)
	}

	out, err = saRun(t, dir, "create", "--user", "ada@example.com", "--name", "forever")
	if err != nil || !strings.Contains(out, "Expires:  never (the default") || !strings.Contains(out, "Routes:   every route ada@example.com's policies allow") {
		t.Errorf("create without --expires and --routes: %v\n%s", err, out)
	}
}

func TestServiceAccountCreateRefusals(t *testing.T) {
	dir := saData(t)
	if _, err := saRun(t, dir, "create", "--user", "ada@example.com", "--name", "ci", "--quiet"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown user", []string{"--user", "nobody@example.com", "--name", "x"}, `--user: no user has the email "nobody@example.com"`},
		{"disabled user", []string{"--user", "bob@example.com", "--name", "x"}, "--user: bob@example.com is disabled"},
		{"unknown route", []string{"--user", "ada@example.com", "--name", "x", "--routes", "A,Nope"}, `--routes: no route is named "Nope"`},
		{"no route names", []string{"--user", "ada@example.com", "--name", "x", "--routes", " , "}, "--routes: give route names"},
		{"bad expiry", []string{"--user", "ada@example.com", "--name", "x", "--expires", "soon"}, `--expires "soon": want never`},
		{"past expiry", []string{"--user", "ada@example.com", "--name", "x", "--expires", "2020-01-01"}, "--expires 2020-01-01: that day is over"},
		{"duplicate name", []string{"--user", "ada@example.com", "--name", "CI"}, "--name is already used by another service account"},
		{"long name", []string{"--user", "ada@example.com", "--name", strings.Repeat("n", 101)}, "--name "},
		{"missing user", []string{"--name", "x"}, "--user is required"},
		{"missing name", []string{"--user", "ada@example.com"}, "--name is required"},
		{"unknown flag", []string{"--user", "ada@example.com", "--name", "x", "--grace", "1h"}, "flag provided but not defined: -grace"},
		{"stray argument", []string{"x", "--user", "ada@example.com"}, `unexpected argument "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := saRun(t, dir, append([]string{"create"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), "service-account create: "+tc.want) {
				t.Fatalf("got %v; want an error containing %q", err, "service-account create: "+tc.want)
			}
			if strings.Contains(err.Error(), "\n") || out != "" {
				t.Errorf("want one line of error and no output; got %q and %q", err, out)
			}
		})
	}
	if _, n, _ := openData(t, dir).ListServiceAccounts(context.Background(), models.ServiceAccountFilter{}); n != 1 {
		t.Errorf("%d accounts after the refusals, want 1", n)
	}
}

func TestServiceAccountUsageErrorsTouchNoData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		{"create", "--name", "x"},
		{"create", "--user", "a@example.com", "--name", "x", "--expires", "90"},
		{"list", "--status", "gone"},
		{"rotate", "ci", "--grace", "soon"},
		{"rotate"},
		{"revoke", "a", "b"},
		{"delete", "ci"},
	} {
		if _, err := saRun(t, dir, args...); err == nil {
			t.Errorf("%s: no error", strings.Join(args, " "))
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a usage error made the data directory: %v", err)
	}
}

func TestServiceAccountHelp(t *testing.T) {
	for _, args := range [][]string{{"service-account", "-h"}, {"service-account", "rotate", "-h"}} {
		out, _, err := runWithEnv(t, nil, args...)
		if err != nil {
			t.Errorf("%v: %v", args, err)
		}
		for _, want := range []string{"create  --user EMAIL --name NAME", "list  ", "revoke  NAME|ID", "rotate  NAME|ID", "Examples:", "00:00 UTC the day after"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v printed:\n%s\nwant %q", args, out, want)
			}
		}
	}
	if out, _, _ := runWithEnv(t, nil, "service-account", "rotate", "-h"); !strings.Contains(out, "  -grace") || strings.Contains(out, "  -routes") {
		t.Errorf("rotate -h lists other flags than rotate's:\n%s", out)
	}
	if out, _, _ := runWithEnv(t, nil, "help"); !strings.Contains(out, "drawbridge service-account <command>") {
		t.Errorf("the usage does not list service-account:\n%s", out)
	}
}

func TestServiceAccountList(t *testing.T) {
	dir := saData(t)
	for _, args := range [][]string{
		{"create", "--user", "ada@example.com", "--name", "ci", "--routes", "A"},
		{"create", "--user", "ada@example.com", "--name", "agent", "--expires", "30d"},
		{"revoke", "agent"},
	} {
		if _, err := saRun(t, dir, args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	s := openData(t, dir)
	ci := saAccount(t, dir, "ci")
	used := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := s.TouchServiceAccounts(context.Background(), map[uint]time.Time{ci.ID: used}); err != nil {
		t.Fatal(err)
	}

	out, err := saRun(t, dir, "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "ID NAME USER STATUS EXPIRES LAST USED ROUTES" {
		t.Fatalf("list printed:\n%s", out)
	}
	// Newest first.
	agent := saAccount(t, dir, "agent")
	for i, want := range []string{
		"2 agent ada@example.com revoked " + utc(*agent.ExpiresAt) + " never all",
		"1 ci ada@example.com active never 2026-03-04 05:06 UTC A",
	} {
		if got := strings.Join(strings.Fields(lines[i+1]), " "); got != want {
			t.Errorf("row %d: %q, want %q", i+1, got, want)
		}
	}
	if strings.Index(lines[0], "STATUS") != strings.Index(lines[2], "active") {
		t.Errorf("columns not aligned:\n%s", out)
	}

	if out, err := saRun(t, dir, "list", "--status", "revoked"); err != nil || strings.Count(out, "\n") != 2 || !strings.Contains(out, "agent") {
		t.Errorf("list --status revoked: %v\n%s", err, out)
	}
	if out, err := saRun(t, dir, "list", "--user", "bob@example.com"); err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("list --user bob: %v\n%s", err, out)
	}
	if _, err := saRun(t, dir, "list", "--user", "nobody@example.com"); err == nil || !strings.Contains(err.Error(), "--user: no user") {
		t.Errorf("list --user nobody: %v", err)
	}

	out, err = saRun(t, dir, "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, ci.TokenHash) || strings.Contains(strings.ToLower(out), "hash") {
		t.Errorf("list --json shows a hash:\n%s", out)
	}
	var rows []saJSON
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if len(rows) != 2 || rows[1].Name != "ci" || rows[1].Status != "active" || rows[1].User != "ada@example.com" ||
		strings.Join(rows[1].Routes, ",") != "A" || !rows[1].RoutesRestricted || rows[1].LastUsedAt == nil || !rows[1].LastUsedAt.Equal(used) ||
		rows[0].Status != "revoked" || rows[0].RevokedAt == nil || rows[0].ExpiresAt == nil || rows[0].RoutesRestricted {
		t.Errorf("list --json:\n%s", out)
	}
	if out, err := saRun(t, dir, "list", "--json", "--status", "expired"); err != nil || strings.TrimSpace(out) != "[]" {
		t.Errorf("an empty list in JSON: %q, %v", out, err)
	}
}

func TestServiceAccountRevoke(t *testing.T) {
	dir := saData(t)
	for _, name := range []string{"ci", "agent"} {
		if _, err := saRun(t, dir, "create", "--user", "ada@example.com", "--name", name, "--quiet"); err != nil {
			t.Fatal(err)
		}
	}
	out, err := saRun(t, dir, "revoke", "CI")
	if err != nil || !strings.Contains(out, `Revoked service account "ci" (id 1, acting as ada@example.com)`) {
		t.Errorf("revoke by name: %v\n%s", err, out)
	}
	if out, err := saRun(t, dir, "revoke", "--data-dir", dir, "2"); err != nil || !strings.Contains(out, `"agent" (id 2`) {
		t.Errorf("revoke by ID, after a flag: %v\n%s", err, out)
	}
	if acc := saAccount(t, dir, "ci"); acc.RevokedAt == nil || acc.Status(time.Now()) != models.ServiceAccountRevoked {
		t.Errorf("after revoke: %+v", acc)
	}
	if out, err := saRun(t, dir, "revoke", "ci"); err != nil || !strings.Contains(out, "was already revoked") {
		t.Errorf("revoke again: %v\n%s", err, out)
	}
	if _, err := saRun(t, dir, "revoke", "ghost"); err == nil || !strings.Contains(err.Error(), `no service account is named or numbered "ghost"`) {
		t.Errorf("revoke an unknown account: %v", err)
	}
	if _, err := saRun(t, dir, "revoke"); err == nil || !strings.Contains(err.Error(), "NAME or ID") {
		t.Errorf("revoke nothing: %v", err)
	}
}

func TestServiceAccountRotate(t *testing.T) {
	dir := saData(t)
	first, err := saRun(t, dir, "create", "--user", "ada@example.com", "--name", "ci", "--expires", "90d", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	old := saAccount(t, dir, "ci")

	before := time.Now()
	second, err := saRun(t, dir, "rotate", "ci", "--grace", "1h", "--quiet")
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	jwt := strings.TrimSuffix(second, "\n")
	acc := saAccount(t, dir, "ci")
	wantToken(t, dir, jwt, acc)
	if jwt == strings.TrimSuffix(first, "\n") {
		t.Fatal("rotate printed the old token")
	}
	if acc.PreviousTokenHash != old.TokenHash || acc.PreviousValidUntil == nil ||
		acc.PreviousValidUntil.Before(before.Add(time.Hour).Add(-time.Second)) || acc.PreviousValidUntil.After(after.Add(time.Hour)) {
		t.Errorf("after rotate --grace 1h: previous hash %q until %v; want %q until about %v",
			acc.PreviousTokenHash, acc.PreviousValidUntil, old.TokenHash, before.Add(time.Hour))
	}
	if _, claims, _ := token.ParseServiceAccount(jwt, saIssuer); !claims.ExpiresAt.Equal(*old.ExpiresAt) || !acc.ExpiresAt.Equal(*old.ExpiresAt) {
		t.Errorf("rotating changed the expiry: token %v, account %v, was %v", claims.ExpiresAt, acc.ExpiresAt, old.ExpiresAt)
	}

	out, err := saRun(t, dir, "rotate", "1")
	if err != nil {
		t.Fatal(err)
	}
	acc = saAccount(t, dir, "ci")
	if acc.PreviousTokenHash != "" || acc.PreviousValidUntil != nil || !strings.Contains(out, "The previous token stops working now.") {
		t.Errorf("rotate without a grace: previous %q until %v; printed\n%s", acc.PreviousTokenHash, acc.PreviousValidUntil, out)
	}
	if out, err := saRun(t, dir, "rotate", "ci", "--grace", "30m"); err != nil || !strings.Contains(out, "keeps working until ") || !strings.Contains(out, "(30m0s)") {
		t.Errorf("rotate --grace 30m: %v\n%s", err, out)
	}

	if _, err := saRun(t, dir, "revoke", "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := saRun(t, dir, "rotate", "ci"); err == nil || !strings.Contains(err.Error(), `"ci" is revoked`) {
		t.Errorf("rotate a revoked account: %v", err)
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 11, 30, 14, 30, 15, 500, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time // zero: never
		err  string
	}{
		{in: ""},
		{in: "never"},
		{in: "Never"},
		{in: "1d", want: time.Date(2026, 12, 1, 14, 30, 15, 0, time.UTC)},
		{in: "30d", want: time.Date(2026, 12, 30, 14, 30, 15, 0, time.UTC)},
		{in: "90d", want: time.Date(2027, 2, 28, 14, 30, 15, 0, time.UTC)},
		{in: "365d", want: time.Date(2027, 11, 30, 14, 30, 15, 0, time.UTC)},
		{in: "3650d", want: time.Date(2036, 11, 27, 14, 30, 15, 0, time.UTC)},
		{in: "2026-11-30", want: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}, // today still counts
		{in: "2027-02-28", want: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2026-11-29", err: "that day is over"},
		{in: "0d", err: "1d to 3650d"},
		{in: "-5d", err: "1d to 3650d"},
		{in: "3651d", err: "1d to 3650d"},
		{in: "d", err: "1d to 3650d"},
		{in: "90", err: "want never, a number of days"},
		{in: "1w", err: "want never, a number of days"},
		{in: "2026-02-30", err: "want never, a number of days"},
		{in: "30/12/2026", err: "want never, a number of days"},
	} {
		got, err := parseExpiry(tc.in, now)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--expires")):
			t.Errorf("parseExpiry(%q) = %v, %v; want an error naming --expires and saying %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || !got.Equal(tc.want)):
			t.Errorf("parseExpiry(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseGrace(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "", want: 0},
		{in: "0", want: 0},
		{in: "30m", want: 30 * time.Minute},
		{in: "1h", want: time.Hour},
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "-1h", bad: true},
		{in: "1y", bad: true},
		{in: "soon", bad: true},
		{in: "3651d", bad: true},
		{in: "100000h", bad: true},
	} {
		got, err := parseGrace(tc.in)
		if tc.bad != (err != nil) || got != tc.want || err != nil && !strings.Contains(err.Error(), "--grace") {
			t.Errorf("parseGrace(%q) = %v, %v", tc.in, got, err)
		}
	}
}
