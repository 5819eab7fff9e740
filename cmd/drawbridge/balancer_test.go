package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// replicaHeader is the header the balancer adds to each answer: the
// index of the replica that served it.
const replicaHeader = "X-Test-Replica"

// balancer is a round-robin HTTP load balancer on the public port, in
// front of replicas, where nginx or Caddy would stand: each request goes
// to the next replica, Host kept, with no stickiness of any kind. A
// replica that refuses a connection is marked down and skipped from then
// on, and the request goes to the next one, since it never reached the
// first; a request that failed once sent is answered 502, as it may have
// been served. It tells the test who served what: each answer carries
// replicaHeader, and the log holds every request.
type balancer struct {
	URL string // http://127.0.0.1:PORT, the replicas' public URL

	mu       sync.Mutex
	backends []*lbBackend
	next     int
	pinned   int // a replica every request goes to; -1: none
	log      []lbEntry
}

type lbBackend struct {
	addr  string
	proxy *httputil.ReverseProxy
	down  bool // under balancer.mu
}

// lbEntry is one request the balancer passed on, and who answered it.
type lbEntry struct {
	Method, Host, Path string
	Replica, Status    int
}

func (e lbEntry) String() string {
	return fmt.Sprintf("%s %s%s → replica %d (%d)", e.Method, e.Host, e.Path, e.Replica, e.Status)
}

// lbAttempt is what the error handler tells ServeHTTP of one try.
type lbAttempt struct{ refused bool }

type lbAttemptKey struct{}

// startBalancer starts a balancer with no replicas yet, so that its URL
// can be theirs; add gives it them. It stops when the test ends.
func startBalancer(t *testing.T) *balancer {
	t.Helper()
	b := &balancer{pinned: -1}
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}

// add puts the replica listening at addr behind the balancer, as number
// len(backends).
func (b *balancer) add(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := len(b.backends)
	target := &url.URL{Scheme: "http", Host: addr}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the public host names the console or the route
		},
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
		FlushInterval: -1, // event streams pass at once
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Set(replicaHeader, strconv.Itoa(i))
			b.record(resp.Request, i, resp.StatusCode)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				r.Context().Value(lbAttemptKey{}).(*lbAttempt).refused = true
				return
			}
			b.record(r, i, http.StatusBadGateway)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	b.backends = append(b.backends, &lbBackend{addr: addr, proxy: rp})
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Kept whole, to be sent again to the next replica after a refusal.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<20))
	if err != nil {
		http.Error(w, "balancer: read the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	for {
		be := b.pick()
		if be == nil {
			http.Error(w, "balancer: no replica is up", http.StatusBadGateway)
			return
		}
		try := &lbAttempt{}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		be.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), lbAttemptKey{}, try)))
		if !try.refused {
			return
		}
		b.mu.Lock()
		be.down = true
		b.mu.Unlock()
	}
}

// pick returns the next replica up, or the pinned one; nil when none is
// up.
func (b *balancer) pick() *lbBackend {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pinned >= 0 {
		if be := b.backends[b.pinned]; !be.down {
			return be
		}
		return nil
	}
	for range b.backends {
		be := b.backends[b.next%len(b.backends)]
		b.next++
		if !be.down {
			return be
		}
	}
	return nil
}

// pin sends every request to replica i until unpin: one person's setup
// that this test does not prove spreads over replicas.
func (b *balancer) pin(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pinned = i
}

func (b *balancer) unpin() { b.pin(-1) }

// isDown reports whether the balancer has marked replica i down.
func (b *balancer) isDown(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.backends[i].down
}

func (b *balancer) record(r *http.Request, replica, status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.log = append(b.log, lbEntry{Method: r.Method, Host: r.Host, Path: r.URL.Path, Replica: replica, Status: status})
}

// mark returns where the log ends now, for since.
func (b *balancer) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.log)
}

// since returns the log from mark on.
func (b *balancer) since(mark int) []lbEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]lbEntry(nil), b.log[mark:]...)
}

// servedBy counts entries by replica.
func servedBy(entries []lbEntry) map[int]int {
	out := map[int]int{}
	for _, e := range entries {
		out[e.Replica]++
	}
	return out
}

// lbLog formats entries for a failure message.
func lbLog(entries []lbEntry) string {
	var sb strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&sb, "  %s\n", e)
	}
	return sb.String()
}
