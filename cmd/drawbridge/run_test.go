package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runCLI runs the program in-process and returns what it printed.
func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, append([]string{"drawbridge"}, args...), nil, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestVersionAndUsage(t *testing.T) {
	if out, err := runCLI(t, "", "version"); err != nil || !strings.HasPrefix(out, "drawbridge ") {
		t.Errorf("version: %q, %v", out, err)
	}
	if out, err := runCLI(t, "", "frobnicate"); err == nil || !strings.Contains(out, "Usage:") {
		t.Errorf("unknown command: %q, %v", out, err)
	}
	if _, err := runCLI(t, "", "serve", "stray"); err == nil || !strings.Contains(err.Error(), `unexpected argument "stray"`) {
		t.Errorf("stray argument: %v", err)
	}
}

func TestUserCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, err := runCLI(t, "", "user", "create", "--data-dir", dir, "--email", "Ada@Example.com", "--name", "Ada", "--admin")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Created ada@example.com (administrator).") || !strings.Contains(out, "Password (shown once): ") {
		t.Errorf("create printed %q", out)
	}
	if _, err := runCLI(t, "", "user", "create", "--data-dir", dir, "--email", "ada@example.com"); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("duplicate create: %v", err)
	}
	if _, err := runCLI(t, "short\n", "user", "create", "--data-dir", dir, "--email", "bob@example.com", "--password-stdin"); err == nil ||
		!strings.Contains(err.Error(), "at least 12") {
		t.Errorf("short password: %v", err)
	}
	if _, err := runCLI(t, "a long enough password\n", "user", "create", "--data-dir", dir, "--email", "bob@example.com", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "", "user", "disable", "--data-dir", dir, "--email", "bob@example.com"); err != nil || !strings.Contains(out, "is disabled") {
		t.Errorf("disable: %q %v", out, err)
	}
	if out, err := runCLI(t, "", "user", "make-admin", "--data-dir", dir, "--email", "ada@example.com", "--revoke"); err != nil || !strings.Contains(out, "no longer") {
		t.Errorf("make-admin --revoke: %q %v", out, err)
	}
	if out, err := runCLI(t, "", "user", "set-password", "--data-dir", dir, "--email", "ada@example.com"); err != nil || !strings.Contains(out, "Password (shown once)") {
		t.Errorf("set-password: %q %v", out, err)
	}
	if _, err := runCLI(t, "", "user", "disable", "--data-dir", dir, "--email", "ghost@example.com"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown user: %v", err)
	}
	out, err = runCLI(t, "", "user", "list", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "ada@example.com") || !strings.Contains(lines[2], "disabled") {
		t.Errorf("list:\n%s", out)
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	_, err := runCLI(t, "", "serve", "--data-dir", filepath.Join(t.TempDir(), "data"), "--console-url", "not a url", "--log-level", "loud")
	if err == nil || !strings.Contains(err.Error(), "server.console_url") || !strings.Contains(err.Error(), "log.level") {
		t.Fatalf("got %v, want every problem listed", err)
	}
}
