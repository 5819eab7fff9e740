// Command drawbridge is the Drawbridge gateway: console, portal,
// authorization server and proxy in one binary, plus the subcommands that
// manage it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "drawbridge:", err)
		os.Exit(1)
	}
}
