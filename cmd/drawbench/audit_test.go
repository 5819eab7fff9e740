package main

import (
	"strings"
	"testing"
)

// auditBenchOutput is go test's output for BenchmarkAuditScale, cut down:
// result lines among the others go test prints.
const auditBenchOutput = `goos: linux
goarch: amd64
pkg: github.com/drawbridge/drawbridge/models
cpu: Some CPU @ 2.00GHz
BenchmarkAuditScale/page/default/newest-2         	      20	    512345 ns/op	         0.5123 ms/page	         0.4800 cpu-ms/page	        50.00 events	         0 truncated
BenchmarkAuditScale/page/default/deep-2           	      20	   1712345 ns/op	         1.712 ms/page	         1.650 cpu-ms/page	        50.00 events	         0 truncated
BenchmarkAuditScale/page/tool/newest              	      20	    700000 ns/op	         0.7000 ms/page	         0.6500 cpu-ms/page	        50.00 events	         0 truncated
BenchmarkAuditScale/dashboard/24h-2               	      20	 160000000 ns/op	       160.0 ms/dashboard	       155.0 cpu-ms/dashboard	     42000 calls
BenchmarkAuditScale/export/all-2                  	      20	  12500000000 ns/op	     80123 rows/s	     85000 rows/cpu-s	        12.50 MiB-heap-peak
PASS
ok  	github.com/drawbridge/drawbridge/models	300.123s
`

func TestParseAuditBench(t *testing.T) {
	rows := parseAuditBench([]byte(auditBenchOutput))
	if len(rows) != 5 {
		t.Fatalf("parsed %d rows, want 5: %+v", len(rows), rows)
	}
	if rows[0].name != "page/default/newest" || rows[0].metrics["ms/page"] != 0.5123 || rows[0].metrics["ns/op"] != 512345 {
		t.Errorf("first row = %+v", rows[0])
	}
	if rows[2].name != "page/tool/newest" {
		t.Errorf("a name without the GOMAXPROCS suffix: %q", rows[2].name)
	}

	var b strings.Builder
	auditMarkdown(&b, rows)
	md := b.String()
	for _, want := range []string{
		"| default | 0.51 | 0.48 | 1.71 | 1.65 |",
		"| tool | 0.70 | 0.65 | — | — |", // no deep run reported
		"| 24h | 160 | 155 |",
		"| 7d | — | — |",
		"80123 rows/s, 85000 rows per CPU second, heap peak 12.5 MiB",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
