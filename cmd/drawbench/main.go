// Command drawbench is the gateway speed benchmark that `make bench` runs.
//
// It starts, each in its own process so that each one's CPU time can be
// read apart, an MCP server made with the official Go SDK (stateless,
// JSON answers), a plain httputil.ReverseProxy with no checks, nginx when
// it is installed, and Drawbridge's engine over a real SQLite store with
// access-token authentication and a five-rule policy. It then alternates
// between them over several rounds and prints, as a Markdown table, the
// medians of each and the ratios between them measured in the same run.
// Where PostgreSQL is installed (or -postgres names a server), it also
// runs one, two and three gateways on one PostgreSQL database behind a
// round-robin balancer, against one on SQLite behind the same. Last, it
// runs models' BenchmarkAuditScale for the audit log's reads at a million
// events.
//
// The same binary is every one of those processes: run without a
// subcommand it is the benchmark; the subcommands upstream, plainproxy,
// gateway and balancer are the processes it starts.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "drawbench:", err)
		os.Exit(1)
	}
}

// run dispatches to the benchmark or to one of the processes it starts.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 1 {
		switch args[1] {
		case "upstream":
			return runUpstream(ctx, args[2:], stdout, stderr)
		case "plainproxy":
			return runPlainProxy(ctx, args[2:], stdout, stderr)
		case "gateway":
			return runGateway(ctx, args[2:], getenv, stdout, stderr)
		case "balancer":
			return runBalancer(ctx, args[2:], stdout, stderr)
		}
	}
	return runBench(ctx, args[1:], getenv, stdout, stderr)
}
