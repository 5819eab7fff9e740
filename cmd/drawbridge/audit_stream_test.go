package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAuditStreamConfig(t *testing.T) {
	for _, st := range []string{"-", "stdout", filepath.Join(t.TempDir(), "audit.jsonl")} {
		file := writeFile(t, "drawbridge.yaml", "audit:\n  stream: \""+st+"\"\n")
		cfg, err := loadConfig(configFlags{file: file}, nil)
		if err != nil {
			t.Errorf("audit.stream %q: %v", st, err)
		} else if cfg.Audit.Stream != st {
			t.Errorf("audit.stream %q read as %q", st, cfg.Audit.Stream)
		}
	}
	file := writeFile(t, "drawbridge.yaml", "audit:\n  stream: \"/no/such/dir/-\"\n")
	if _, err := loadConfig(configFlags{file: file}, nil); err == nil || !strings.Contains(err.Error(), "audit.stream") {
		t.Errorf("a stream in a missing directory: %v", err)
	}
}

// A server streaming the audit log to a file leaves it, when run
// returns, closed and holding every event up to the last.
func TestServeClosesTheAuditStreamFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	const calls = 40
	out := serveAndCall(t, "DRAWBRIDGE_AUDIT_STREAM="+path, "file", calls)
	if strings.Contains(out, `"type":"event"`) {
		t.Errorf("a stream to a file wrote to standard output too")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "\n") {
		t.Errorf("the stream file ends mid-line: %q", tail(string(b)))
	}
	if got := streamedClients(t, string(b)); !sameClients(got, "file", calls) {
		t.Errorf("the stream file holds the events of %v, want file-0 to file-%d in order", got, calls-1)
	}
	if runtime.GOOS != "linux" {
		return
	}
	if fds := openFDs(t, path); len(fds) > 0 {
		t.Errorf("after run returned, the process still has the stream file open as %v", fds)
	}
}

// audit.stream "-" is the command's standard output, as it is for most
// commands, not a file named "-".
func TestServeStreamsTheAuditLogToStandardOutput(t *testing.T) {
	const calls = 3
	out := serveAndCall(t, "DRAWBRIDGE_AUDIT_STREAM=-", "dash", calls)
	if got := streamedClients(t, out); !sameClients(got, "dash", calls) {
		t.Errorf("standard output holds the events of %v, want dash-0 to dash-%d:\n%s", got, calls-1, out)
	}
	if _, err := os.Stat("-"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(`a file named "-" was made: %v`, err)
	}
}

// serveAndCall runs serve with env until it has answered calls refused
// token requests, whose client ids are prefix-0, prefix-1…, each an
// audit event; then stops it as Ctrl+C would, and returns what it wrote
// to standard output once run has returned.
func serveAndCall(t *testing.T, env, prefix string, calls int) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	addr := make(chan string, 1)
	var lines []string
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			lines = append(lines, l)
			if _, rest, ok := strings.Cut(l, "(listening on "); ok && len(addr) == 0 {
				addr <- strings.TrimSuffix(rest, ").")
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"drawbridge", "serve", "--data-dir", filepath.Join(t.TempDir(), "data"), "--address", "127.0.0.1:0",
			"--console-url", "http://localhost:8080", "--log-level", "warn"}, []string{env}, strings.NewReader(""), pw, &stderr)
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve ended before it listened: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve printed no banner\n%s", stderr.String())
	}
	for i := range calls {
		form := url.Values{"grant_type": {"authorization_code"}, "client_id": {prefix + "-" + strconv.Itoa(i)}, "code": {"x"}}
		req, _ := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
		req.Host = "localhost:8080" // the console's host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("token request of an unknown client: %d, want 401", resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	pw.Close()
	<-read
	if log := stderr.String(); strings.Contains(log, "audit: stream") || strings.Contains(log, "audit.stream") {
		t.Errorf("serve logged a problem with the stream:\n%s", log)
	}
	return strings.Join(lines, "\n")
}

// streamedClients are the client ids of the refused-request events in a
// stream's JSON lines, in order; the lines that are not JSON (a banner)
// are skipped.
func streamedClients(t *testing.T, s string) []string {
	t.Helper()
	var ids []string
	for l := range strings.Lines(s) {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var line struct {
			Type  string
			Event struct {
				Kind     string `json:"kind"`
				ClientID string `json:"client_id"`
			}
		}
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("a stream line is not JSON: %v: %q", err, l)
		}
		if line.Type == "event" && line.Event.Kind == "refused" {
			ids = append(ids, line.Event.ClientID)
		}
	}
	return ids
}

// sameClients reports whether got is prefix-0 … prefix-(n-1).
func sameClients(got []string, prefix string, n int) bool {
	if len(got) != n {
		return false
	}
	for i, id := range got {
		if id != prefix+"-"+strconv.Itoa(i) {
			return false
		}
	}
	return true
}

// openFDs are this process's file descriptors open on path.
func openFDs(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			fds = append(fds, e.Name())
		}
	}
	return fds
}

// tail is the end of s, for a message.
func tail(s string) string {
	if len(s) > 200 {
		return s[len(s)-200:]
	}
	return s
}
