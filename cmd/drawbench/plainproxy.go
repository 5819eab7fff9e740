package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/drawbridge/drawbridge/proxy"
)

// runPlainProxy is the baseline: httputil.ReverseProxy with Rewrite and
// the gateway's transport, and no check of any kind.
func runPlainProxy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plainproxy", flag.ContinueOnError)
	to := fs.String("to", "", "the upstream's base URL, http://host:port")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	target, err := url.Parse(*to)
	if err != nil || target.Host == "" {
		return errors.New("plainproxy: --to must be an absolute URL")
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target) // also sets the upstream's own Host, as the gateway does
			pr.SetXForwarded()
		},
		Transport: proxy.NewTransport(), // the gateway's own: pooled and tuned alike
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			http.Error(w, "upstream failed", http.StatusBadGateway)
		},
	}
	ln, err := listenLoopback(ctx)
	if err != nil {
		return err
	}
	if err := announce(stdout, ready{Addr: ln.Addr().String()}); err != nil {
		return err
	}
	return serveUntil(ctx, newServer(fullDuplex(rp)), ln)
}

// fullDuplex lets h read the request body after it began to answer.
//
// The transport forwarding a streamed request body reads it to its end
// after sending it, to be sure nothing follows; the upstream may have
// answered by then. Once the answer outgrows the server's buffer, the
// server closes a request body not yet read to its end, the transport's
// read fails, and it closes the upstream connection halfway through the
// answer: a 500-tool tools/list arrived truncated a few times in a
// thousand on 2 cores. The gateway is immune, as it reads the body whole
// before forwarding; a proxy that streams bodies needs this.
func fullDuplex(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		h.ServeHTTP(w, r)
	})
}
