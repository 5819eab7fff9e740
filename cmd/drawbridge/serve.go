package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/drawbridge/drawbridge/cmd/drawbridge/internal/demo"
	"github.com/drawbridge/drawbridge/web"
)

// serve runs the gateway until ctx is done.
func serve(ctx context.Context, args []string, env environment, sio stdio) error {
	var f configFlags
	fs := newFlagSet("serve", sio.err)
	f.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b, err := openBackend(ctx, f, env, sio.err)
	if err != nil {
		return err
	}
	defer b.Close()
	if f.file != "" {
		// The file's routes, policies and apps, before anything serves.
		if err := applyAtStart(ctx, b.store, f.file, env, sio); err != nil {
			return err
		}
	}

	admin, err := bootstrapAdmin(ctx, b, env)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)

	var demoURL string
	if b.cfg.Server.Demo {
		ready := make(chan net.Addr, 1)
		go func() {
			errc <- demo.Serve(ctx, b.cfg.Server.DemoAddress, demo.Options{Logger: b.logger}, func(a net.Addr) { ready <- a })
		}()
		select {
		case a := <-ready:
			demoURL = "http://" + a.String() + demo.Path
		case err := <-errc:
			return fmt.Errorf("demo server: %w (set server.demo_address or --demo-address to a free loopback port)", err)
		}
		if err := seedDemo(ctx, b, demoURL); err != nil {
			return err
		}
	}

	stream, closeStream, err := openAuditStream(b.cfg.Audit.Stream, sio.out)
	if err != nil {
		return err
	}
	// Deferred, so it runs after srv.Close below has written out what
	// the audit log still queued for the stream.
	defer func() {
		if err := closeStream(); err != nil {
			b.logger.Error("audit.stream: the file did not close: its last lines may be lost", "error", err)
		}
	}()
	srv, err := web.New(web.Deps{Config: b.cfg, Keys: b.keys, Store: b.store, Logger: b.logger, Version: buildVersion(), AuditStream: stream})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", b.cfg.Server.Address)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set server.address or --address to another port)", b.cfg.Server.Address, err)
	}
	// Requests run on a context that ends a moment after shutdown begins:
	// calls in flight finish, and streams (MCP event streams, the audit
	// log's live tail) end rather than hold the shutdown up.
	baseCtx, endRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer endRequests()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		// No write timeout: MCP answers stream for as long as they last.
	}
	hs.RegisterOnShutdown(func() { time.AfterFunc(streamGrace, endRequests) })
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go srv.Run(runCtx) // keeps the gateway's configuration current
	go func() { errc <- hs.Serve(ln) }()
	printBanner(sio, b.cfg, ln.Addr(), admin, demoURL, demoRouteURL(ctx, b, demoURL))

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	b.logger.Info("shutting down")
	shutdownCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer done()
	err = hs.Shutdown(shutdownCtx)
	// After the last request, before the store closes: the audit log's
	// pending outcomes are written out.
	if cerr := srv.Close(shutdownCtx); err == nil {
		err = cerr
	}
	return err
}

// openAuditStream opens where audit.stream copies the audit log: nowhere
// for "", the command's standard output for "-" or "stdout" (which has
// the banner too; the logs go to standard error), or else a file,
// appended to and created 0600. closeStream closes the file, and leaves
// standard output open.
func openAuditStream(where string, stdout io.Writer) (stream io.Writer, closeStream func() error, err error) {
	switch where {
	case "":
		return nil, func() error { return nil }, nil
	case "-", "stdout":
		return stdout, func() error { return nil }, nil
	}
	f, err := os.OpenFile(where, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit.stream: %w", err)
	}
	return f, f.Close, nil
}

// printBanner tells a newcomer where to go and how to sign in.
func printBanner(sio stdio, cfg web.Config, addr net.Addr, admin *firstAdmin, demoURL, demoRoute string) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nDrawbridge %s is running (listening on %s).\n\n", buildVersion(), addr)
	fmt.Fprintf(&sb, "  Console:   %s/admin\n", strings.TrimSuffix(cfg.Server.ConsoleURL, "/"))
	fmt.Fprintf(&sb, "  Portal:    %s/\n", strings.TrimSuffix(cfg.Server.ConsoleURL, "/"))
	if demoRoute != "" {
		fmt.Fprintf(&sb, "  Demo route: %s (the demo MCP server at %s, behind sign-in and policy)\n", demoRoute, demoURL)
		fmt.Fprintf(&sb, "    Try it:  claude mcp add --transport http demo %s\n", demoRoute)
	} else if demoURL != "" {
		fmt.Fprintf(&sb, "  Demo MCP:  %s (loopback only)\n", demoURL)
	}
	if admin != nil {
		fmt.Fprintf(&sb, "\n  First administrator created. Sign in with:\n")
		fmt.Fprintf(&sb, "    email:     %s\n", admin.email)
		if admin.generated {
			fmt.Fprintf(&sb, "    password:  %s\n", admin.password)
			fmt.Fprintf(&sb, "  This password is shown once. Lost it? Run: drawbridge user set-password --email %s\n", admin.email)
		} else {
			fmt.Fprintf(&sb, "    password:  the one in DRAWBRIDGE_ADMIN_PASSWORD\n")
		}
	}
	if !samePort(cfg.Server.ConsoleURL, addr) {
		fmt.Fprintf(&sb, "\n  Note: server.console_url (%s) does not use the port Drawbridge listens on.\n", cfg.Server.ConsoleURL)
	}
	fmt.Fprintf(&sb, "\nPress Ctrl+C to stop.\n\n")
	fmt.Fprint(sio.out, sb.String())
}

// demoRouteURL is the URL of the route to the demo server, if there is an
// enabled one: what a newcomer points an MCP client at.
func demoRouteURL(ctx context.Context, b *backend, demoURL string) string {
	if demoURL == "" {
		return ""
	}
	r, err := b.store.GetRouteByName(ctx, demoRouteName)
	if err != nil || !r.Enabled || r.To != demoURL {
		return ""
	}
	return r.From
}

// samePort reports whether the console URL's port is the one we listen
// on; when it is not, a reverse proxy is expected in front.
func samePort(consoleURL string, addr net.Addr) bool {
	u, err := url.Parse(consoleURL)
	if err != nil {
		return false
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	_, listening, err := net.SplitHostPort(addr.String())
	return err == nil && port == listening
}

// streamGrace is how long requests may go on once shutdown begins.
const streamGrace = 3 * time.Second
