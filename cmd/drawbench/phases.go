package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/drawbridge/drawbridge/models"
	"github.com/drawbridge/drawbridge/proxy"
)

// runSeries measures w at conc on every target, for the report's main
// table.
func (b *bench) runSeries(ctx context.Context, targets []*target, w *workload, conc int) error {
	s, err := b.measureSeries(ctx, targets, w, conc, meter{upstream: b.upstream, kids: &b.kids})
	if err != nil {
		return err
	}
	b.report.series = append(b.report.series, s)
	return nil
}

// measureSeries measures w at conc on every target: a warm-up each, then
// rounds in which the targets take turns, each round starting one target
// further along, so that no target always runs first or last.
func (b *bench) measureSeries(ctx context.Context, targets []*target, w *workload, conc int, m meter) (*series, error) {
	b.progress("%s at concurrency %d: %d rounds of %s on %d targets", w.name, conc, b.cfg.Rounds, b.cfg.Duration, len(targets))
	s := &series{workload: w.name, conc: conc, targets: targets, rounds: map[string][]roundResult{}}
	for _, t := range targets {
		if err := prime(ctx, t, w); err != nil {
			return nil, err
		}
		if b.cfg.Warmup > 0 {
			if _, err := runRound(ctx, t, w, m, conc, b.cfg.Warmup); err != nil {
				return nil, fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	if w.route == routeList {
		kb := map[string]float64{}
		for _, t := range targets {
			kb[t.name] = float64(len(t.expect[w.name])) / 1024
		}
		b.report.note("the tools/list answer of %d tools: %.0f KB from the upstream, %.0f KB once Drawbridge filtered it",
			b.cfg.Tools, kb[nameDirect], kb[nameAuditOff])
	}
	for r := range b.cfg.Rounds {
		for i := range targets {
			t := targets[(r+i)%len(targets)]
			res, err := runRound(ctx, t, w, m, conc, b.cfg.Duration)
			if err != nil {
				return nil, fmt.Errorf("round %d: %w", r+1, err)
			}
			s.rounds[t.name] = append(s.rounds[t.name], res)
			if b.cfg.Verbose {
				b.progress("  round %d %-24s %8.0f req/s  p50 %6.0f µs  p99 %6.0f µs  proxy %5.1f  upstream %5.1f  load %5.1f µs/req  other %s",
					r+1, t.name, res.perSecond(), micros(res.p50), micros(res.p99), micros(res.perRequest(res.proxyCPU)),
					micros(res.perRequest(res.upstreamCPU)), micros(res.perRequest(res.loadCPU)), percent(res.otherShare()))
			}
		}
	}
	return s, nil
}

// runStreams measures idle streams' memory on fresh proxies, one per
// method and kind, so that no earlier load has grown the heap they use.
func (b *bench) runStreams(ctx context.Context) error {
	for _, method := range b.cfg.Methods {
		b.progress("%d idle %s streams through each proxy", b.cfg.Streams, method)
		targets, err := b.startTargets(ctx, false)
		if err != nil {
			return err
		}
		w := &workload{name: "tools/call", route: routeEcho, body: callBody, check: checkCall}
		for _, t := range targets {
			t.client = newClient(t.addr, 1)
			// A few calls first, as a gateway in service has had.
			for range 20 {
				if err := prime(ctx, t, w); err != nil {
					return err
				}
			}
			res, err := measureStreams(ctx, t, method, b.cfg.Streams, b.cfg.Settle)
			if err != nil {
				return err
			}
			b.report.streams = append(b.report.streams, streamRow{method: method, target: t.name, res: res})
			t.proxy.stop()
		}
	}
	return nil
}

// runReloads measures how soon the gateway obeys a policy change made by
// another process (this one, through its own store, with no hook into the
// gateway's engine) and by its own process (a gateway started to measure
// that, which prints what it saw).
func (b *bench) runReloads(ctx context.Context, targets []*target) error {
	var gw *target
	for _, t := range targets {
		if t.name == nameAuditOff {
			gw = t
		}
	}
	if gw == nil {
		return fmt.Errorf("reload: no %s to change the policy of", nameAuditOff)
	}
	b.progress("%d policy changes made in another process, then %d in the gateway's", b.cfg.Reloads, b.cfg.Reloads)
	cipher, err := benchCipher(b.cipherKey)
	if err != nil {
		return err
	}
	store, err := models.Open(ctx, models.Options{Driver: "sqlite", DSN: gw.proxy.ready.DB, Cipher: cipher, ValidatePolicy: validatePolicy})
	if err != nil {
		return err
	}
	defer store.Close()
	probe := newProber(gw.addr, gw.endpoints[routeEcho])
	// The engine learns of another process's change by polling, so the
	// changes are spread over its poll's whole period.
	lat, err := measureReloads(ctx, store, gw.proxy.ready.PolicyID, probe, b.cfg.Reloads, proxy.PollInterval)
	if err != nil {
		return fmt.Errorf("reload from another process: %w", err)
	}
	b.report.reloads = append(b.report.reloads, reloadRow{where: "another process (the engine polls every " + proxy.PollInterval.String() + ")", limit: maxReloadOtherProcess, lat: lat})

	c, err := b.startReloadGateway(ctx)
	if err != nil {
		return err
	}
	defer c.stop()
	line, err := c.next(ctx, time.Duration(b.cfg.Reloads)*(reloadTimeout+inProcessJitter))
	if err != nil {
		return fmt.Errorf("reload in process: %w", err)
	}
	var rep reloadReport
	if err := json.Unmarshal(line, &rep); err != nil {
		return fmt.Errorf("reload in process: %w", err)
	}
	b.report.reloads = append(b.report.reloads, reloadRow{where: "the gateway's own process (the store's hook wakes the engine)", limit: maxReloadThisProcess, lat: rep.Latencies})
	return nil
}

// startReloadGateway starts a gateway that measures in-process reloads.
func (b *bench) startReloadGateway(ctx context.Context) (*child, error) {
	t, err := b.startGateway(ctx, "off", false, "--reload-test", fmt.Sprint(b.cfg.Reloads))
	if err != nil {
		return nil, err
	}
	return t.proxy, nil
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
