package demo

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestServe(t *testing.T) {
	ctx := testContext(t)
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	addrs := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- Serve(serveCtx, "127.0.0.1:0", testOptions(t), func(a net.Addr) { addrs <- a })
	}()

	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-served:
		t.Fatalf("Serve returned %v before it was ready", err)
	case <-ctx.Done():
		t.Fatal("Serve never called ready")
	}
	if tcp, ok := addr.(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() || tcp.Port == 0 {
		t.Fatalf("ready got %v, want a loopback address with a port", addr)
	}

	session := connect(t, ctx, "http://"+addr.String()+Path, "")
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: ToolEcho, Arguments: map[string]any{"text": "via Serve"}})
	if err != nil || res.IsError {
		t.Fatalf("echo: %v %v", res, err)
	}
	if got := resultText(t, res); got != "via Serve" {
		t.Errorf("echo = %q, want %q", got, "via Serve")
	}

	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve = %v after ctx was cancelled, want nil", err)
		}
	case <-ctx.Done():
		t.Fatal("Serve did not return after ctx was cancelled")
	}
	if _, err := net.Dial("tcp", addr.String()); err == nil {
		t.Errorf("%s still accepts connections after Serve returned", addr)
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{
		"0.0.0.0:0",
		"[::]:0",
		":0", // every interface
		"10.1.2.3:80",
		"192.168.1.10:8080",
		"example.com:80",
	} {
		t.Run(addr, func(t *testing.T) {
			err := Serve(testContext(t), addr, testOptions(t), func(a net.Addr) {
				t.Errorf("ready called with %v", a)
			})
			if !errors.Is(err, ErrNotLoopback) {
				t.Fatalf("Serve(%q) = %v, want ErrNotLoopback", addr, err)
			}
		})
	}
}

func TestServeAcceptsLoopbackNames(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "127.8.9.10:0", "[::1]:0", "localhost:0"} {
		t.Run(addr, func(t *testing.T) {
			if err := checkLoopback(addr); err != nil {
				t.Errorf("checkLoopback(%q) = %v, want nil", addr, err)
			}
		})
	}
}
