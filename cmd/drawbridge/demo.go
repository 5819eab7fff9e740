package main

import (
	"context"
	"fmt"
	"net"

	"github.com/drawbridge/drawbridge/cmd/drawbridge/internal/demo"
	"github.com/drawbridge/drawbridge/web"
)

// demoServer runs only the demo MCP server, for trying routes by hand.
func demoServer(ctx context.Context, args []string, env environment, sio stdio) error {
	fs := newFlagSet("demo-server", sio.err)
	addr := fs.String("address", "127.0.0.1:9001", "loopback `address` to listen on")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfgLog := web.DefaultConfig().Log
	cfgLog.Level = *logLevel
	logger, err := newLogger(cfgLog, sio.err)
	if err != nil {
		return err
	}
	return demo.Serve(ctx, *addr, demo.Options{Logger: logger}, func(a net.Addr) {
		fmt.Fprintf(sio.out, "Demo MCP server listening on http://%s%s (tools: echo, add, search_orders, admin_reset)\n", a, demo.Path)
	})
}
