package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Target names, as the report prints them.
const (
	nameDirect   = "direct to upstream"
	namePlain    = "plain Go proxy"
	nameNginx    = "nginx"
	nameAuditOff = "Drawbridge, audit off"
	nameAuditOn  = "Drawbridge, audit on"
)

// bench is one run of the benchmark: its configuration, the processes it
// started and what it measured.
type bench struct {
	cfg       Config
	dir       string   // temporary: SQLite files, nginx's configuration
	env       []string // for the gateways: the store's cipher key
	cipherKey string   // the same, in hex
	kids      children
	upstream  *child
	stderr    io.Writer
	report    *report
}

// runBench runs the benchmark and prints its report.
func runBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "drawbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := make([]byte, 32)
	rand.Read(key)
	b := &bench{
		cfg: cfg, dir: dir, cipherKey: hex.EncodeToString(key), env: []string{cipherKeyEnv + "=" + hex.EncodeToString(key)},
		stderr: stderr, report: newReport(cfg),
	}
	defer b.kids.stopAll()
	if err := b.run(ctx); err != nil {
		return err
	}
	b.kids.stopAll() // the gateways write their CPU profiles as they stop
	text := b.report.markdown()
	if _, err := io.WriteString(stdout, text); err != nil {
		return err
	}
	if cfg.Out != "" {
		return os.WriteFile(cfg.Out, []byte(text), 0o644)
	}
	return nil
}

func (b *bench) run(ctx context.Context) error {
	targetPhases := b.cfg.runs(phaseCall) || b.cfg.runs(phaseList) || b.cfg.runs(phaseStream) || b.cfg.runs(phaseReload)
	if targetPhases || b.cfg.runs(phaseReplicas) {
		up, err := startSelf(ctx, "upstream", nil, b.stderr, "upstream", "--tools", strconv.Itoa(b.cfg.Tools))
		if err != nil {
			return err
		}
		b.upstream = b.kids.add(up)
	}
	if targetPhases {
		if err := b.runTargetPhases(ctx); err != nil {
			return err
		}
	}
	if b.cfg.runs(phaseReplicas) {
		if err := b.runReplicas(ctx); err != nil {
			return fmt.Errorf("replicas: %w", err)
		}
	}
	if b.cfg.runs(phaseAudit) {
		if err := b.runAuditScale(ctx); err != nil {
			return err
		}
	}
	return nil
}

// runTargetPhases runs the phases that measure the upstream, the plain
// proxies and the gateways side by side.
func (b *bench) runTargetPhases(ctx context.Context) error {
	targets, err := b.startTargets(ctx, true)
	if err != nil {
		return err
	}
	conns := 1
	for _, c := range b.cfg.Concurrency {
		conns = max(conns, c)
	}
	for _, t := range targets {
		t.client = newClient(t.addr, conns)
	}
	if b.cfg.runs(phaseCall) {
		w := &workload{name: "tools/call", route: routeEcho, body: callBody, check: checkCall}
		for _, conc := range b.cfg.Concurrency {
			if err := b.runSeries(ctx, targets, w, conc); err != nil {
				return err
			}
		}
	}
	if b.cfg.runs(phaseList) {
		w := &workload{name: fmt.Sprintf("tools/list, %d tools", b.cfg.Tools), route: routeList, body: listBody, check: listChecker(b.cfg.Tools)}
		if err := b.runSeries(ctx, targets, w, 1); err != nil {
			return err
		}
	}
	if b.cfg.runs(phaseStream) {
		if err := b.runStreams(ctx); err != nil {
			return err
		}
	}
	if b.cfg.runs(phaseReload) {
		return b.runReloads(ctx, targets)
	}
	return nil
}

// startTargets starts a proxy of each kind in front of the upstream. The
// main ones, which the rounds measure, come after the upstream itself,
// for reference, and their gateways write profiles when asked to.
func (b *bench) startTargets(ctx context.Context, main bool) ([]*target, error) {
	var targets []*target
	if main {
		targets = append(targets, &target{name: nameDirect, addr: b.upstream.ready.Addr, endpoints: plainEndpoints(b.upstream.ready.Addr)})
	}
	plain, err := startSelf(ctx, "plainproxy", nil, b.stderr, "plainproxy", "--to", b.upstreamURL())
	if err != nil {
		return nil, err
	}
	targets = append(targets, newTarget(namePlain, b.kids.add(plain), false))
	if b.cfg.Nginx != "off" {
		nginx, why, err := startNginx(ctx, b.cfg.Nginx, b.dir, b.upstream.ready.Addr, b.stderr)
		switch {
		case err != nil:
			return nil, err
		case nginx == nil:
			b.report.skip(nameNginx, why)
		default:
			targets = append(targets, newTarget(nameNginx, b.kids.add(nginx), false))
		}
	}
	var gateway *target
	for _, audit := range []string{"off", "on"} {
		t, err := b.startGateway(ctx, audit, main)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
		gateway = t
	}
	// Every target gets the same request, token included: a client sends
	// it whatever is in front of the server, and the plain proxies pass it
	// on, as the gateway passes on an assertion of about the same size.
	for _, t := range targets {
		if t.filtered {
			continue
		}
		for route, ep := range t.endpoints {
			ep.Bearer = gateway.endpoints[route].Bearer
			t.endpoints[route] = ep
		}
	}
	return targets, nil
}

// startGateway starts a Drawbridge gateway over a store of its own.
func (b *bench) startGateway(ctx context.Context, audit string, profiled bool, extra ...string) (*target, error) {
	name := nameAuditOff
	if audit == "on" {
		name = nameAuditOn
	}
	dir, err := os.MkdirTemp(b.dir, "gateway-")
	if err != nil {
		return nil, err
	}
	args := append([]string{"gateway", "--to", b.upstreamURL(), "--dir", dir, "--audit", audit}, extra...)
	profile := ""
	if b.cfg.ProfileDir != "" && profiled {
		profile = filepath.Join(b.cfg.ProfileDir, "gateway-audit-"+audit)
		args = append(args, "--cpuprofile", profile+".cpu.pprof", "--memprofile", profile+".allocs.pprof")
	}
	c, err := startSelf(ctx, "gateway-audit-"+audit, b.env, b.stderr, args...)
	if err != nil {
		return nil, err
	}
	if profile != "" {
		b.report.note("profiles of %s, its whole life: %s.cpu.pprof, %s.allocs.pprof", name, profile, profile)
	}
	b.kids.add(c)
	t := newTarget(name, c, true)
	t.endpoints = c.ready.Routes
	return t, nil
}

func (b *bench) upstreamURL() string { return "http://" + b.upstream.ready.Addr }

// newTarget is a proxy process as the load reaches it.
func newTarget(name string, c *child, gateway bool) *target {
	return &target{name: name, addr: c.ready.Addr, proxy: c, filtered: gateway, endpoints: plainEndpoints(c.ready.Addr)}
}

// plainEndpoints are the upstream's paths at addr, with no token: what a
// proxy that passes every path on serves.
func plainEndpoints(addr string) map[string]routeInfo {
	base := "http://" + addr
	return map[string]routeInfo{
		routeEcho:   {URL: base + pathEcho},
		routeList:   {URL: base + pathMany},
		routeStream: {URL: base + pathStream},
	}
}

// progress tells the person waiting what is going on.
func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.stderr, "drawbench: "+format+"\n", args...)
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
