//go:build unix

package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAuditScale measures the audit log's reads on a million events
// in SQLite: the default page and each single filter (newest, and deep:
// before the id at 90% of the log's depth), the dashboard over 24 hours
// and 7 days, and the export. Run it with
//
//	go test -run '^$' -bench BenchmarkAuditScale -benchtime 20x ./models/
//
// The first run seeds the data (about a minute) and caches it under
// os.TempDir(); later runs reuse it. Beside the time of an op, each
// reports the process's CPU time per op (user and system), which other
// work on a shared machine disturbs less. (Unix only, for that.)
func BenchmarkAuditScale(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds a million events")
	}
	path := scaleDB(b)
	c, err := NewCipher(testKey("k1", 1))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{Driver: "sqlite", DSN: path, Cipher: c})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var deep uint64 // the id at 90% depth, newest first
	if err := s.sqlDB.QueryRow("SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET ?", scaleEvents/10).Scan(&deep); err != nil {
		b.Fatal(err)
	}
	user, route := uint(7), uint(5)
	// A day that holds the deep cursor, 17 hours into the week.
	day := scaleEnd.Add(-7*24*time.Hour + 12*time.Hour)
	filters := []struct {
		name string
		f    AuditFilter
	}{
		{"default", AuditFilter{}},
		{"user", AuditFilter{UserID: &user}},
		{"service_account", AuditFilter{ServiceAccount: "ci-3"}},
		{"route", AuditFilter{RouteID: &route}},
		{"tool", AuditFilter{ToolPrefix: "jira_search"}},
		{"tool_prefix", AuditFilter{ToolPrefix: "jira_"}},
		{"method", AuditFilter{MCPMethod: "tools/list"}},
		{"decision", AuditFilter{Decision: AuditDeny}},
		{"client", AuditFilter{ClientID: "https://client3.example.com/meta.json"}},
		{"kind", AuditFilter{Kind: AuditKindSignIn}},
		{"outcome_ok", AuditFilter{Outcome: AuditOutcomeOK}},
		{"outcome_rpc_error", AuditFilter{Outcome: AuditOutcomeRPCError}},
		{"outcome_tool_error", AuditFilter{Outcome: AuditOutcomeToolError}},
		{"outcome_http_error", AuditFilter{Outcome: AuditOutcomeHTTPError}},
		{"outcome_pending", AuditFilter{Outcome: AuditOutcomePending}},
		{"time_day", AuditFilter{From: day, To: day.Add(24 * time.Hour)}},
		{"text", AuditFilter{Text: scaleNeedle}},
	}
	for _, tt := range filters {
		for _, depth := range []struct {
			name   string
			before uint64
		}{{"newest", 0}, {"deep", deep}} {
			b.Run("page/"+tt.name+"/"+depth.name, func(b *testing.B) {
				var page AuditPage
				cpu := cpuTime()
				for b.Loop() {
					var err error
					if page, err = s.ListAuditEvents(ctx, tt.f, depth.before, 50); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(msPerOp(b), "ms/page")
				b.ReportMetric(cpuMsPerOp(b, cpu), "cpu-ms/page")
				b.ReportMetric(float64(len(page.Events)), "events")
				b.ReportMetric(map[bool]float64{true: 1}[page.Truncated], "truncated")
			})
		}
	}
	for _, window := range []struct {
		name   string
		since  time.Duration
		bucket time.Duration
	}{{"24h", 24 * time.Hour, time.Hour}, {"7d", 7 * 24 * time.Hour, time.Hour}} {
		b.Run("dashboard/"+window.name, func(b *testing.B) {
			var d AuditDashboard
			cpu := cpuTime()
			for b.Loop() {
				var err error
				if d, err = s.AuditDashboard(ctx, scaleEnd.Add(-window.since), window.bucket, scaleEnd); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(msPerOp(b), "ms/dashboard")
			b.ReportMetric(cpuMsPerOp(b, cpu), "cpu-ms/dashboard")
			b.ReportMetric(float64(d.Calls), "calls")
		})
	}
	b.Run("export/all", func(b *testing.B) {
		rows := 0
		var peak uint64
		var ms runtime.MemStats
		cpu := cpuTime()
		for b.Loop() {
			err := s.EachAuditEvent(ctx, AuditFilter{}, func(*AuditEvent) error {
				if rows++; rows%50_000 == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(rows)/(cpuTime()-cpu).Seconds(), "rows/cpu-s")
		b.ReportMetric(float64(peak)/(1<<20), "MiB-heap-peak")
	})
}

// msPerOp is the mean time of one op in milliseconds.
func msPerOp(b *testing.B) float64 {
	return float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
}

// cpuTime is the CPU time the process has used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMsPerOp is the mean CPU time of one op since start, in milliseconds.
func cpuMsPerOp(b *testing.B, start time.Duration) float64 {
	return float64((cpuTime() - start).Microseconds()) / 1000 / float64(b.N)
}

// The scale benchmark's data: a week of a busy deployment, seeded once
// and cached, since seeding takes a while and the benchmark only reads.
const (
	// scaleSeedVersion names the seeded data: change it whenever the seed
	// below or the schema of audit_events changes, and the cache is
	// rebuilt.
	scaleSeedVersion = "v1"
	scaleEvents      = 1_000_000
	scaleUsers       = 50
	scaleRoutes      = 20
	scaleToolsPer    = 10 // tools per route: 200 in all
	scaleClients     = 8
	scaleAccounts    = 10
	scaleWriters     = 2
)

// scaleEnd is the moment the seeded week ends: the benchmark's "now".
var scaleEnd = time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)

// scaleToolFamilies are the routes' tool prefixes, one per route.
var scaleToolFamilies = []string{
	"github_", "gitlab_", "jira_", "confluence_", "slack_", "teams_", "gmail_", "calendar_", "drive_", "notion_",
	"linear_", "sentry_", "datadog_", "pagerduty_", "postgres_", "mysql_", "s3_", "k8s_", "terraform_", "stripe_",
}

var scaleVerbs = []string{"list", "get", "search", "create", "update", "delete", "comment", "close", "assign", "export"}

// scaleTool is tool t of 200: family t/10, verb t%10.
func scaleTool(t int) string {
	return scaleToolFamilies[t/scaleToolsPer] + scaleVerbs[t%scaleToolsPer]
}

// scaleNeedle is a word in 1 event's arguments of every 10,000, for the
// text search.
const scaleNeedle = "quasar"

// scaleDB returns the path of a seeded database of scaleEvents events,
// from the cache under os.TempDir() when it holds one for this seed
// version and schema, or seeded there now (a minute or so).
func scaleDB(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("drawbridge-audit-scale-%s-schema%d.db", scaleSeedVersion, len(migrations)))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + fmt.Sprintf(".%d.tmp", os.Getpid())
	start := time.Now()
	if err := seedScaleDB(tmp); err != nil {
		os.Remove(tmp)
		tb.Fatalf("seed %s: %v", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seeded %d events into %s in %v", scaleEvents, path, time.Since(start).Round(time.Millisecond))
	return path
}

// seedScaleDB creates the schema through Open, then inserts the events
// with raw multi-row INSERTs, the audit indexes dropped meanwhile and
// rebuilt after (faster than keeping them up to date row by row). The
// hash chain is a dummy: each writer's seqs run 1, 2, 3…, but the hashes
// are placeholders, since verification is not what is measured. The
// file is left in rollback-journal mode: one file, no -wal beside it.
func seedScaleDB(path string) error {
	ctx := context.Background()
	c, err := NewCipher(testKey("k1", 1))
	if err != nil {
		return err
	}
	s, err := Open(ctx, Options{Driver: "sqlite", DSN: path, Cipher: c})
	if err != nil {
		return err
	}
	defer s.Close()
	db := s.sqlDB
	var indexes []string
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' AND sql IS NOT NULL`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			rows.Close()
			return err
		}
		names, indexes = append(names, name), append(indexes, ddl)
	}
	rows.Close()
	for _, n := range names {
		if _, err := db.Exec("DROP INDEX " + n); err != nil {
			return err
		}
	}
	if err := insertScaleEvents(ctx, db); err != nil {
		return err
	}
	for _, ddl := range indexes {
		if _, err := db.Exec(ddl); err != nil {
			return err
		}
	}
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// scaleColumns are the columns seeded: every one but id.
const scaleColumns = auditInsertColumns + ", status, rpc_error_code, is_error, duration_micros, response_bytes, outcome_at"

// insertScaleEvents inserts the events in transactions of 100,000, 1,000
// rows a statement (28,000 bound values, under SQLite's 32,766).
func insertScaleEvents(ctx context.Context, db *sql.DB) error {
	const perStmt, perTx, cols = 1000, 100_000, 27
	rnd := rand.New(rand.NewPCG(1, 2))
	users := rand.NewZipf(rnd, 1.2, 4, scaleUsers-1)
	tools := rand.NewZipf(rnd, 1.1, 8, scaleRoutes*scaleToolsPer-1)
	stmtSQL := "INSERT INTO audit_events (" + scaleColumns + ") VALUES " +
		strings.TrimSuffix(strings.Repeat("("+strings.TrimSuffix(strings.Repeat("?,", cols), ",")+"),", perStmt), ",")
	start := scaleEnd.Add(-7 * 24 * time.Hour)
	step := 7 * 24 * time.Hour / scaleEvents
	seqs := make([]uint64, scaleWriters)
	args := make([]any, 0, perStmt*cols)
	var tx *sql.Tx
	var stmt *sql.Stmt
	for n := range scaleEvents {
		if n%perTx == 0 {
			var err error
			if tx, err = db.BeginTx(ctx, nil); err != nil {
				return err
			}
			if stmt, err = tx.PrepareContext(ctx, stmtSQL); err != nil {
				return err
			}
		}
		at := dbTime(start.Add(time.Duration(n)*step + time.Duration(rnd.Int64N(int64(step)))))
		args = append(args, scaleEventRow(rnd, users, tools, n, at, seqs)...)
		if (n+1)%perStmt == 0 {
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return err
			}
			args = args[:0]
		}
		if (n+1)%perTx == 0 {
			stmt.Close()
			if err := tx.Commit(); err != nil {
				return err
			}
		}
	}
	if len(args) != 0 {
		return errors.New("scaleEvents must be a multiple of 100,000")
	}
	return nil
}

// scaleEventRow is event n's values, in scaleColumns' order. The mix:
// 85% tools/call, the rest other MCP methods, and 1% sign-ins and
// tokens; 5% denied and 0.5% undecidable; of the calls let through, 3%
// fail (an HTTP error, a JSON-RPC error or isError, 1% each) and 0.3%
// have no outcome (their process stopped). 10% act through a service
// account.
func scaleEventRow(rnd *rand.Rand, users, tools *rand.Zipf, n int, at time.Time, seqs []uint64) []any {
	w := n % scaleWriters
	seqs[w]++
	user := int(users.Uint64()) + 1
	tool := int(tools.Uint64())
	route := tool/scaleToolsPer + 1
	kind, method, toolName, args := AuditKindMCP, "tools/call", scaleTool(tool), ""
	switch p := rnd.IntN(1000); {
	case p < 850:
		needle := ""
		if rnd.IntN(10_000) == 0 {
			needle = " " + scaleNeedle
		}
		args = fmt.Sprintf(`{"repo":"acme/app-%d","query":"status:open label:bug%s","limit":%d,"token":"[redacted]"}`, rnd.IntN(500), needle, 10+rnd.IntN(90))
	case p < 930:
		method, toolName = "tools/list", ""
	case p < 960:
		method, toolName = "initialize", ""
	case p < 975:
		method, toolName, args = "resources/read", "", `{}`
	case p < 990:
		method, toolName = "notifications/initialized", ""
	case p < 995:
		kind, method, toolName = AuditKindSignIn, "", ""
	default:
		kind, method, toolName = AuditKindToken, "", ""
	}
	decision := AuditAllow
	switch p := rnd.IntN(1000); {
	case p < 50:
		decision = AuditDeny
	case p < 55:
		decision = AuditError
	}
	account := ""
	if rnd.IntN(10) == 0 {
		account = fmt.Sprintf("ci-%d", user%scaleAccounts)
	}
	var routeID, routeName any = route, fmt.Sprintf("route-%d", route)
	if kind != AuditKindMCP {
		routeID, routeName = nil, ""
	}
	var status, rpcCode, isError, duration, respBytes, outcomeAt any
	if kind == AuditKindMCP && decision == AuditAllow {
		switch p := rnd.IntN(1000); {
		case p < 3: // pending
		default:
			status, duration, respBytes = 200, 500+rnd.IntN(200_000), 100+rnd.IntN(20_000)
			outcomeAt = at.Add(time.Duration(duration.(int)) * time.Microsecond)
			switch {
			case p < 13:
				status = 502
			case p < 23:
				rpcCode = -32603
			case p < 33 && method == "tools/call":
				isError = true
			}
		}
	}
	return []any{
		at, kind, fmt.Sprintf("req-%d", n), fmt.Sprintf("gw-%d", w+1), seqs[w],
		fmt.Sprintf("%064x", n), fmt.Sprintf("%064x", n+1), user, fmt.Sprintf("user%d@example.com", user),
		account, fmt.Sprintf("https://client%d.example.com/meta.json", n%scaleClients), routeID, routeName,
		"POST", method, toolName, args, decision, `[{"policy":"company","block":"allow"}]`, 1 + n/20_000, "192.0.2.10",
		status, rpcCode, isError, duration, respBytes, outcomeAt,
	}
}
