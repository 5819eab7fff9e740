package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is what the run measured, and the machine it ran on.
type report struct {
	cfg     Config
	started time.Time
	load    string // the load average when it started
	series  []*series
	streams []streamRow
	reloads []reloadRow
	// replicas is the replicas phase's throughput; nil when it did not run.
	replicas *replicaResult
	// audit is the audit phase's figures; nil when it did not run.
	audit   []auditMetric
	skipped []string
	notes   []string
}

// series is one workload at one concurrency: every target, every round.
type series struct {
	workload string
	conc     int
	targets  []*target
	rounds   map[string][]roundResult // by target name, in round order
}

type streamRow struct {
	method, target string
	res            streamResult
}

type reloadRow struct {
	where string
	limit time.Duration // the target
	lat   []time.Duration
}

func newReport(cfg Config) *report {
	return &report{cfg: cfg, started: time.Now(), load: loadAverage()}
}

// skip notes once that a target is not measured, and why.
func (r *report) skip(name, why string) {
	if line := name + ": " + why + ", skipped"; !slices.Contains(r.skipped, line) {
		r.skipped = append(r.skipped, line)
	}
}

func (r *report) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// summary is one target's medians in a series, and its ratios to the
// plain proxy and to the upstream itself. A ratio is the median of the
// ratios within each round, whose targets ran seconds, not minutes, apart.
type summary struct {
	perSecond                  float64
	p50, p99                   time.Duration
	proxyCPU, upCPU, loadCPU   time.Duration // per request
	vsPlain, vsDirect          float64       // req/s ratio; 0: no such reference
	p50OverPlain, p99OverPlain time.Duration
	cpuVsPlain                 float64 // proxy CPU per request ratio
	// capVsPlain is the plain proxy's CPU per request, every party's
	// summed, over this target's: the throughput ratio on a machine with
	// nothing else to do, which the other tenants of a shared one cannot
	// disturb as much as they disturb req/s.
	capVsPlain float64
	other      float64 // roundResult.otherShare
	hasPlain   bool
}

func (s *series) summary(name string) (summary, bool) {
	rs, ok := s.rounds[name]
	if !ok {
		return summary{}, false
	}
	var (
		out                     summary
		rps, vsPlain, vsDirect  []float64
		other, capVs            []float64
		cpuVs                   []float64
		p50, p99, proxy, up, ld []time.Duration
		p50Over, p99Over        []time.Duration
	)
	plain, direct := s.rounds[namePlain], s.rounds[nameDirect]
	for i, r := range rs {
		rps = append(rps, r.perSecond())
		other = append(other, r.otherShare())
		p50, p99 = append(p50, r.p50), append(p99, r.p99)
		proxy = append(proxy, r.perRequest(r.proxyCPU))
		up = append(up, r.perRequest(r.upstreamCPU))
		ld = append(ld, r.perRequest(r.loadCPU))
		if i < len(plain) {
			pl := plain[i]
			vsPlain = append(vsPlain, r.perSecond()/pl.perSecond())
			p50Over = append(p50Over, r.p50-pl.p50)
			p99Over = append(p99Over, r.p99-pl.p99)
			if c := r.perRequest(r.totalCPU()); c > 0 {
				capVs = append(capVs, float64(pl.perRequest(pl.totalCPU()))/float64(c))
			}
			if c := pl.perRequest(pl.proxyCPU); c > 0 {
				cpuVs = append(cpuVs, float64(r.perRequest(r.proxyCPU))/float64(c))
			}
		}
		if i < len(direct) {
			vsDirect = append(vsDirect, r.perSecond()/direct[i].perSecond())
		}
	}
	out.perSecond = median(rps)
	out.p50, out.p99 = median(p50), median(p99)
	out.proxyCPU, out.upCPU, out.loadCPU = median(proxy), median(up), median(ld)
	out.vsPlain, out.vsDirect, out.cpuVsPlain = median(vsPlain), median(vsDirect), median(cpuVs)
	out.p50OverPlain, out.p99OverPlain = median(p50Over), median(p99Over)
	out.other, out.capVsPlain = median(other), median(capVs)
	out.hasPlain = len(plain) > 0
	return out, true
}

// find returns the series of workload (a prefix of its name) at conc.
func (r *report) find(workload string, conc int) *series {
	for _, s := range r.series {
		if strings.HasPrefix(s.workload, workload) && s.conc == conc {
			return s
		}
	}
	return nil
}

