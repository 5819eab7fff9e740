package main

import (
	"fmt"
	"strings"
	"time"
)

// replicaResult is what the replicas phase measured of throughput.
type replicaResult struct {
	series     *series
	reference  string // the target the ratios are to: one gateway on SQLite
	database   string // which PostgreSQL, where
	dbMeasured bool   // the server runs here, and its CPU was read
}

// replicaSummary is one target's medians over the rounds.
type replicaSummary struct {
	perSecond         float64
	p50, p99          time.Duration
	proxyCPU, dbCPU   time.Duration // per request
	upCPU, loadCPU    time.Duration // per request
	other             float64
	vsRef, cpuBoundVs float64 // 0 for the reference itself
}

// summary is name's medians, and its ratios to the reference: each the
// median of the ratios within each round.
func (rr *replicaResult) summary(name string) (replicaSummary, bool) {
	rs, ok := rr.series.rounds[name]
	if !ok {
		return replicaSummary{}, false
	}
	ref := rr.series.rounds[rr.reference]
	var (
		rps, other, vs, capVs          []float64
		p50, p99, proxy, db, up, loadc []time.Duration
	)
	for i, r := range rs {
		rps, other = append(rps, r.perSecond()), append(other, r.otherShare())
		p50, p99 = append(p50, r.p50), append(p99, r.p99)
		proxy, db = append(proxy, r.perRequest(r.proxyCPU)), append(db, r.perRequest(r.dbCPU))
		up, loadc = append(up, r.perRequest(r.upstreamCPU)), append(loadc, r.perRequest(r.loadCPU))
		if name != rr.reference && i < len(ref) {
			vs = append(vs, r.perSecond()/ref[i].perSecond())
			// Every party's CPU per request, the database's included: what
			// the ratio would be on a machine with nothing else to do.
			if c := r.perRequest(r.totalCPU() + r.dbCPU); c > 0 {
				capVs = append(capVs, float64(ref[i].perRequest(ref[i].totalCPU()))/float64(c))
			}
		}
	}
	return replicaSummary{
		perSecond: median(rps), p50: median(p50), p99: median(p99),
		proxyCPU: median(proxy), dbCPU: median(db), upCPU: median(up), loadCPU: median(loadc),
		other: median(other), vsRef: median(vs), cpuBoundVs: median(capVs),
	}, true
}

// markdown writes the phase's section of the report.
func (rr *replicaResult) markdown(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	s := rr.series
	p("\n## Replicas on PostgreSQL\n\n")
	p("%s at concurrency %d, durable audit on, every target behind the same round-robin balancer (a process of its own: httputil.ReverseProxy, the next replica for each request, Host kept): ", s.workload, s.conc)
	p("one Drawbridge on SQLite, then one, two and three on one PostgreSQL database (%s). ", rr.database)
	p("The replicas share one signing key; each writes its own audit chain into the one table. Everything, the load generator and PostgreSQL included, shares this machine's cores, so more replicas cannot mean more throughput here: the rows show what a replica costs, not how far they scale on machines of their own. ")
	p("Drawbridge CPU is the balancer's and the gateways'; PostgreSQL CPU is the server's processes' (its backends and background workers). ")
	p("CPU-bound ÷ %s is its CPU per request, every party's and the database's summed, over the target's.\n\n", rr.reference)
	p("| target | req/s | p50 µs | p99 µs | Drawbridge CPU µs/req | PostgreSQL CPU µs/req | upstream CPU µs/req | load gen CPU µs/req | other CPU | req/s ÷ %s | CPU-bound ÷ %s |\n", rr.reference, rr.reference)
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, t := range s.targets {
		m, ok := rr.summary(t.name)
		if !ok {
			continue
		}
		db, vs, capVs := "—", "—", "—"
		if rr.dbMeasured && t.name != rr.reference {
			db = fmt.Sprintf("%.1f", micros(m.dbCPU))
		}
		if t.name != rr.reference {
			vs, capVs = percent(m.vsRef), percent(m.cpuBoundVs)
		}
		p("| %s | %.0f | %.0f | %.0f | %.1f | %s | %.1f | %.1f | %s | %s | %s |\n", t.name, m.perSecond, micros(m.p50), micros(m.p99),
			micros(m.proxyCPU), db, micros(m.upCPU), micros(m.loadCPU), percent(m.other), vs, capVs)
	}
	p("\nHow soon each replica obeys a policy change made elsewhere is in the policy reload table above.\n")
}
