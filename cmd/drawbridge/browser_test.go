package main

// The harness for the browser journeys: the drawbridge binary, built once
// and run as a real process per test, and one headless Chromium that every
// test shares, each test in a browser context of its own (cookies, storage
// and cache apart, like an incognito window).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/drawbridge/drawbridge/models/pgtest"
)

const (
	// tabTimeout bounds everything one test does in its tab.
	tabTimeout = 60 * time.Second
	// processTimeout bounds the life of one drawbridge process.
	processTimeout = 2 * time.Minute
	// startTimeout bounds the wait for a drawbridge banner.
	startTimeout = 30 * time.Second
	// desktopWidth and desktopHeight are every tab's viewport to begin with.
	desktopWidth, desktopHeight = 1280, 900
	// screenshotsEnv names a directory to write screenshots into.
	screenshotsEnv = "SCREENSHOT_DIR"
)

// harness holds what the whole package shares. TestMain owns it; the binary
// and the browser are made on first use, so tests in this package that need
// neither (config, flags) do not pay for them.
var harness *browserHarness

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "drawbridge-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browser tests:", err)
		return 1
	}
	if err := clearArtifacts(); err != nil {
		fmt.Fprintln(os.Stderr, "browser tests: clear the artifacts of an earlier run:", err)
		return 1
	}
	harness = &browserHarness{dir: dir}
	code := m.Run()
	harness.close()
	pgtest.Stop() // the PostgreSQL cluster tests started, if one did
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "browser tests: remove temp dir:", err)
	}
	return code
}

type browserHarness struct {
	dir string // temp dir: the binary and the browser profile

	buildOnce sync.Once
	binary    string
	buildErr  error

	browserOnce   sync.Once
	browserCtx    context.Context // a chromedp context whose browser is running
	browserErr    error
	cancelBrowser context.CancelFunc
	cancelAlloc   context.CancelFunc
	chromeOutput  lockedBuffer
}

