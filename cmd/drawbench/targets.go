package main

import (
	"fmt"
	"slices"
	"time"
)

// The product's targets, on a 2-core machine, load generator included.
const (
	minThroughputAuditOff = 0.95
	minThroughputAuditOn  = 0.90
	maxAddedP50AuditOff   = 100 * time.Microsecond
	maxAddedP50AuditOn    = 500 * time.Microsecond
	maxCPUVsPlain         = 1.3
	maxListAdded          = time.Millisecond
	maxStreamsMemory      = 150 << 20 // for 1000 streams
	maxReloadOtherProcess = 300 * time.Millisecond
	maxReloadThisProcess  = 50 * time.Millisecond
	// noisyShare is the share of the machine other work may take before
	// the report warns that its ratios are not to be trusted.
	noisyShare = 0.10
)

// checks states, for each target, whether this run met it.
func (r *report) checks() []string {
	var out []string
	verdict := func(ok bool, format string, args ...any) {
		word := "MISS"
		if ok {
			word = "PASS"
		}
		out = append(out, fmt.Sprintf("**%s** — "+format, append([]any{word}, args...)...))
	}
	notMeasured := func(format string, args ...any) {
		out = append(out, fmt.Sprintf("**NOT MEASURED** — "+format, args...))
	}
	gateway := func(workload string, conc int, name string) (summary, bool) {
		s := r.find(workload, conc)
		if s == nil {
			return summary{}, false
		}
		m, ok := s.summary(name)
		return m, ok && m.hasPlain
	}

	if share := r.otherShare(); share > noisyShare {
		out = append(out, fmt.Sprintf("**WARNING** — other processes took at least %s of the machine's CPU during the rounds (median): with that much noise the ratios are unreliable, so run again on a quiet machine before trusting a PASS or a MISS", percent(share)))
	}
	for _, g := range []struct {
		name     string
		minRatio float64
		maxAdded time.Duration
	}{
		{nameAuditOff, minThroughputAuditOff, maxAddedP50AuditOff},
		{nameAuditOn, minThroughputAuditOn, maxAddedP50AuditOn},
	} {
		if m, ok := gateway("tools/call", 32, g.name); ok {
			verdict(m.vsPlain >= g.minRatio, "tools/call throughput at concurrency 32, %s: %s of the plain proxy's (target ≥ %s)", g.name, percent(m.vsPlain), percent(g.minRatio))
		} else {
			notMeasured("tools/call throughput at concurrency 32, %s (target ≥ %s of the plain proxy's)", g.name, percent(g.minRatio))
		}
		if m, ok := gateway("tools/call", 1, g.name); ok {
			verdict(m.p50OverPlain <= g.maxAdded, "added median latency at concurrency 1, %s: %+.0f µs over the plain proxy (target ≤ %.0f µs)", g.name, micros(m.p50OverPlain), micros(g.maxAdded))
		} else {
			notMeasured("added median latency at concurrency 1, %s (target ≤ %.0f µs)", g.name, micros(g.maxAdded))
		}
	}

	if m, ok := gateway("tools/call", 32, nameAuditOn); ok {
		verdict(m.cpuVsPlain <= maxCPUVsPlain, "gateway CPU per request with everything on, concurrency 32: %.2f× the plain proxy's (target ≤ %.1f×)", m.cpuVsPlain, maxCPUVsPlain)
	} else {
		line := fmt.Sprintf("gateway CPU per request with everything on (target ≤ %.1f× the plain proxy's): needs %s", maxCPUVsPlain, nameAuditOn)
		if m, ok := gateway("tools/call", 32, nameAuditOff); ok {
			line += fmt.Sprintf("; with audit off it is %.2f×", m.cpuVsPlain)
		}
		notMeasured("%s", line)
	}

	if s := r.find("tools/list", 1); s != nil {
		for _, name := range []string{nameAuditOff, nameAuditOn} {
			if m, ok := s.summary(name); ok && m.hasPlain {
				verdict(m.p50OverPlain <= maxListAdded, "%s filtered to half, %s: %+.0f µs median over the plain proxy (target ≤ %.0f µs)", s.workload, name, micros(m.p50OverPlain), micros(maxListAdded))
			}
		}
	} else {
		notMeasured("tools/list filtering (target ≤ %.0f µs added)", micros(maxListAdded))
	}

	measuredStreams := false
	for _, s := range r.streams {
		if s.target != nameAuditOff && s.target != nameAuditOn {
			continue
		}
		measuredStreams = true
		per1000 := float64(s.res.added()) / float64(s.res.streams) * 1000
		verdict(per1000 <= maxStreamsMemory, "%d idle streams, %s, through %s: %.1f MB added (%.1f MB per 1,000; target ≤ %.0f MB)",
			s.res.streams, streamMethod(s.method), s.target, mb(s.res.added()), per1000/(1<<20), mb(maxStreamsMemory))
	}
	if !measuredStreams {
		notMeasured("memory of 1,000 idle streams (target ≤ %.0f MB)", mb(maxStreamsMemory))
	}

	for _, rl := range r.reloads {
		lat := slices.Clone(rl.lat)
		slices.Sort(lat)
		p99 := percentile(lat, 0.99)
		verdict(p99 <= rl.limit, "policy change made in %s obeyed within %.1f ms at p99 (target ≤ %.0f ms)", rl.where, millis(p99), millis(rl.limit))
	}
	if len(r.reloads) == 0 {
		notMeasured("policy reload (targets ≤ %.0f ms from another process, ≤ %.0f ms in process)", millis(maxReloadOtherProcess), millis(maxReloadThisProcess))
	}
	return out
}

// otherShare is the median share of the machine that other work took
// during the rounds of every series.
func (r *report) otherShare() float64 {
	var shares []float64
	for _, s := range r.series {
		for _, rs := range s.rounds {
			for _, round := range rs {
				shares = append(shares, round.otherShare())
			}
		}
	}
	return median(shares)
}
