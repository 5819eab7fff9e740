package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// nginxConf is a reverse proxy with no checks, tuned as a production one
// is: kept-alive upstream connections, no buffering (streams pass at once),
// no access log.
const nginxConf = `worker_processes auto;
pid nginx.pid;
error_log stderr warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    keepalive_requests 1000000;
    upstream mcp {
        server UPSTREAM;
        keepalive 256;
        keepalive_requests 1000000;
    }
    server {
        listen LISTEN;
        location / {
            proxy_pass http://mcp;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The SDK refuses a Host that is not loopback.
            proxy_set_header Host UPSTREAM;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 1h;
        }
    }
}
`

// startNginx runs nginx in front of upstream, configured in dir. It
// returns nil, with why, when nginx is not installed or will not start.
func startNginx(ctx context.Context, path, dir, upstream string, stderr io.Writer) (*child, string, error) {
	if path == "" {
		found, err := exec.LookPath("nginx")
		if err != nil {
			return nil, "not installed", nil
		}
		path = found
	}
	listen, err := freeLoopbackAddr(ctx)
	if err != nil {
		return nil, "", err
	}
	prefix := filepath.Join(dir, "nginx")
	// logs/ is where nginx writes until it has read error_log.
	for _, sub := range []string{"tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(prefix, sub), 0o700); err != nil {
			return nil, "", err
		}
	}
	conf := strings.NewReplacer("UPSTREAM", upstream, "LISTEN", listen).Replace(nginxConf)
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody, who may not enter dir.
		conf = "user root;\n" + conf
	}
	confPath := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, "", err
	}
	// An nginx that will not start is skipped, not fatal: it is only the
	// reference, and the machine's own nginx may be set up for anything.
	c, err := startProcess("nginx", path, []string{"-p", prefix, "-c", confPath, "-g", "daemon off;"}, nil, stderr)
	if err != nil {
		return nil, "did not start (" + err.Error() + ")", nil
	}
	if err := waitListening(ctx, c, listen); err != nil {
		c.stop()
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, "did not start (" + err.Error() + ")", nil
	}
	c.ready.Addr = listen
	return c, "", nil
}

// freeLoopbackAddr finds a port for a child that cannot report the one it
// got. Another process could take it before the child does; the child
// then fails to start, loudly.
func freeLoopbackAddr(ctx context.Context) (string, error) {
	ln, err := listenLoopback(ctx)
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListening waits until addr accepts connections, or c exits.
func waitListening(ctx context.Context, c *child, addr string) error {
	deadline := time.Now().Add(startTimeout)
	for {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}
		switch {
		case c.exited():
			return fmt.Errorf("exited: %v", c.cmd.ProcessState)
		case time.Now().After(deadline):
			return fmt.Errorf("not listening on %s after %s", addr, startTimeout)
		case ctx.Err() != nil:
			return ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
}
