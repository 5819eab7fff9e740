package main

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models/pgtest"
)

// TestMain lets the test binary be the benchmark's children too: the
// benchmark re-executes itself, which under go test is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && slices.Contains([]string{"upstream", "plainproxy", "gateway", "balancer"}, os.Args[1]) {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchmarkEndToEnd runs every phase briefly, for real: the report
// must hold a row for each target and a verdict for each target line, and
// every answer must have passed its check, or run fails.
func TestBenchmarkEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and sends load for several seconds")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args := []string{"drawbench", "-duration", "200ms", "-rounds", "2", "-warmup", "0", "-concurrency", "1,4",
		"-tools", "20", "-streams", "20", "-settle", "50ms", "-reloads", "2", "-nginx", "off", "-only", "call,list,stream,reload"}
	if err := run(ctx, args, os.Getenv, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	report := stdout.String()
	for _, want := range []string{
		"| tools/call | 1 | " + nameDirect + " |",
		"| tools/call | 4 | " + namePlain + " |",
		"| tools/call | 4 | " + nameAuditOff + " |",
		"| tools/call | 4 | " + nameAuditOn + " |",
		"| tools/list, 20 tools | 1 | " + nameAuditOff + " |",
		"| 20 | GET (listening stream) | " + nameAuditOff + " |",
		"| 20 | POST tools/call (streamed answer) | " + namePlain + " |",
		"| another process",
		"| the gateway's own process",
		"tools/list, 20 tools filtered to half, " + nameAuditOn,
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
}

// TestReplicasPhase runs the replicas phase briefly, for real, on a
// cluster of its own that -postgres names: a row for each target, the
// ratios to the SQLite one, and a reload row for each replica.
func TestReplicasPhase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes and a PostgreSQL cluster, and sends load for several seconds")
	}
	cluster := pgtest.NewCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args := []string{"drawbench", "-only", "replicas", "-postgres", cluster.AdminDSN(), "-duration", "200ms", "-rounds", "2",
		"-warmup", "0", "-replica-concurrency", "4", "-reloads", "4"}
	if err := run(ctx, args, os.Getenv, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	report := stdout.String()
	for _, want := range []string{
		"## Replicas on PostgreSQL",
		"| " + nameSQLiteOne + " | ",
		"| " + namePostgres(1) + " | ",
		"| " + namePostgres(3) + " | ",
		"| another process, as PostgreSQL replica 3 of 3 sees it",
		"policy change made in another process, as PostgreSQL replica 1 of 3 sees it",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
}

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	line := []byte("4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 37 0 0 20 0 9 0 1234 1000000 3072 18446744073709551615")
	st, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != 1 || st.pgrp != 4242 || st.ticks != 287 || st.rssPages != 3072 {
		t.Errorf("parseStat = %+v, want ppid 1, pgrp 4242, ticks 287, rss 3072 pages", st)
	}
	if _, err := parseStat([]byte("4242 (short) S 1")); err == nil {
		t.Error("a truncated stat line was read")
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(lat, 0.5); got != 50*time.Millisecond {
		t.Errorf("p50 = %s", got)
	}
	if got := percentile(lat, 0.99); got != 99*time.Millisecond {
		t.Errorf("p99 = %s", got)
	}
	if got := percentile(lat[:1], 0.99); got != time.Millisecond {
		t.Errorf("p99 of one = %s", got)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median of 3 = %v", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of 4 = %v", got)
	}
}

// TestRatiosPairRounds: a ratio is the median of the ratios of the same
// round, so a slow round slows both sides of it, not one.
func TestRatiosPairRounds(t *testing.T) {
	round := func(reqs int, proxyCPU time.Duration) roundResult {
		return roundResult{requests: reqs, elapsed: time.Second, p50: time.Millisecond, p99: time.Millisecond, proxyCPU: proxyCPU}
	}
	s := &series{workload: "tools/call", conc: 32, rounds: map[string][]roundResult{
		namePlain:    {round(1000, time.Second), round(500, time.Second/2), round(1000, time.Second)},
		nameAuditOff: {round(960, 1200*time.Millisecond), round(480, 600*time.Millisecond), round(900, 1100*time.Millisecond)},
	}}
	m, ok := s.summary(nameAuditOff)
	if !ok {
		t.Fatal("no summary")
	}
	if m.vsPlain < 0.959 || m.vsPlain > 0.961 {
		t.Errorf("req/s ÷ plain = %v, want 0.96 (the median of 0.96, 0.96, 0.90)", m.vsPlain)
	}
	if m.cpuVsPlain < 1.249 || m.cpuVsPlain > 1.251 {
		t.Errorf("proxy CPU ÷ plain = %v, want 1.25 (the median of 1.25, 1.25, 1.22)", m.cpuVsPlain)
	}
	r := &report{series: []*series{s}}
	checks := strings.Join(r.checks(), "\n")
	if !strings.Contains(checks, "**PASS** — tools/call throughput at concurrency 32, "+nameAuditOff+": 96.0 %") {
		t.Errorf("checks:\n%s", checks)
	}
	if !strings.Contains(checks, "**NOT MEASURED** — tools/call throughput at concurrency 32, "+nameAuditOn) {
		t.Errorf("audit on was not reported as not measured:\n%s", checks)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	noEnv := func(string) string { return "" }
	_, err := parseConfig([]string{"-rounds", "0", "-concurrency", "1,x", "-tools", "7", "-only", "call,nap"}, noEnv, &bytes.Buffer{})
	if err == nil {
		t.Fatal("a bad configuration was accepted")
	}
	for _, want := range []string{"--rounds", `"x"`, "--tools", `"nap"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	c, err := parseConfig(nil, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if !slices.Equal(c.Concurrency, []int{1, 32}) || !slices.Equal(c.Phases, defaultPhases(pgtest.Installed())) {
		t.Errorf("defaults: %+v", c)
	}
	// A server named in the environment brings the replicas phase in.
	c, err = parseConfig(nil, func(k string) string {
		if k == postgresEnv {
			return "postgres://db/postgres"
		}
		return ""
	}, &bytes.Buffer{})
	if err != nil || c.Postgres != "postgres://db/postgres" || !c.runs(phaseReplicas) {
		t.Errorf("with $%s: %+v, %v", postgresEnv, c, err)
	}
	if slices.Contains(defaultPhases(false), phaseReplicas) || !slices.Contains(defaultPhases(true), phaseReplicas) {
		t.Errorf("default phases: %v without PostgreSQL, %v with", defaultPhases(false), defaultPhases(true))
	}
}

func TestPrefixWriter(t *testing.T) {
	var out bytes.Buffer
	w := &prefixWriter{w: &out, prefix: "[gw] "}
	w.Write([]byte("one\ntw"))
	w.Write([]byte("o\n"))
	if got := out.String(); got != "[gw] one\n[gw] two\n" {
		t.Errorf("got %q", got)
	}
}
