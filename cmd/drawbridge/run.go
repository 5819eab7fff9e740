package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…"; without
// it, the module version (or "dev") is shown.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// io bundles the streams a subcommand talks through.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

const usage = `Drawbridge: an access gateway for MCP servers.

Usage:
  drawbridge [serve] [flags]     start the gateway (the default)
  drawbridge user <command>      manage users: create, set-password, make-admin, disable, list
  drawbridge apply -f FILE       create or update the routes, policies and apps FILE defines
                                 (--dry-run: only show the plan; --prune: delete what FILE omits)
  drawbridge export [-o FILE]    write the routes, policies and apps as a file apply reads
  drawbridge keys <command>      manage keys: list, generate encryption, rotate signing, rotate encryption, reencrypt
  drawbridge service-account <command>
                                 manage tokens for CI jobs and agents: create, list, revoke, rotate
  drawbridge audit verify        check the audit log's hash chains
  drawbridge demo-server         run only the demo MCP server on loopback
  drawbridge version             print the version

Run 'drawbridge <command> -h' for a command's flags.
`

// run is the whole program; main only supplies the process's context,
// arguments, environment and streams, so tests can call it directly.
// (It takes the environment as a list rather than a getenv function so
// that unknown DRAWBRIDGE_* variables can be reported, and stdin for
// --password-stdin.)
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := environment(environ)
	sio := stdio{in: stdin, out: stdout, err: stderr}
	args = args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, env, sio)
	case "user", "users":
		err = userCommand(ctx, args, env, sio)
	case "apply":
		err = applyCommand(ctx, args, env, sio)
	case "export":
		err = exportCommand(ctx, args, env, sio)
	case "keys":
		err = keysCommand(ctx, args, env, sio)
	case "service-account", "service-accounts":
		err = serviceAccountCommand(ctx, args, env, sio)
	case "audit":
		err = auditCommand(ctx, args, env, sio)
	case "demo-server":
		err = demoServer(ctx, args, env, sio)
	case "version":
		_, err = fmt.Fprintln(stdout, "drawbridge", buildVersion())
	case "help", "-h", "--help":
		_, err = fmt.Fprint(stdout, usage)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// newFlagSet makes a flag set that reports to stderr and returns errors
// instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and refuses stray positional arguments, which
// are always a mistake here (a flag after a typo, a missing dash).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}