// drawbridgeBinary builds ./cmd/drawbridge once per test run. When the
// tests are built with -race, so is the binary, and a race in the server
// fails the test that ran it (see startDrawbridge).
func (h *browserHarness) drawbridgeBinary(t testing.TB) string {
	t.Helper()
	h.buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			h.buildErr = fmt.Errorf("find the go command to build drawbridge: %w", err)
			return
		}
		h.binary = filepath.Join(h.dir, "drawbridge")
		args := []string{"build", "-o", h.binary}
		if raceEnabled() {
			args = append(args, "-race")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// The test runs in cmd/drawbridge, so "." is the command.
		cmd := exec.CommandContext(ctx, goTool, append(args, ".")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			h.buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if h.buildErr != nil {
		t.Fatal(h.buildErr)
	}
	return h.binary
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// chromiumPath finds the browser the journeys run in.
func chromiumPath() (string, error) {
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", errors.New("headless Chromium is needed for the browser tests and was not found at /usr/bin/chromium or as chromium on PATH: install it with `apt-get install -y chromium`")
}

// browser starts the shared headless Chromium once and returns a chromedp
// context on it; each test opens its own tab from it with newTab.
func (h *browserHarness) browser(t testing.TB) context.Context {
	t.Helper()
	h.browserOnce.Do(func() { h.browserErr = h.startBrowser() })
	if h.browserErr != nil {
		t.Fatal(h.browserErr)
	}
	return h.browserCtx
}

func (h *browserHarness) startBrowser() error {
	path, err := chromiumPath()
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp(h.dir, "chromium-profile-")
	if err != nil {
		return err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		// Exactly these flags: the chromedp defaults (and its Headless and
		// DisableGPU helpers) add more than the tests want.
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(&h.chromeOutput),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	h.cancelAlloc, h.cancelBrowser = cancelAlloc, cancelBrowser

	// The first Run ties the browser's life to its context, so it cannot
	// carry a timeout; bound the wait from outside instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browserCtx) }()
	select {
	case err = <-started:
	case <-time.After(30 * time.Second):
		err = errors.New("no answer within 30s")
	}
	if err != nil {
		h.close()
		return fmt.Errorf("start headless Chromium (%s): %v\nbrowser output:\n%s", path, err, h.chromeOutput.String())
	}
	h.browserCtx = browserCtx
	return nil
}

// close stops the browser, if it was started: gracefully first, then for
// sure.
func (h *browserHarness) close() {
	if h.cancelBrowser == nil {
		return
	}
	if h.browserCtx != nil {
		ctx, cancel := context.WithTimeout(h.browserCtx, 5*time.Second)
		_ = chromedp.Cancel(ctx)
		cancel()
	}
	h.cancelBrowser()
	h.cancelAlloc()
}

// newTab opens a tab in a fresh browser context (no cookies from other
// tests) with a desktopWidth×desktopHeight viewport, and returns its
// chromedp context, which ends after tabTimeout or
// when the test ends. Uncaught JavaScript exceptions and console or CSP
// errors in the tab fail the test.
// tabCount numbers the tabs the tests open, to name their artifacts.
var tabCount atomic.Int64

func newTab(t *testing.T) context.Context {
	t.Helper()
	parent, cancelTimeout := context.WithTimeout(harness.browser(t), tabTimeout)
	ctx, cancelTab := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	t.Cleanup(func() {
		cancelTab()
		cancelTimeout()
	})
	// A desktop viewport, so that layout and screenshots do not depend on
	// the headless window's default size; tests may emulate others.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(desktopWidth, desktopHeight)); err != nil {
		t.Fatalf("open a browser tab: %v", err)
	}

	// Cleanups run last registered first: the page's problems are
	// reported, then a failed test's tab is saved, then the tab closes.
	name := fmt.Sprintf("tab-%d", tabCount.Add(1))
	t.Cleanup(func() { saveTabOnFailure(t, ctx, name) })
	problems := &pageProblems{}
	if err := chromedp.Listen(ctx, problems.record); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	t.Cleanup(func() {
		for _, p := range problems.list() {
			t.Errorf("browser: %s", p)
		}
	})
	return ctx
}

// pageProblems collects what a page reports as broken: exceptions, console
// errors, and CSP violations (which Chromium logs as "security" entries).
// Failed network requests are left out: an error page answering 403 is the
// point of some tests.
type pageProblems struct {
	mu   sync.Mutex
	seen []string
}

func (p *pageProblems) record(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, d.Text)
		if d.Exception != nil && d.Exception.Description != "" {
			msg += ": " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError || e.Source == log.EntrySourceNetwork {
			return
		}
		msg = fmt.Sprintf("%s error: %s (%s)", e.Source, e.Text, e.URL)
	default:
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, msg)
}

func (p *pageProblems) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// instance is one running drawbridge process.
type instance struct {
	URL      string // console URL, http://127.0.0.1:PORT, no trailing slash
	Addr     string // where it listens, 127.0.0.1:PORT: URL's host unless a balancer is in front
	DataDir  string
	Email    string // the first admin, from the banner; "" when the database had users already
	Password string
	Pid      int

	env    []string // added to the environment of the process and of cli
	stderr *lockedBuffer
	// kill stops the process at once with SIGKILL and waits for it.
	kill func()
}

// startDrawbridge runs `drawbridge serve` on a free loopback port with a
// fresh data directory, waits for its banner, and stops it when the test
// ends. extraArgs go after the serve flags (e.g. "--demo").
func startDrawbridge(t *testing.T, extraArgs ...string) *instance {
	t.Helper()
	return startDrawbridgeWith(t, serveOptions{Args: extraArgs})
}

// serveOptions change what startDrawbridgeWith runs; the zero value runs
// what startDrawbridge does.
type serveOptions struct {
	// ConsoleURL is the public URL, when it is not the process's own
	// address: a load balancer's, in front of several replicas.
	ConsoleURL string
	// Env is added to the environment of the process, and of the CLI
	// commands run against it (instance.cli): DRAWBRIDGE_DATABASE_DSN and
	// the like.
	Env []string
	// Args go after the serve flags (e.g. "--demo").
	Args []string
}

// startDrawbridgeWith is startDrawbridge with options.
func startDrawbridgeWith(t *testing.T, opts serveOptions) *instance {
	t.Helper()
	harness.drawbridgeBinary(t) // a build failure fails t here
	inst, err := launchDrawbridge(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// launchDrawbridge is startDrawbridgeWith returning its error instead of
// failing t, so that several processes may start side by side, from
// goroutines of their own. The binary must have been built already.
func launchDrawbridge(t *testing.T, opts serveOptions) (*instance, error) {
	bin := harness.binary
	if bin == "" {
		return nil, errors.New("launchDrawbridge: the binary is not built; call harness.drawbridgeBinary first")
	}
	dataDir, err := os.MkdirTemp(t.TempDir(), "data-")
	if err != nil {
		return nil, err
	}
	// A free port can be taken between the probe and the listen; try again
	// then rather than fail.
	var lastErr error
	for range 3 {
		inst, err := tryStart(t, bin, dataDir, opts)
		if err == nil {
			return inst, nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, lastErr
}

func tryStart(t *testing.T, bin, dataDir string, opts serveOptions) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + port
	inst := &instance{URL: "http://" + addr, Addr: addr, DataDir: dataDir, env: opts.Env, stderr: &lockedBuffer{}}
	if opts.ConsoleURL != "" {
		inst.URL = opts.ConsoleURL
	}

	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	args := append([]string{"serve", "--data-dir", dataDir, "--address", addr, "--console-url", inst.URL}, opts.Args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(childEnv(), opts.Env...)
	cmd.Stderr = inst.stderr
	// Stop gracefully when the test ends, as Ctrl+C would; the context's
	// deadline kills it if it hangs.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	inst.Pid = cmd.Process.Pid

	var waitErr error
	exited := make(chan struct{})
	banner := make(chan struct{})
	var stdoutLog lockedBuffer
	go func() {
		readBanner(stdout, inst, &stdoutLog, banner)
		_, _ = io.Copy(&stdoutLog, stdout)
	}()
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cancel()
		<-exited
	}
	killed := false
	inst.kill = func() {
		killed = true
		_ = cmd.Process.Kill()
		<-exited
	}

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-banner:
	case <-exited:
		cancel()
		return nil, fmt.Errorf("drawbridge %s exited before it was ready (%v)\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), waitErr, stdoutLog.String(), inst.stderr.String())
	case <-timer.C:
		stop()
		return nil, fmt.Errorf("drawbridge %s printed no banner within %s\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), startTimeout, stdoutLog.String(), inst.stderr.String())
	}

	t.Cleanup(func() {
		// A request still open in a tab must not keep the process waiting
		// for ever: SIGTERM, then the graceful shutdown's own limit, then
		// WaitDelay's kill.
		cancel()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		out := inst.stderr.String()
		if strings.Contains(out, "WARNING: DATA RACE") {
			t.Errorf("the drawbridge process reported a data race")
		}
		// Wait reports the cancellation even when the process then exits
		// well, so judge by the exit status.
		if code := cmd.ProcessState.ExitCode(); code != 0 && !killed {
			t.Errorf("drawbridge did not shut down cleanly: exit status %d (%v)", code, waitErr)
		}
		if t.Failed() {
			t.Logf("drawbridge stdout:\n%s", stdoutLog.String())
			t.Logf("drawbridge stderr:\n%s", out)
			saveProcessLog(t, inst.Pid, stdoutLog.String(), out)
		}
	})
	return inst, nil
}

var bannerLine = regexp.MustCompile(`^\s+(email|password):\s+(\S.*)$`)

// readBanner reads stdout until the banner is complete and closes done.
// The banner starts with "… is running" and, on a first start, lists the
// admin's email and password; "Press Ctrl+C" ends it.
func readBanner(r io.Reader, inst *instance, copyTo io.Writer, done chan<- struct{}) {
	sc := bufio.NewScanner(r)
	running := false
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(copyTo, line)
		if strings.Contains(line, "is running") {
			running = true
		}
		if m := bannerLine.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case "email":
				inst.Email = m[2]
			case "password":
				inst.Password = m[2]
			}
		}
		if running && (strings.HasPrefix(line, "Press Ctrl+C") || inst.Email != "" && inst.Password != "") {
			close(done)
			return
		}
	}
}

// childEnv is this process's environment without DRAWBRIDGE_* variables,
// so a developer's own settings (an admin password, a data dir) never leak
// into the instance a test starts.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DRAWBRIDGE_") {
			env = append(env, kv)
		}
	}
	return env
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// cli runs a drawbridge subcommand against this instance's data directory
// (e.g. cli(t, "pw\n", "user", "create", "--email", "bob@example.com",
// "--password-stdin")) and returns its stdout; a failure fails the test.
func (inst *instance) cli(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if len(args) == 0 {
		t.Fatal("cli: no subcommand")
	}
	// Flags go after the subcommand path ("user create"), which is every
	// argument up to the first flag.
	i := 0
	for i < len(args) && !strings.HasPrefix(args[i], "-") {
		i++
	}
	full := append(append(append([]string{}, args[:i]...), "--data-dir", inst.DataDir), args[i:]...)
	cmd := exec.CommandContext(ctx, harness.drawbridgeBinary(t), full...)
	cmd.Env = append(childEnv(), inst.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("drawbridge %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(full, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// screenshot writes a full-page PNG of the tab, at its current viewport
// width, to $SCREENSHOT_DIR/<test>-<name>.png when that variable
// is set; without it, it does nothing.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(dir, fileSafe(t.Name()+"-"+name)+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileSafe(s string) string {
	return strings.Trim(unsafeFileChars.ReplaceAllString(s, "-"), "-")
}

// lockedBuffer is a bytes.Buffer safe for a process writing while a test
// reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
