package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy"
	"github.com/drawbridge/drawbridge/proxy/audit"
	"github.com/drawbridge/drawbridge/proxy/token"
)

// assertionTTL is web's: how long an X-Drawbridge-Assertion is valid.
const assertionTTL = 5 * time.Minute

// cipherKeyEnv passes the store's cipher key from the parent, which opens
// the same database to change the policy as another process would.
const cipherKeyEnv = "DRAWBENCH_CIPHER_KEY"

// runGateway is Drawbridge's engine, wired as `drawbridge serve` wires it,
// over a fresh SQLite store holding one user, one five-rule policy and
// three mcp_server routes to the upstream.
// It prints the routes' URLs and access tokens for the parent, or, with
// --reload-test, measures how soon it obeys policy changes made in this
// process and prints that instead.
func runGateway(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	to := fs.String("to", "", "the upstream's base URL, http://host:port")
	dir := fs.String("dir", "", "directory for the SQLite file (required)")
	auditOn := fs.String("audit", "off", "durable audit: on or off")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the serving to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile to this file when stopping")
	reloadTest := fs.Int("reload-test", 0, "measure this many in-process policy changes, print them as JSON and exit")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	upstream, err := url.Parse(*to)
	switch {
	case err != nil || upstream.Host == "":
		return errors.New("gateway: --to must be an absolute URL")
	case *dir == "":
		return errors.New("gateway: --dir is required")
	case *auditOn != "on" && *auditOn != "off":
		return fmt.Errorf("gateway: --audit is on or off, not %q", *auditOn)
	}
	cipher, err := benchCipher(getenv(cipherKeyEnv))
	if err != nil {
		return err
	}
	dbPath := filepath.Join(*dir, "drawbridge.sqlite")
	store, err := models.Open(ctx, models.Options{Driver: "sqlite", DSN: dbPath, Cipher: cipher, ValidatePolicy: validatePolicy})
	if err != nil {
		return err
	}
	defer store.Close()
	ln, err := listenLoopback(ctx)
	if err != nil {
		return err
	}
	defer ln.Close()
	keys, err := newKeySet()
	if err != nil {
		return err
	}
	seed, err := seedGateway(ctx, store, keys, upstream.String(), ln.Addr().String())
	if err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// As web.New wires it: assertions for the upstream, and, on, the
	// durable audit writer, which commits every decision before the
	// request is forwarded.
	asserter, err := token.NewAsserter(keys, issuerURL, assertionTTL)
	if err != nil {
		return err
	}
	var sink proxy.AuditSink // a nil *audit.Writer would not be a nil sink
	if *auditOn == "on" {
		w := audit.New(store, audit.Options{Logger: logger})
		defer w.Close(context.WithoutCancel(ctx)) // after the server has stopped
		sink = w
	}
	engine := proxy.New(proxy.Options{
		Store:     store,
		Verifier:  token.NewVerifier(keys, issuerURL, token.VerifierOptions{}),
		Asserter:  asserter,
		IssuerURL: issuerURL,
		Logger:    logger,
		Audit:     sink,
	})
	if err := engine.Reload(ctx); err != nil {
		return err
	}
	store.OnChange(engine.Changed)
	ctx, cancel := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { engine.Run(ctx); close(ran) }()
	defer func() { cancel(); <-ran }() // before the store closes

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		defer writeAllocs(*memProfile, stderr)
	}
	srv := newServer(engine)
	served := make(chan error, 1)
	go func() { served <- serveUntil(ctx, srv, ln) }()

	err = announce(stdout, ready{Addr: ln.Addr().String(), Routes: seed.routes, DB: dbPath, PolicyID: seed.policyID})
	if err != nil {
		return err
	}
	if *reloadTest == 0 {
		return <-served
	}
	probe := newProber(ln.Addr().String(), seed.routes[routeEcho])
	lat, err := measureReloads(ctx, store, seed.policyID, probe, *reloadTest, inProcessJitter)
	if err != nil {
		return err
	}
	if err := json.NewEncoder(stdout).Encode(reloadReport{Latencies: lat}); err != nil {
		return err
	}
	return <-served // until the parent, which has read the report, stops us
}

// inProcessJitter spreads in-process changes apart; the engine learns of
// them through the store's hook, whatever the phase of its poll.
const inProcessJitter = 20 * time.Millisecond

// writeAllocs writes the allocations made so far (go tool pprof
// -sample_index=alloc_space).
func writeAllocs(path string, stderr io.Writer) {
	f, err := os.Create(path)
	if err == nil {
		err = errors.Join(pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
	}
	if err != nil {
		fmt.Fprintln(stderr, "gateway: allocation profile:", err)
	}
}

// reloadReport is what a --reload-test gateway prints.
type reloadReport struct {
	Latencies []time.Duration `json:"latencies_ns"`
}

// benchCipher is the store's cipher, from the key the parent chose.
func benchCipher(hexKey string) (*models.Cipher, error) {
	secret, err := hex.DecodeString(hexKey)
	if err != nil || len(secret) != 32 {
		return nil, fmt.Errorf("gateway: %s must be 32 bytes in hex", cipherKeyEnv)
	}
	return models.NewCipher(models.Key{ID: "drawbench", Secret: secret})
}
