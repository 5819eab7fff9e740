package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The audit phase measures the audit log's reads at a million events with
// models' BenchmarkAuditScale, run by `go test` in a child: the benchmark
// needs the store's internals, and it caches its seeded database between
// runs (the first seeds it, for about a minute).

// auditBenchOps is how many times each audit read runs: few, since the
// export of the whole log takes seconds each time.
const auditBenchOps = 5

// auditMetric is one figure BenchmarkAuditScale reported: a sub-benchmark
// (e.g. "page/tool/deep") and its metrics by unit (e.g. "ms/page").
type auditMetric struct {
	name    string
	metrics map[string]float64
}

// runAuditScale runs BenchmarkAuditScale and keeps its figures for the
// report. Without a Go toolchain on PATH the phase is skipped, not failed:
// the other phases need none.
func (b *bench) runAuditScale(ctx context.Context) error {
	const what = "audit log reads at 1M events"
	goBin, err := exec.LookPath("go")
	if err != nil {
		b.report.skip(what, "no go command on PATH to run models' BenchmarkAuditScale")
		return nil
	}
	root, err := moduleRoot(ctx, goBin)
	if err != nil {
		return err
	}
	b.progress("%s: go test -bench BenchmarkAuditScale ./models/ (the first run seeds the events, about a minute)", what)
	cmd := exec.CommandContext(ctx, goBin, "test", "-run", "^$", "-bench", "^BenchmarkAuditScale$",
		"-benchtime", fmt.Sprintf("%dx", auditBenchOps), "./models/")
	cmd.Dir = root
	cmd.Stderr = b.stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("audit: go test -bench BenchmarkAuditScale: %w\n%s", err, out)
	}
	b.report.audit = parseAuditBench(out)
	if len(b.report.audit) == 0 {
		return fmt.Errorf("audit: BenchmarkAuditScale reported nothing:\n%s", out)
	}
	return nil
}

// moduleRoot is the folder of the go.mod of the module in the working
// directory: drawbench runs from there, as `make bench` runs it.
func moduleRoot(ctx context.Context, goBin string) (string, error) {
	out, err := exec.CommandContext(ctx, goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("audit: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		return "", fmt.Errorf("audit: run drawbench from the Drawbridge module (as make bench does): no go.mod here")
	}
	return filepath.Dir(gomod), nil
}

// auditBenchLine is a result line of `go test -bench`: the name with its
// GOMAXPROCS suffix, the iterations, then value-unit pairs.
var auditBenchLine = regexp.MustCompile(`^BenchmarkAuditScale/(\S+?)(?:-\d+)?\s+\d+\s+(.+)$`)

// parseAuditBench reads BenchmarkAuditScale's result lines from go test's
// output, in order, and ignores every other line.
func parseAuditBench(out []byte) []auditMetric {
	var rows []auditMetric
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := auditBenchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		row := auditMetric{name: m[1], metrics: map[string]float64{}}
		for i := 0; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				row.metrics[fields[i+1]] = v
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// auditMarkdown writes the audit phase's tables: the log's page under each
// filter, newest and deep, then the dashboard and the export.
func auditMarkdown(b *strings.Builder, rows []auditMetric) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	byName := map[string]map[string]float64{}
	var filters []string
	for _, r := range rows {
		byName[r.name] = r.metrics
		if f, ok := strings.CutPrefix(r.name, "page/"); ok {
			f = strings.TrimSuffix(strings.TrimSuffix(f, "/newest"), "/deep")
			if len(filters) == 0 || filters[len(filters)-1] != f {
				filters = append(filters, f)
			}
		}
	}
	p("\n## Audit log at 1,000,000 events\n\n")
	p("SQLite, `go test -run '^$' -bench BenchmarkAuditScale -benchtime %dx ./models/`. A page is 50 events, newest first; deep starts 90%% of the way down the log. CPU is the process's, per operation.\n\n", auditBenchOps)
	p("| filter | newest page ms | newest CPU ms | deep page ms | deep CPU ms |\n|---|--:|--:|--:|--:|\n")
	for _, f := range filters {
		newest, deep := byName["page/"+f+"/newest"], byName["page/"+f+"/deep"]
		p("| %s | %s | %s | %s | %s |\n", f, figure(newest, "ms/page"), figure(newest, "cpu-ms/page"), figure(deep, "ms/page"), figure(deep, "cpu-ms/page"))
	}
	p("\n| dashboard window | ms | CPU ms |\n|---|--:|--:|\n")
	for _, w := range []string{"24h", "7d"} {
		d := byName["dashboard/"+w]
		p("| %s | %s | %s |\n", w, figure(d, "ms/dashboard"), figure(d, "cpu-ms/dashboard"))
	}
	e := byName["export/all"]
	p("\nExport of the whole log: %s rows/s, %s rows per CPU second, heap peak %s MiB.\n",
		figure(e, "rows/s"), figure(e, "rows/cpu-s"), figure(e, "MiB-heap-peak"))
}

// figure formats one metric, or "—" when the benchmark did not report it.
func figure(metrics map[string]float64, unit string) string {
	v, ok := metrics[unit]
	switch {
	case !ok:
		return "—"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
