package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// target is one way to the upstream: straight, or through a proxy.
type target struct {
	name  string
	addr  string // where every connection goes
	proxy *child // the proxy's process; nil for the upstream itself
	// behind are processes behind the proxy whose CPU is the target's
	// too: the gateways behind a balancer.
	behind []*child
	// filtered is true for the gateway, whose tools/list answers lose the
	// tools the policy denies.
	filtered bool
	// endpoints are where each route's requests go, and with what token.
	endpoints map[string]routeInfo
	client    *http.Client
	// expect is, by workload, the answer every request must get: the first
	// answer, once it passed the full check. Any other answer is checked
	// in full again, so a target may vary its bytes, never its meaning.
	expect map[string][]byte
}

// workload is one kind of request the load sends.
type workload struct {
	name  string
	route string // which endpoint of a target it goes to
	body  []byte
	check func(status int, body []byte, filtered bool) error
}

// roundResult is one target's measurement in one round.
type roundResult struct {
	requests int
	elapsed  time.Duration
	p50, p99 time.Duration
	// CPU time used during the round by the proxy, the upstream and this
	// process, which is the load generator.
	proxyCPU, upstreamCPU, loadCPU time.Duration
	// dbCPU is the database server's, when it runs here (PostgreSQL).
	dbCPU time.Duration
	// otherCPU is what other processes used (other people's work), and
	// steal the time the hypervisor ran other machines instead: noise.
	otherCPU, steal time.Duration
}

// totalCPU is what the proxy, the upstream and the load generator used.
func (r roundResult) totalCPU() time.Duration { return r.proxyCPU + r.upstreamCPU + r.loadCPU }

// otherShare is otherCPU and steal as a share of every core's time.
func (r roundResult) otherShare() float64 {
	return float64(r.otherCPU+r.steal) / (float64(r.elapsed) * float64(runtime.NumCPU()))
}

func (r roundResult) perSecond() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// perRequest is cpu over the round's requests.
func (r roundResult) perRequest(cpu time.Duration) time.Duration {
	if r.requests == 0 {
		return 0
	}
	return cpu / time.Duration(r.requests)
}

// prime sends one request of w to t, checks the answer in full and keeps
// it as the answer to expect.
func prime(ctx context.Context, t *target, w *workload) error {
	var buf bytes.Buffer
	status, err := roundTrip(t.client, newRPC(ctx, t.endpoints[w.route], w.body), &buf)
	if err == nil {
		err = w.check(status, buf.Bytes(), t.filtered)
	}
	if err != nil {
		return fmt.Errorf("%s, %s: the first request failed: %w", t.name, w.name, err)
	}
	if t.expect == nil {
		t.expect = map[string][]byte{}
	}
	t.expect[w.name] = bytes.Clone(buf.Bytes())
	return nil
}

// runRound sends w to t from conc workers, each one request after the
// other on its own kept-alive connection, for dur. Every answer is
// checked; a single failure fails the round.
func runRound(ctx context.Context, t *target, w *workload, m meter, conc int, dur time.Duration) (roundResult, error) {
	ep, expect := t.endpoints[w.route], t.expect[w.name]
	before, err := m.snapshot(t)
	if err != nil {
		return roundResult{}, err
	}
	var (
		failures atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		failures.Add(1)
		errOnce.Do(func() { firstErr = err })
	}
	lats := make([][]time.Duration, conc)
	start := time.Now()
	deadline := start.Add(dur)
	for i := range conc {
		wg.Go(func() {
			var buf bytes.Buffer
			mine := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				status, err := roundTrip(t.client, newRPC(ctx, ep, w.body), &buf)
				lat := time.Since(t0)
				if err == nil && !bytes.Equal(buf.Bytes(), expect) {
					err = w.check(status, buf.Bytes(), t.filtered)
				}
				if err != nil {
					fail(err)
					continue
				}
				mine = append(mine, lat)
			}
			lats[i] = mine
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return roundResult{}, err
	}
	after, err := m.snapshot(t)
	if err != nil {
		return roundResult{}, err
	}
	if n := failures.Load(); n > 0 {
		return roundResult{}, fmt.Errorf("%s, %s, concurrency %d: %d requests failed; the first: %w", t.name, w.name, conc, n, firstErr)
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	if len(all) == 0 {
		return roundResult{}, fmt.Errorf("%s, %s: no request completed in %s", t.name, w.name, dur)
	}
	return roundResult{
		requests: len(all), elapsed: elapsed,
		p50: percentile(all, 0.50), p99: percentile(all, 0.99),
		proxyCPU: after.proxy - before.proxy, upstreamCPU: after.upstream - before.upstream, loadCPU: after.load - before.load,
		dbCPU:    foreignDelta(before.db, after.db),
		otherCPU: foreignDelta(before.foreign, after.foreign),
		steal:    after.steal - before.steal,
	}, nil
}

// meter reads the CPU time of the parties to a round, and of the rest.
type meter struct {
	upstream *child
	kids     *children // every process the benchmark started
	// dbServer is the PID of a database server running here, whose
	// processes are its children (PostgreSQL's postmaster); 0: none.
	dbServer int
}

// cpuSnapshot is the CPU time used so far by each party to a round.
type cpuSnapshot struct {
	proxy, upstream, load, steal time.Duration
	foreign, db                  map[int]time.Duration // by PID
}

func (m meter) snapshot(t *target) (cpuSnapshot, error) {
	var s cpuSnapshot
	for _, c := range append([]*child{t.proxy}, t.behind...) {
		if c == nil {
			continue
		}
		u, err := c.usage()
		if err != nil {
			return s, fmt.Errorf("%s: %w", t.name, err)
		}
		s.proxy += u.cpu
	}
	u, err := m.upstream.usage()
	if err != nil {
		return s, fmt.Errorf("upstream: %w", err)
	}
	s.upstream = u.cpu
	s.load = selfCPU()
	s.foreign, s.steal = foreignCPU(m.kids.groups()), stealTime()
	if m.dbServer != 0 {
		s.db = treeCPU(m.dbServer)
		for pid := range s.db {
			delete(s.foreign, pid) // the database's is counted apart
		}
	}
	return s, nil
}

// percentile of sorted, by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(float64(len(sorted))*p)) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// median of xs, which it sorts.
func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
