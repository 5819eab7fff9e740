package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startTimeout bounds everything it takes to have a cluster running:
// initdb, and pg_ctl start waiting for the server to accept connections.
const startTimeout = 30 * time.Second

// clusterPrefix starts the name of each cluster's temporary directory,
// followed by the pid of the test binary that owns it.
const clusterPrefix = "drawbridge-pgtest-"

// cluster is a PostgreSQL cluster in a temporary directory, listening on
// a loopback port and a socket in that directory, trusting every local
// connection. Unless durable, its settings trade durability for speed: a
// crash loses it anyway.
type cluster struct {
	bin  string // the directory of initdb, pg_ctl and postgres
	dir  string // the cluster's files: data/, postgres.log, the socket
	port int
	// asPostgres runs the server's programs as the postgres user: they
	// refuse to run as root.
	asPostgres bool
	// durable keeps PostgreSQL's own settings, fsync and synchronous
	// commits included, and the files on disk: a server as production
	// runs it, for the benchmark to measure.
	durable bool
}

// startCluster initdbs and starts a cluster. notFound says it failed
// only because PostgreSQL is not installed.
func startCluster(durable bool) (c *cluster, notFound bool, err error) {
	bin, err := findBin()
	if err != nil {
		return nil, true, err
	}
	reapStaleClusters(bin)
	dir, err := makeClusterDir(durable)
	if err != nil {
		return nil, false, fmt.Errorf("cluster directory: %w", err)
	}
	c = &cluster{bin: bin, dir: dir, asPostgres: os.Geteuid() == 0, durable: durable}
	if c.asPostgres {
		if err := chownToPostgres(dir); err != nil {
			os.RemoveAll(dir)
			return nil, false, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := c.initdb(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, false, err
	}
	// The port is free when looked at, but another process may take it
	// before the server does: then try another.
	for attempt := 1; ; attempt++ {
		if c.port, err = freePort(); err == nil {
			err = c.start(ctx)
		}
		if err == nil || attempt == 3 || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, false, err
	}
	return c, false, nil
}

// makeClusterDir makes the cluster's directory, named for this process:
// in /dev/shm where there is one, since every test copies a database,
// which takes ten times as long on disk; in the temporary directory
// elsewhere, and for a durable cluster.
func makeClusterDir(durable bool) (string, error) {
	pattern := clusterPrefix + strconv.Itoa(os.Getpid()) + "-"
	if durable {
		return os.MkdirTemp("", pattern)
	}
	if dir, err := os.MkdirTemp("/dev/shm", pattern); err == nil {
		return dir, nil
	}
	return os.MkdirTemp("", pattern)
}

// findBin returns the directory holding initdb: from PATH, or else the
// newest of /usr/lib/postgresql/<version>/bin (Debian and Ubuntu keep it
// off PATH).
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// PATH may hold a link to initdb alone; pg_ctl sits beside the
		// real one.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", errors.New("initdb is neither on PATH nor in /usr/lib/postgresql/*/bin")
	}
	version := func(p string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(p))), 64)
		return v
	}
	newest := slices.MaxFunc(found, func(a, b string) int {
		switch va, vb := version(a), version(b); {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return 0
	})
	return filepath.Dir(newest), nil
}

// chownToPostgres gives dir to the postgres user, for the server's
// programs running as that user to write in.
func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root, the server must run as the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("give %s to the postgres user: %w", dir, err)
	}
	return nil
}

func (c *cluster) data() string    { return filepath.Join(c.dir, "data") }
func (c *cluster) logFile() string { return filepath.Join(c.dir, "postgres.log") }

// adminDSN reaches the cluster's postgres database as its superuser.
func (c *cluster) adminDSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// command runs one of the server's programs, as the postgres user when
// need be.
func (c *cluster) command(ctx context.Context, program string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, program)
	if c.asPostgres {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.CommandContext(ctx, path, args...)
}

// initdb creates the cluster: UTF-8, with the C locale, superuser
// postgres, trusting local connections, without waiting for its files to
// reach the disk.
func (c *cluster) initdb(ctx context.Context) error {
	out, err := c.command(ctx, "initdb", "-D", c.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb in %s: %w\n%s", c.dir, err, out)
	}
	return nil
}

// start starts the server and waits until it accepts connections, at
// most until ctx ends; on failure the error holds the server's log.
func (c *cluster) start(ctx context.Context) error {
	flags := []string{
		"-p " + strconv.Itoa(c.port),
		"-k " + c.dir,
		"-c listen_addresses=127.0.0.1",
		"-c max_connections=200",
	}
	if !c.durable {
		flags = append(flags,
			"-c fsync=off",
			"-c synchronous_commit=off",
			"-c full_page_writes=off",
			// Test databases live seconds; autovacuum's workers would only
			// hold up the copy of a template database (see DSNFrom).
			"-c autovacuum=off",
		)
	}
	settings := strings.Join(flags, " ")
	wait := time.Until(deadline(ctx))
	out, err := c.command(ctx, "pg_ctl", "start", "-D", c.data(), "-l", c.logFile(), "-s",
		"-w", "-t", strconv.Itoa(max(1, int(wait.Seconds()))), "-o", settings).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(c.logFile())
		// A server that started after all, too late, must not outlive us.
		c.command(context.Background(), "pg_ctl", "stop", "-D", c.data(), "-m", "immediate", "-s").Run()
		return fmt.Errorf("pg_ctl start (port %d): %w\n%s\nserver log:\n%s", c.port, err, out, log)
	}
	return nil
}

func deadline(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(startTimeout)
	}
	return d
}

// stop stops the server at once, without a checkpoint, and removes its
// files.
func (c *cluster) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	err := c.halt(ctx, "immediate")
	if rmErr := os.RemoveAll(c.dir); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

// halt stops the server in pg_ctl's shutdown mode (fast, immediate) and
// waits until it has, keeping its files.
func (c *cluster) halt(ctx context.Context, mode string) error {
	out, err := c.command(ctx, "pg_ctl", "stop", "-D", c.data(), "-m", mode, "-s", "-w").CombinedOutput()
	if err != nil {
		return fmt.Errorf("stop the cluster in %s: %w\n%s", c.dir, err, out)
	}
	return nil
}

// pidFile exists while the server runs.
func (c *cluster) pidFile() string { return filepath.Join(c.data(), "postmaster.pid") }

// freePort returns a loopback TCP port nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// reapStaleClusters stops and removes the clusters of test binaries that
// died before their Stop (a test timeout exits without running it), so
// that their servers do not pile up. A cluster is stale when the process
// its directory names is gone.
func reapStaleClusters(bin string) {
	var dirs []string
	for _, parent := range []string{"/dev/shm", os.TempDir()} {
		found, _ := filepath.Glob(filepath.Join(parent, clusterPrefix+"*"))
		dirs = append(dirs, found...)
	}
	for _, dir := range dirs {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), clusterPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() || processExists(pid) {
			continue
		}
		c := &cluster{bin: bin, dir: dir, asPostgres: os.Geteuid() == 0}
		c.stop() // best effort: it may never have started
	}
}

// processExists reports whether a process with pid runs, by sending it
// the null signal.
func processExists(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
