package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/drawbridge/drawbridge/proxy"
)

// runBalancer is the load balancer in front of replicas, as nginx or
// Caddy would stand there: httputil.ReverseProxy sending each request to
// the next replica in turn, Host kept (it names the route), with no
// stickiness of any kind.
func runBalancer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("balancer", flag.ContinueOnError)
	to := fs.String("to", "", "the replicas' addresses, host:port, comma-separated")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	var replicas []*httputil.ReverseProxy
	transport := proxy.NewTransport() // the gateway's own, as the plain proxy uses
	for _, addr := range splitList(*to) {
		target, err := url.Parse("http://" + addr)
		if err != nil || target.Host == "" || strings.Contains(addr, "/") {
			return errors.New("balancer: --to takes host:port addresses")
		}
		replicas = append(replicas, &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Host = pr.In.Host
			},
			Transport: transport,
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
				http.Error(w, "replica failed", http.StatusBadGateway)
			},
		})
	}
	if len(replicas) == 0 {
		return errors.New("balancer: --to names no replica")
	}
	var next atomic.Uint64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		replicas[(next.Add(1)-1)%uint64(len(replicas))].ServeHTTP(w, r)
	})
	ln, err := listenLoopback(ctx)
	if err != nil {
		return err
	}
	if err := announce(stdout, ready{Addr: ln.Addr().String()}); err != nil {
		return err
	}
	return serveUntil(ctx, newServer(fullDuplex(h)), ln)
}
