package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// ErrNotLoopback is returned by Serve for an address other than loopback.
var ErrNotLoopback = errors.New("demo: the demo server listens on loopback only")

// Path is where Serve mounts Handler.
const Path = "/mcp"

// shutdownTimeout bounds how long Serve waits for in-flight calls once ctx is done.
const shutdownTimeout = 5 * time.Second

// Serve listens on addr, which must be a loopback address such as
// "127.0.0.1:0", "[::1]:8081" or "localhost:0", and serves Handler at Path
// until ctx is done, then shuts down gracefully and returns nil. If ready is
// non-nil, it is called with the bound address once Serve accepts connections.
func Serve(ctx context.Context, addr string, opts Options, ready func(net.Addr)) error {
	if err := checkLoopback(addr); err != nil {
		return err
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("demo: listen on %s: %w", addr, err)
	}
	// "localhost" is whatever the resolver says; make sure it said loopback.
	if err := checkLoopback(ln.Addr().String()); err != nil {
		ln.Close()
		return err
	}

	logger := opts.logger()
	mux := http.NewServeMux()
	mux.Handle(Path, Handler(opts))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("demo MCP server listening", "url", "http://"+ln.Addr().String()+Path)
	if ready != nil {
		ready(ln.Addr())
	}

	select {
	case err := <-served:
		return fmt.Errorf("demo: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("demo: shut down: %w", err)
	}
	return nil
}

// checkLoopback reports ErrNotLoopback unless addr's host is a loopback IP
// or "localhost". An empty host would mean every interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("demo: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: refusing %q; use 127.0.0.1, [::1] or localhost", ErrNotLoopback, addr)
}
