package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drawbridge/drawbridge/models/pgtest"
)

// Phases of the benchmark, which --only selects.
const (
	phaseCall   = "call"   // tools/call throughput and latency
	phaseList   = "list"   // tools/list of many tools, filtered
	phaseStream = "stream" // memory of idle streams
	phaseReload = "reload" // how soon policy changes are obeyed
	// phaseReplicas: tools/call through one, two and three gateways on
	// PostgreSQL, and how soon each obeys a change made elsewhere.
	phaseReplicas = "replicas"
	phaseAudit    = "audit" // the audit log's reads at a million events
)

// allPhases are every phase. The default is all of them, but replicas
// only where PostgreSQL is to be had (see defaultPhases).
var allPhases = []string{phaseCall, phaseList, phaseStream, phaseReload, phaseReplicas, phaseAudit}

// postgresEnv, like -postgres, names a PostgreSQL server (an admin DSN)
// for the replicas phase: the tests' variable, so that one setting serves
// both.
const postgresEnv = pgtest.EnvServer

// Config is the benchmark's, from its flags.
type Config struct {
	Duration    time.Duration // of each round, per target
	Warmup      time.Duration // before the rounds of each target, per concurrency
	Rounds      int
	Concurrency []int         // for tools/call; tools/list runs at 1
	Tools       int           // listed by the many-tools upstream
	Streams     int           // idle streams opened per method and proxy
	Settle      time.Duration // before each memory reading
	Methods     []string
	Reloads     int // policy changes, per kind
	Phases      []string
	Out         string // a file to write the report to, besides stdout
	ProfileDir  string // CPU profiles of the gateways go here
	Nginx       string // nginx's path; "" looks on PATH, "off" skips it
	Verbose     bool
	// Postgres is an admin DSN for the replicas phase to create its
	// database with; "" starts a throwaway cluster.
	Postgres string
	// ReplicaConcurrency is the replicas phase's tools/call concurrency.
	ReplicaConcurrency int
}

// parseConfig reads the benchmark's flags; getenv supplies the defaults
// that come from the environment.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var (
		c                     Config
		conc, methods, phases string
	)
	fs := flag.NewFlagSet("drawbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: drawbench [flags]\n\nMeasures Drawbridge against a plain Go reverse proxy (and nginx, where installed) and prints a Markdown report.\n\n")
		fs.PrintDefaults()
	}
	fs.DurationVar(&c.Duration, "duration", time.Second, "length of each round, per target")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "warm-up of each target before its rounds, per workload and concurrency")
	fs.IntVar(&c.Rounds, "rounds", 9, "rounds; targets alternate within each")
	fs.StringVar(&conc, "concurrency", "1,32", "concurrent clients for tools/call, comma-separated")
	fs.IntVar(&c.Tools, "tools", 500, "tools in the tools/list test (even; the policy hides half)")
	fs.IntVar(&c.Streams, "streams", 1000, "idle streams held open per proxy and method")
	fs.DurationVar(&c.Settle, "settle", time.Second, "wait before each memory reading of the stream test")
	fs.StringVar(&methods, "stream-methods", "GET,POST", "how streams are opened: GET (a listening stream), POST (a call answered by a stream)")
	fs.IntVar(&c.Reloads, "reloads", 100, "policy changes measured, in this process and in another")
	fs.StringVar(&phases, "only", "", "phases to run, of "+strings.Join(allPhases, ", ")+
		" (default: all, the replicas phase only where PostgreSQL is installed or -postgres names a server)")
	fs.StringVar(&c.Postgres, "postgres", "", "admin DSN of a PostgreSQL server for the replicas phase to create a database on (default $"+
		postgresEnv+"; with neither, it starts a throwaway cluster from the PostgreSQL installed here)")
	fs.IntVar(&c.ReplicaConcurrency, "replica-concurrency", 32, "concurrent clients for tools/call in the replicas phase")
	fs.StringVar(&c.Out, "out", "", "also write the report to this file")
	fs.StringVar(&c.ProfileDir, "profile", "", "write each gateway's CPU profile to this directory (go tool pprof)")
	fs.StringVar(&c.Nginx, "nginx", "", `nginx binary; "" looks on PATH, "off" skips nginx`)
	fs.BoolVar(&c.Verbose, "v", false, "print each round as it ends, on stderr")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	for _, s := range splitList(conc) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("--concurrency: %q is not a positive number", s))
			continue
		}
		c.Concurrency = append(c.Concurrency, n)
	}
	c.Methods = splitList(strings.ToUpper(methods))
	if c.Postgres == "" {
		// Not the flag's default: -h would print it, password and all.
		c.Postgres = getenv(postgresEnv)
	}
	c.Phases = splitList(phases)
	if phases == "" {
		c.Phases = defaultPhases(c.Postgres != "" || pgtest.Installed())
	}
	return c, errors.Join(append(errs, c.Validate())...)
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.Duration < 100*time.Millisecond {
		errs = append(errs, errors.New("--duration must be at least 100ms"))
	}
	if c.Warmup < 0 {
		errs = append(errs, errors.New("--warmup must not be negative"))
	}
	if c.Rounds < 1 {
		errs = append(errs, errors.New("--rounds must be at least 1"))
	}
	if c.Tools < 2 || c.Tools%2 != 0 || c.Tools > 10000 {
		errs = append(errs, errors.New("--tools must be even, from 2 to 10000"))
	}
	if c.Settle < 0 {
		errs = append(errs, errors.New("--settle must not be negative"))
	}
	if c.Streams < 1 || c.Streams > 10000 {
		errs = append(errs, errors.New("--streams must be from 1 to 10000"))
	}
	for _, m := range c.Methods {
		if m != "GET" && m != "POST" {
			errs = append(errs, fmt.Errorf("--stream-methods: %q is neither GET nor POST", m))
		}
	}
	if c.Reloads < 1 {
		errs = append(errs, errors.New("--reloads must be at least 1"))
	}
	if c.ReplicaConcurrency < 1 {
		errs = append(errs, errors.New("--replica-concurrency must be at least 1"))
	}
	for _, p := range c.Phases {
		if !slices.Contains(allPhases, p) {
			errs = append(errs, fmt.Errorf("--only: unknown phase %q (have %s)", p, strings.Join(allPhases, ", ")))
		}
	}
	if len(c.Phases) == 0 {
		errs = append(errs, errors.New("--only names no phase"))
	}
	return errors.Join(errs...)
}

func (c Config) runs(phase string) bool { return slices.Contains(c.Phases, phase) }

// defaultPhases is every phase, but replicas only with PostgreSQL.
func defaultPhases(postgres bool) []string {
	if postgres {
		return slices.Clone(allPhases)
	}
	return slices.DeleteFunc(slices.Clone(allPhases), func(p string) bool { return p == phaseReplicas })
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
