package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Idle stream measurement bounds.
const (
	streamsOpenTimeout = 60 * time.Second // to open them all
	streamsOpenAtOnce  = 32               // opened in parallel
)

// streamResult is the proxy's memory before and with the streams open.
type streamResult struct {
	streams      int
	before, with int64 // resident bytes
}

func (r streamResult) added() int64 { return r.with - r.before }

// measureStreams opens n streams through t with method (GET: the stream
// a client keeps open for server messages; POST: a tools/call answered as
// a stream that does not end), waits for the first event on each, and
// reads the proxy's resident memory before and with them open, each time
// after settle.
func measureStreams(ctx context.Context, t *target, method string, n int, settle time.Duration) (streamResult, error) {
	// Let the proxy settle after its warm-up before the baseline.
	if err := sleepCtx(ctx, settle); err != nil {
		return streamResult{}, err
	}
	before, err := t.proxy.usage()
	if err != nil {
		return streamResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, streamsOpenTimeout)
	defer cancel()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, t.addr)
		},
		DisableKeepAlives:  true, // a closed stream closes its connection
		DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	var (
		mu     sync.Mutex
		bodies []io.Closer
		wg     sync.WaitGroup
		errc   = make(chan error, n)
		sem    = make(chan struct{}, streamsOpenAtOnce)
	)
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()
	ep := t.endpoints[routeStream]
	for range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			body, err := openStream(ctx, tr, ep, method)
			if err != nil {
				errc <- err
				return
			}
			mu.Lock()
			bodies = append(bodies, body)
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return streamResult{}, fmt.Errorf("%s: open %s stream: %w", t.name, method, err)
	}
	if err := sleepCtx(ctx, settle); err != nil {
		return streamResult{}, err
	}
	with, err := t.proxy.usage()
	if err != nil {
		return streamResult{}, err
	}
	return streamResult{streams: len(bodies), before: before.rss, with: with.rss}, nil
}

// openStream opens one stream and reads its first event; the stream stays
// open until the returned body is closed.
func openStream(ctx context.Context, tr http.RoundTripper, ep routeInfo, method string) (io.Closer, error) {
	var req *http.Request
	if method == http.MethodPost {
		req = newRPC(ctx, ep, callBody)
	} else {
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, ep.URL, nil)
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("MCP-Protocol-Version", protocolVersion)
		if ep.Bearer != "" {
			req.Header.Set("Authorization", "Bearer "+ep.Bearer)
		}
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		resp.Body.Close()
		return nil, fmt.Errorf("status %d, %s: %s", resp.StatusCode, ct, b)
	}
	var event bytes.Buffer
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("stream ended before its first event: %w", err)
		}
		if line == "\n" {
			break
		}
		event.WriteString(line)
	}
	if !strings.Contains(event.String(), "notifications/message") {
		resp.Body.Close()
		return nil, fmt.Errorf("first event %q", event.String())
	}
	return resp.Body, nil
}
