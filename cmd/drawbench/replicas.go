package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/models/pgtest"
	"github.com/drawbridge/drawbridge/proxy"
)

// maxReplicas is how many gateways share the PostgreSQL database, at most.
const maxReplicas = 3

// maxReloadAcrossReplicas is the promise: a change made anywhere
// is obeyed by every replica within a second.
const maxReloadAcrossReplicas = time.Second

// replicaPublicPort is the port the replicas' routes name: where clients
// would reach them through a load balancer. The load dials each balancer
// whatever port the URL names, and the balancer keeps the Host.
const replicaPublicPort = "8080"

// Names of the replicas phase's targets.
const nameSQLiteOne = "SQLite, 1 Drawbridge"

func namePostgres(n int) string {
	if n == 1 {
		return "PostgreSQL, 1 Drawbridge"
	}
	return fmt.Sprintf("PostgreSQL, %d Drawbridges", n)
}

// runReplicas measures tools/call at the replica concurrency through one,
// two and three gateways on one PostgreSQL database, against one gateway
// on SQLite, every target behind a round-robin balancer process of its
// own and with the durable audit on; then how soon each PostgreSQL
// replica obeys a policy change committed by another process.
func (b *bench) runReplicas(ctx context.Context) error {
	pg, err := b.postgres(ctx)
	if err != nil {
		return err
	}
	defer pg.close()
	// The replicas and their balancers stop before the database goes.
	var started children
	defer started.stopAll()
	b.progress("replicas: PostgreSQL %s, %s", pg.version, pg.where)
	// One signing key for every gateway: tokens one issues, the others
	// take, as replicas sharing their keys do.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	env := append(slices.Clone(b.env), signingKeyEnv+"="+base64.StdEncoding.EncodeToString(der))

	dir, err := os.MkdirTemp(b.dir, "replica-sqlite-")
	if err != nil {
		return err
	}
	sqlite, err := b.startReplica(ctx, &started, "replica-sqlite", env, "--database", "sqlite", "--dir", dir)
	if err != nil {
		return err
	}
	var gateways []*child
	for i := range maxReplicas {
		args := []string{"--database", "postgres", "--dsn", pg.dsn, "--public-port", replicaPublicPort}
		if i > 0 {
			args = append(args, "--join") // the first seeded the database
		}
		gw, err := b.startReplica(ctx, &started, fmt.Sprintf("replica-pg-%d", i+1), env, args...)
		if err != nil {
			return err
		}
		gateways = append(gateways, gw)
	}
	t, err := b.balanced(ctx, &started, nameSQLiteOne, []*child{sqlite})
	if err != nil {
		return err
	}
	targets := []*target{t}
	for n := 1; n <= maxReplicas; n++ {
		t, err := b.balanced(ctx, &started, namePostgres(n), gateways[:n])
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	for _, t := range targets {
		t.client = newClient(t.addr, b.cfg.ReplicaConcurrency)
	}
	w := &workload{name: "tools/call", route: routeEcho, body: callBody, check: checkCall}
	s, err := b.measureSeries(ctx, targets, w, b.cfg.ReplicaConcurrency, meter{upstream: b.upstream, kids: &b.kids, dbServer: pg.pid})
	if err != nil {
		return err
	}
	b.report.replicas = &replicaResult{series: s, reference: nameSQLiteOne, database: pg.version + ", " + pg.where, dbMeasured: pg.pid != 0}
	return b.runReplicaReloads(ctx, pg, gateways)
}

// runReplicaReloads changes the policy from this process, through a store
// of its own on the replicas' database (as a console or the CLI on
// another machine would), and measures how soon each replica, probed
// directly, obeys.
func (b *bench) runReplicaReloads(ctx context.Context, pg *pgServer, gateways []*child) error {
	b.progress("replicas: %d policy changes made in another process, each awaited at %d replicas", b.cfg.Reloads, len(gateways))
	cipher, err := benchCipher(b.cipherKey)
	if err != nil {
		return err
	}
	store, err := models.Open(ctx, models.Options{Driver: "postgres", DSN: pg.dsn, Cipher: cipher, ValidatePolicy: validatePolicy})
	if err != nil {
		return err
	}
	defer store.Close()
	var probes []prober
	for _, gw := range gateways {
		probes = append(probes, newProber(gw.ready.Addr, gw.ready.Routes[routeEcho]))
	}
	// Spread over the poll's period, as for SQLite: the announcement
	// should make the phase of the poll not matter.
	lat, err := measureReloadsAcross(ctx, store, gateways[0].ready.PolicyID, probes, b.cfg.Reloads, proxy.PollInterval)
	if err != nil {
		return err
	}
	for i, l := range lat {
		b.report.reloads = append(b.report.reloads, reloadRow{
			where: fmt.Sprintf("another process, as PostgreSQL replica %d of %d sees it (LISTEN/NOTIFY; the %s poll as fallback)", i+1, len(lat), proxy.PollInterval),
			limit: maxReloadAcrossReplicas, lat: l,
		})
	}
	return nil
}

// startReplica starts a gateway with the audit on, extra saying where
// its store is, and adds it to started as well as to the bench's
// children.
func (b *bench) startReplica(ctx context.Context, started *children, name string, env []string, extra ...string) (*child, error) {
	args := append([]string{"gateway", "--to", b.upstreamURL(), "--audit", "on"}, extra...)
	c, err := startSelf(ctx, name, env, b.stderr, args...)
	if err != nil {
		return nil, err
	}
	return started.add(b.kids.add(c)), nil
}

// balanced starts a balancer in front of gateways, added to started and
// to the bench's children, and returns it as a target whose CPU is the
// balancer's and the gateways'.
func (b *bench) balanced(ctx context.Context, started *children, name string, gateways []*child) (*target, error) {
	var addrs []string
	for _, gw := range gateways {
		addrs = append(addrs, gw.ready.Addr)
	}
	lb, err := startSelf(ctx, "balancer in front of "+name, nil, b.stderr, "balancer", "--to", strings.Join(addrs, ","))
	if err != nil {
		return nil, err
	}
	started.add(b.kids.add(lb))
	return &target{name: name, addr: lb.ready.Addr, proxy: lb, behind: gateways, filtered: true, endpoints: gateways[0].ready.Routes}, nil
}

// pgServer is the PostgreSQL database the replicas share.
type pgServer struct {
	dsn     string
	pid     int    // the server's postmaster, when it runs here; 0: not known
	version string // server_version
	where   string // what server it is, for the report
	close   func()
}

// postgres creates the replicas' database: on the server -postgres names,
// or on a throwaway cluster with PostgreSQL's own durability settings.
func (b *bench) postgres(ctx context.Context) (*pgServer, error) {
	pg := &pgServer{}
	admin := b.cfg.Postgres
	if admin == "" {
		c, err := pgtest.StartCluster(pgtest.ClusterOptions{Durable: true})
		if errors.Is(err, pgtest.ErrNotInstalled) {
			return nil, fmt.Errorf("the replicas phase needs PostgreSQL: install it, or name a server with -postgres or $%s (%w)", postgresEnv, err)
		}
		if err != nil {
			return nil, err
		}
		admin = c.AdminDSN()
		pg.where = "a throwaway cluster on this machine, on disk, with PostgreSQL's default durability (fsync, synchronous commits)"
		pg.close = func() {
			if err := c.Remove(); err != nil {
				b.progress("replicas: %v", err)
			}
		}
		if pg.pid, err = c.ServerPID(); err != nil {
			return nil, errors.Join(err, c.Remove())
		}
	} else {
		pg.where = "the server -postgres names (its CPU is not measured)"
		pg.close = func() {}
	}
	dsn, drop, err := pgtest.CreateDatabase(ctx, admin)
	if err != nil {
		pg.close()
		return nil, fmt.Errorf("create the replicas' database: %w", err)
	}
	closeServer := pg.close
	pg.dsn, pg.close = dsn, func() {
		if err := drop(context.Background()); err != nil {
			b.progress("replicas: drop the database: %v", err)
		}
		closeServer()
	}
	if pg.version, err = serverVersion(ctx, dsn); err != nil {
		pg.close()
		return nil, err
	}
	return pg, nil
}

// serverVersion asks the server its version.
func serverVersion(ctx context.Context, dsn string) (string, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "", fmt.Errorf("PostgreSQL server version: %w", err)
	}
	v, _, _ = strings.Cut(v, " ")
	return v, nil
}