// markdown is the report.
func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Drawbridge gateway benchmark\n\n")
	p("- date: %s\n", r.started.Format(time.RFC3339))
	p("- go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	p("- CPU: %s, %d cores; load average before the run: %s (the load generator and every process share these cores)\n", cpuModel(), runtime.NumCPU(), r.load)
	p("- %d rounds of %s per target, targets alternating within each round; %s warm-up per target and concurrency\n", r.cfg.Rounds, r.cfg.Duration, r.cfg.Warmup)
	p("- upstream: the official MCP Go SDK, stateless, JSON answers; protocol %s; every answer checked (status 200, a JSON-RPC result, no error)\n", protocolVersion)
	p("- Drawbridge wired as `drawbridge serve` wires it: access-token auth, X-Drawbridge-Assertion to the upstream, a route with a five-rule policy, SQLite store, durable audit off and on\n")
	p("- every target receives the same requests, bearer token included; a ratio is the median of the ratios within each round\n")
	for _, s := range r.skipped {
		p("- %s\n", s)
	}
	for _, n := range r.notes {
		p("- %s\n", n)
	}
	if len(r.series) > 0 {
		p("\n## Throughput and latency\n\n")
		p("CPU columns are per request: the proxy process (all its processes for nginx), the upstream, and the load generator (this process). ")
		p("Other CPU is the share of the machine's cores that other processes used (at least: processes that start and end within a round are missed), or the hypervisor stole, during the rounds: noise. ")
		p("CPU-bound req/s ÷ plain is the plain proxy's CPU per request, every party's summed, over the target's: what req/s ÷ plain would be at saturation on a machine doing nothing else.\n\n")
		p("| workload | conc. | target | req/s | p50 µs | p99 µs | proxy CPU µs/req | upstream CPU µs/req | load gen CPU µs/req | other CPU | req/s ÷ plain | CPU-bound req/s ÷ plain | req/s ÷ direct | p50 − plain µs | p99 − plain µs | proxy CPU ÷ plain |\n")
		p("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range r.series {
			for _, t := range s.targets {
				m, ok := s.summary(t.name)
				if !ok {
					continue
				}
				proxyCPU, vsPlain, capVs, p50Over, p99Over, cpuVs := "—", "—", "—", "—", "—", "—"
				if t.proxy != nil {
					proxyCPU = fmt.Sprintf("%.1f", micros(m.proxyCPU))
				}
				if m.hasPlain && t.name != namePlain {
					vsPlain, capVs = percent(m.vsPlain), percent(m.capVsPlain)
					p50Over, p99Over = fmt.Sprintf("%+.0f", micros(m.p50OverPlain)), fmt.Sprintf("%+.0f", micros(m.p99OverPlain))
					if t.proxy != nil {
						cpuVs = fmt.Sprintf("%.2f×", m.cpuVsPlain)
					}
				}
				vsDirect := "—"
				if t.name != nameDirect && m.vsDirect > 0 {
					vsDirect = percent(m.vsDirect)
				}
				p("| %s | %d | %s | %.0f | %.0f | %.0f | %s | %.1f | %.1f | %s | %s | %s | %s | %s | %s | %s |\n",
					s.workload, s.conc, t.name, m.perSecond, micros(m.p50), micros(m.p99), proxyCPU,
					micros(m.upCPU), micros(m.loadCPU), percent(m.other), vsPlain, capVs, vsDirect, p50Over, p99Over, cpuVs)
			}
		}
	}
	if len(r.streams) > 0 {
		p("\n## Idle streams\n\n")
		p("Resident memory of a fresh proxy process (after 20 calls) before and with the streams open, each past its first event.\n\n")
		p("| streams | opened by | proxy | RSS before MB | RSS with streams MB | added MB | added KB per stream |\n")
		p("|--:|---|---|--:|--:|--:|--:|\n")
		for _, s := range r.streams {
			p("| %d | %s | %s | %.1f | %.1f | %.1f | %.1f |\n", s.res.streams, streamMethod(s.method), s.target,
				mb(s.res.before), mb(s.res.with), mb(s.res.added()), float64(s.res.added())/1024/float64(s.res.streams))
		}
	}
	if len(r.reloads) > 0 {
		p("\n## Policy reload\n\n")
		p("From the commit of a policy change to the first request that saw it obeyed (probes every %s; each request takes a few hundred µs more).\n\n", reloadProbeEvery)
		p("| change made in | changes | p50 ms | p99 ms | max ms |\n|---|--:|--:|--:|--:|\n")
		for _, rl := range r.reloads {
			lat := slices.Clone(rl.lat)
			slices.Sort(lat)
			p("| %s | %d | %.1f | %.1f | %.1f |\n", rl.where, len(lat), millis(percentile(lat, 0.5)), millis(percentile(lat, 0.99)), millis(lat[len(lat)-1]))
		}
	}
	if r.replicas != nil {
		r.replicas.markdown(&b)
	}
	if len(r.audit) > 0 {
		auditMarkdown(&b, r.audit)
	}
	p("\n## Targets\n\n")
	for _, c := range r.checks() {
		p("- %s\n", c)
	}
	return b.String()
}

func streamMethod(m string) string {
	if m == "GET" {
		return "GET (listening stream)"
	}
	return "POST tools/call (streamed answer)"
}

func percent(x float64) string { return fmt.Sprintf("%.1f %%", 100*x) }

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
