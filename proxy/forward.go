package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge/drawbridge/proxy/token"
)

// defaultUpstreamTimeout bounds the wait for an upstream's response
// headers when the route sets no timeout. A streamed answer is never cut:
// the bound ends when the headers arrive.
const defaultUpstreamTimeout = 60 * time.Second

// NewTransport is the one Transport every route shares: a keep-alive pool
// per upstream host, sized for a gateway rather than a browser.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil, // never through a proxy from the environment
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// forwarder sends a route's allowed requests upstream.
type forwarder struct {
	proxy *httputil.ReverseProxy
}

// newForwarder builds the reverse proxy of route r.
func (e *Engine) newForwarder(r *Route, timeout time.Duration) *forwarder {
	if timeout <= 0 {
		timeout = defaultUpstreamTimeout
	}
	target := r.Upstream
	prefix := r.Prefix
	return &forwarder{proxy: &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = target.Scheme, target.Host
			setEscapedPath(pr.Out.URL, upstreamPath(target.EscapedPath(), strings.TrimPrefix(pr.In.URL.EscapedPath(), prefix)))
			pr.Out.URL.RawQuery = joinQuery(target.RawQuery, pr.In.URL.RawQuery)
			pr.Out.Host = "" // the upstream's own host: MCP servers check it
			pr.SetXForwarded()
			stripCredentials(pr.Out.Header)
			if st := forwardStateOf(pr.In.Context()); st != nil {
				if st.assertion != "" {
					pr.Out.Header.Set(token.AssertionHeader, st.assertion)
				}
				if st.bearer != "" {
					pr.Out.Header.Set("Authorization", "Bearer "+st.bearer)
				}
			}
		},
		Transport:      &headerTimeout{base: e.transport, timeout: timeout},
		BufferPool:     e.buffers,
		ModifyResponse: modifyAnswer,
		ErrorHandler:   e.upstreamError(r),
	}}
}

// upstreamPath maps what follows the route's prefix onto the upstream's
// path: the route's root is the upstream URL itself (so that a route to
// http://host/mcp serves its MCP endpoint at the route URL), and anything
// below it goes below the upstream path.
// Both are in escaped form, so an encoded slash stays encoded.
func upstreamPath(target, rest string) string {
	if rest == "" || rest == "/" {
		if target == "" {
			return "/"
		}
		return target
	}
	return strings.TrimSuffix(target, "/") + rest
}

// setEscapedPath sets u's path from its escaped form.
func setEscapedPath(u *url.URL, escaped string) {
	path, err := url.PathUnescape(escaped)
	if err != nil { // the inbound path parsed, so this cannot happen
		path = escaped
	}
	u.Path, u.RawPath = path, ""
	if u.EscapedPath() != escaped {
		u.RawPath = escaped
	}
}

func joinQuery(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "&" + b
}

// stripCredentials removes what the caller proved itself with, and any
// identity header a caller could forge, before a request goes upstream.
func stripCredentials(h http.Header) {
	h.Del("Authorization")
	h.Del("Proxy-Authorization")
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-drawbridge-") {
			delete(h, name)
		}
	}
	stripOurCookies(h)
}

// stripOurCookies drops Drawbridge's cookies and keeps the rest, which may
// be the upstream app's own.
func stripOurCookies(h http.Header) {
	cookies := h.Values("Cookie")
	if len(cookies) == 0 {
		return
	}
	h.Del("Cookie")
	var kept []string
	for _, line := range cookies {
		for _, part := range strings.Split(line, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if name != "" && !strings.HasPrefix(strings.ToLower(name), "drawbridge") {
				kept = append(kept, strings.TrimSpace(part))
			}
		}
	}
	if len(kept) > 0 {
		h.Set("Cookie", strings.Join(kept, "; "))
	}
}

// headerTimeout bounds the wait for response headers, then lets the body
// stream for as long as both ends keep it open.
type headerTimeout struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *headerTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	timer := time.AfterFunc(t.timeout, cancel)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() && err == nil {
		// The timer fired just as the headers came: the body is cut.
		resp.Body.Close()
		cancel()
		return nil, context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// bufferPool lends the reverse proxies their copy buffers: without it,
// each request allocates 32 KiB, most of what the gateway allocates.
type bufferPool struct{ pool sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any { return new([32 << 10]byte) }}}
}

func (p *bufferPool) Get() []byte { return p.pool.Get().(*[32 << 10]byte)[:] }

func (p *bufferPool) Put(b []byte) {
	if cap(b) == 32<<10 {
		p.pool.Put((*[32 << 10]byte)(b[:32<<10]))
	}
}
