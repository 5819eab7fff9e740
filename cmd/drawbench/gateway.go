package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
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

// signingKeyEnv passes a signing key from the parent (base64 of PKCS#8
// DER), so that replicas on one database take each other's tokens; a
// gateway without it makes its own.
const signingKeyEnv = "DRAWBENCH_SIGNING_KEY"

// runGateway is Drawbridge's engine, wired as `drawbridge serve` wires it,
// over a fresh SQLite store (or a PostgreSQL database) holding one user,
// one five-rule policy and three mcp_server routes to the upstream; with
// --join, over a database another gateway seeded, as its replica.
// It prints the routes' URLs and access tokens for the parent, or, with
// --reload-test, measures how soon it obeys policy changes made in this
// process and prints that instead.
func runGateway(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	to := fs.String("to", "", "the upstream's base URL, http://host:port")
	dir := fs.String("dir", "", "directory for the SQLite file (required with sqlite)")
	driver := fs.String("database", "sqlite", "the store: sqlite (in --dir) or postgres (at --dsn)")
	dsn := fs.String("dsn", "", "the PostgreSQL database, with --database postgres")
	join := fs.Bool("join", false, "the database is seeded already, by another gateway: join it as a replica")
	publicPort := fs.String("public-port", "", "the port the routes' hosts name, where clients reach the gateway; default the one it listens on")
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
	case *driver != "sqlite" && *driver != "postgres":
		return fmt.Errorf("gateway: --database is sqlite or postgres, not %q", *driver)
	case *driver == "sqlite" && *dir == "":
		return errors.New("gateway: --dir is required with sqlite")
	case *driver == "postgres" && *dsn == "":
		return errors.New("gateway: --dsn is required with postgres")
	case *auditOn != "on" && *auditOn != "off":
		return fmt.Errorf("gateway: --audit is on or off, not %q", *auditOn)
	}
	cipher, err := benchCipher(getenv(cipherKeyEnv))
	if err != nil {
		return err
	}
	dbPath := *dsn
	if *driver == "sqlite" {
		dbPath = filepath.Join(*dir, "drawbridge.sqlite")
	}
	store, err := models.Open(ctx, models.Options{Driver: *driver, DSN: dbPath, Cipher: cipher, ValidatePolicy: validatePolicy})
	if err != nil {
		return err
	}
	defer store.Close()
	ln, err := listenLoopback(ctx)
	if err != nil {
		return err
	}
	defer ln.Close()
	keys, err := gatewayKeySet(getenv(signingKeyEnv))
	if err != nil {
		return err
	}
	if *publicPort == "" {
		_, *publicPort, _ = net.SplitHostPort(ln.Addr().String())
	}
	var seed *seeded
	if *join {
		seed, err = joinGateway(ctx, store, keys)
	} else {
		seed, err = seedGateway(ctx, store, keys, upstream.String(), *publicPort)
	}
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
	ran := make(chan struct{}, 2)
	go func() { engine.Run(ctx); ran <- struct{}{} }()
	// As web.Server.Run: on PostgreSQL, changes other replicas commit are
	// announced; on SQLite this returns at once, and the poll is all.
	go func() { store.WatchConfig(ctx, logger, engine.Changed); ran <- struct{}{} }()
	defer func() { cancel(); <-ran; <-ran }() // before the store closes

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

// gatewayKeySet is the key set tokens are signed and verified with: the
// one the parent passed in encoded (base64 of PKCS#8 DER), or a new one.
func gatewayKeySet(encoded string) (*token.KeySet, error) {
	if encoded == "" {
		return newKeySet()
	}
	der, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("gateway: %s: %w", signingKeyEnv, err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("gateway: %s: %w", signingKeyEnv, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("gateway: %s: a %T, want ECDSA P-256", signingKeyEnv, key)
	}
	return token.NewKeySet(ec)
}

// benchCipher is the store's cipher, from the key the parent chose.
func benchCipher(hexKey string) (*models.Cipher, error) {
	secret, err := hex.DecodeString(hexKey)
	if err != nil || len(secret) != 32 {
		return nil, fmt.Errorf("gateway: %s must be 32 bytes in hex", cipherKeyEnv)
	}
	return models.NewCipher(models.Key{ID: "drawbench", Secret: secret})
}
