package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ready is the one JSON line a child prints on stdout once it serves:
// what the parent needs to reach it.
type ready struct {
	Addr string `json:"addr,omitempty"`
	// Routes are the gateway's route hosts, by what they are for
	// (routeEcho, routeList, routeStream).
	Routes map[string]routeInfo `json:"routes,omitempty"`
	// DB and PolicyID let the parent change the gateway's policy from
	// another process.
	DB       string `json:"db,omitempty"`
	PolicyID uint   `json:"policy_id,omitempty"`
}

// routeInfo is one route as a client reaches it through the gateway.
type routeInfo struct {
	URL    string `json:"url"`    // http://host:port, the route's from
	Bearer string `json:"bearer"` // an access token for it
}

// What each gateway route is for.
const (
	routeEcho   = "echo"   // the upstream's /mcp: tools/call echo
	routeList   = "list"   // the upstream's /mcp-many: tools/list of many tools
	routeStream = "stream" // the upstream's /sse: a stream that never ends
)

func announce(w io.Writer, r ready) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}

// newServer is the http.Server every child runs: the settings of
// `drawbridge serve`, so that no process is favoured by its server.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// No write timeout: streams last as long as they last.
	}
}

// serveUntil serves srv on ln until ctx ends, then closes it at once:
// held-open streams would make a graceful shutdown wait forever.
func serveUntil(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		srv.Close()
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// parseFlags parses a child's flags, which only the parent writes.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}

// listenLoopback listens on an ephemeral loopback port.
func listenLoopback(ctx context.Context) (net.Listener, error) {
	return new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
}
