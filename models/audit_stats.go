package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"
)

// AuditBucket is one time bucket of the dashboard: the tools/call events
// in it, by decision.
type AuditBucket struct {
	Start time.Time `json:"start"`
	Allow int       `json:"allow"`
	Deny  int       `json:"deny"`
	Error int       `json:"error"`
}

// AuditCount is one line of a top list: a tool (Key its name, ID nil) or
// a user (Key the email of the user's newest event, ID the user's; both
// empty for calls made by no user).
type AuditCount struct {
	Key   string `json:"key"`
	ID    *uint  `json:"id,omitempty"`
	Count int    `json:"count"`
}

// RouteErrors is how many tools/call events a route had, and how many of
// them failed: an HTTP error, a JSON-RPC error or a result with isError
// (see AuditOutcomes). RouteName is the name of the route's newest event.
type RouteErrors struct {
	RouteID   *uint  `json:"route_id,omitempty"`
	RouteName string `json:"route_name"`
	Calls     int    `json:"calls"`
	Errors    int    `json:"errors"`
}

// AuditDashboard sums up the audit log since a moment.
type AuditDashboard struct {
	Since time.Time `json:"since"`
	// Buckets are the tools/call events per bucket, by decision, oldest
	// first, covering [Since, now).
	Buckets []AuditBucket `json:"buckets"`
	// TopTools and TopUsers are the 10 with the most tools/call events,
	// most first.
	TopTools []AuditCount `json:"top_tools"`
	TopUsers []AuditCount `json:"top_users"`
	// Denials counts every denied event: MCP requests of any method, and
	// the authorization server's refusals.
	Denials int `json:"denials"`
	// RouteErrors has every route with tools/call events, most errors
	// first.
	RouteErrors []RouteErrors `json:"route_errors"`
	// Calls is how many tools/call events there were.
	Calls int `json:"calls"`
}

// The dashboard's queries, each over an id range (TestAuditQueryPlans
// checks the index each walks).
const (
	auditBucketCallsSQL   = "SELECT COUNT(*) FROM audit_events WHERE mcp_method = ? AND id >= ? AND id < ?"
	auditBucketRefusedSQL = `SELECT decision, mcp_method AS mcp_method, COUNT(*) AS n FROM audit_events
		WHERE decision <> 'allow' AND id >= ? AND id < ? GROUP BY decision, mcp_method`
	auditCallsSQL = `SELECT user_id, route_id, tool, COUNT(*) AS n FROM audit_events
		WHERE mcp_method = ? AND id >= ? AND id < ? GROUP BY user_id, route_id, tool`
	auditFailedCountSQL = `SELECT route_id, mcp_method AS mcp_method, COUNT(*) AS n FROM audit_events
		WHERE ` + auditFailedSQL + ` AND id >= ? AND id < ? GROUP BY route_id, mcp_method`
)

// Bounds of AuditDashboard.
const (
	maxAuditBuckets = 1000
	auditTopN       = 10
	mcpToolsCall    = "tools/call"
)

// AuditDashboard counts the events in [since, now): tools/call events
// per bucket of the given length (the last one may be shorter) and by
// decision, the top tools and users, the denials, and the calls and
// errors per route.
//
// Time is turned into ids once: a seek on the at index per bucket edge
// (ids rise with time, so an event is counted in the bucket its id falls
// in, a moment off at most for one committed out of step). Every count
// then walks an index alone over an id range, never the table (see
// auditIndexesV8): per bucket, the tools/call entries of
// idx_audit_events_mcp_method and the refused ones of
// idx_audit_events_refused; once, idx_audit_events_calls in (user,
// route, tool) order, which gives the three top lists in one walk
// without a sort, and the failures of idx_audit_events_failed. The
// buckets and the rest run side by side, on two connections. The walk of
// the calls reads every tools/call entry, in the window or not, so its
// cost grows with the log kept, not the window shown: about 0.1 to 0.2 s
// per million (BenchmarkAuditScale).
func (s *Store) AuditDashboard(ctx context.Context, since time.Time, bucket time.Duration, now time.Time) (AuditDashboard, error) {
	var v ValidationError
	n := 0
	switch {
	case bucket < time.Second:
		v.Add("bucket", "must be at least a second")
	case !now.After(since):
		v.Add("since", "must be before now")
	default:
		n = int((now.Sub(since) + bucket - 1) / bucket)
		if n > maxAuditBuckets {
			v.Add("bucket", fmt.Sprintf("makes %d buckets; at most %d", n, maxAuditBuckets))
		}
	}
	if err := v.Err(); err != nil {
		return AuditDashboard{}, err
	}
	if err := s.settleAuditJournal(ctx); err != nil {
		return AuditDashboard{}, fmt.Errorf("models: audit dashboard: %w", err)
	}
	d, err := s.auditDashboard(ctx, since, bucket, now, n)
	if err != nil {
		return AuditDashboard{}, fmt.Errorf("models: audit dashboard: %w", err)
	}
	return d, nil
}

func (s *Store) auditDashboard(ctx context.Context, since time.Time, bucket time.Duration, now time.Time, n int) (AuditDashboard, error) {
	d := AuditDashboard{Since: since, Buckets: make([]AuditBucket, n), TopTools: []AuditCount{}, TopUsers: []AuditCount{}, RouteErrors: []RouteErrors{}}
	edges, err := auditBucketEdges(s.db.WithContext(ctx), since, bucket, now, n)
	if err != nil {
		return d, err
	}
	// The two halves read disjoint fields of d, each on a connection of
	// its own: SQLite serves readers side by side, and the walk of the
	// calls is the longer one by far.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.countBuckets(s.db.WithContext(gctx), since, bucket, edges) })
	g.Go(func() error { return d.countCalls(s.db.WithContext(gctx), edges[0], edges[n]) })
	return d, g.Wait()
}

// countBuckets fills the buckets, Calls and Denials, given the buckets'
// edges.
func (d *AuditDashboard) countBuckets(db *gorm.DB, since time.Time, bucket time.Duration, edges []int64) error {
	for i := range d.Buckets {
		b := &d.Buckets[i]
		b.Start = since.Add(time.Duration(i) * bucket)
		var calls int
		if err := db.Raw(auditBucketCallsSQL, mcpToolsCall, edges[i], edges[i+1]).Scan(&calls).Error; err != nil {
			return err
		}
		var refused []struct {
			Decision, MCPMethod string
			N                   int
		}
		if err := db.Raw(auditBucketRefusedSQL, edges[i], edges[i+1]).Scan(&refused).Error; err != nil {
			return err
		}
		for _, r := range refused {
			if r.Decision == AuditDeny {
				d.Denials += r.N
			}
			if r.MCPMethod != mcpToolsCall {
				continue
			}
			switch r.Decision {
			case AuditDeny:
				b.Deny += r.N
			case AuditError:
				b.Error += r.N
			}
		}
		b.Allow = calls - b.Deny - b.Error
		d.Calls += calls
	}
	return nil
}

// auditBucketEdges returns the n+1 ids that bound the buckets: edge i is
// the first event at or after bucket i's start, the last edge the first
// at or after now, and any edge no event reaches is one past the newest
// event, so that events appended meanwhile are not counted.
func auditBucketEdges(db *gorm.DB, since time.Time, bucket time.Duration, now time.Time, n int) ([]int64, error) {
	var head int64
	if err := db.Raw("SELECT COALESCE(MAX(id), 0) FROM audit_events").Scan(&head).Error; err != nil {
		return nil, err
	}
	edges := make([]int64, n+1)
	for i := range edges {
		t := since.Add(time.Duration(i) * bucket)
		if i == n {
			t = now
		}
		id, ok, err := firstAuditIDAt(db, t)
		if err != nil {
			return nil, err
		}
		if !ok || id > head {
			id = head + 1
		}
		if i > 0 {
			id = max(id, edges[i-1]) // an event out of step must not reverse an edge
		}
		edges[i] = id
	}
	return edges, nil
}

// countCalls fills the top lists and the routes' calls and errors from
// the tools/call events with ids in [lo, hi).
func (d *AuditDashboard) countCalls(db *gorm.DB, lo, hi int64) error {
	var groups []struct {
		UserID, RouteID *uint
		Tool            string
		N               int
	}
	if err := db.Raw(auditCallsSQL, mcpToolsCall, lo, hi).Scan(&groups).Error; err != nil {
		return err
	}
	tools := map[string]int{}
	users := map[uint]int{}
	noUser := 0
	routes := map[uint]*RouteErrors{}
	var noRoute *RouteErrors
	routeOf := func(id *uint) *RouteErrors {
		if id == nil {
			if noRoute == nil {
				noRoute = &RouteErrors{}
			}
			return noRoute
		}
		if routes[*id] == nil {
			routes[*id] = &RouteErrors{RouteID: id}
		}
		return routes[*id]
	}
	for _, g := range groups {
		tools[g.Tool] += g.N
		if g.UserID == nil {
			noUser += g.N
		} else {
			users[*g.UserID] += g.N
		}
		routeOf(g.RouteID).Calls += g.N
	}
	var failed []struct {
		RouteID   *uint
		MCPMethod string
		N         int
	}
	if err := db.Raw(auditFailedCountSQL, lo, hi).Scan(&failed).Error; err != nil {
		return err
	}
	for _, f := range failed {
		if f.MCPMethod == mcpToolsCall {
			routeOf(f.RouteID).Errors += f.N
		}
	}

	for tool, n := range tools {
		d.TopTools = append(d.TopTools, AuditCount{Key: tool, Count: n})
	}
	d.TopTools = topCounts(d.TopTools)
	for id, n := range users {
		email, err := newestAuditName(db, "user_email", "user_id", id, hi)
		if err != nil {
			return err
		}
		d.TopUsers = append(d.TopUsers, AuditCount{Key: email, ID: &id, Count: n})
	}
	if noUser > 0 {
		d.TopUsers = append(d.TopUsers, AuditCount{Count: noUser})
	}
	d.TopUsers = topCounts(d.TopUsers)
	for id, r := range routes {
		name, err := newestAuditName(db, "route_name", "route_id", id, hi)
		if err != nil {
			return err
		}
		r.RouteName = name
		d.RouteErrors = append(d.RouteErrors, *r)
	}
	if noRoute != nil {
		d.RouteErrors = append(d.RouteErrors, *noRoute)
	}
	slices.SortFunc(d.RouteErrors, func(a, b RouteErrors) int {
		return cmp.Or(cmp.Compare(b.Errors, a.Errors), cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.RouteName, b.RouteName))
	})
	return nil
}

// topCounts sorts counts, most first, then by key, and keeps the first
// auditTopN.
func topCounts(counts []AuditCount) []AuditCount {
	slices.SortFunc(counts, func(a, b AuditCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	return counts[:min(len(counts), auditTopN)]
}

// newestAuditName returns the name column of the newest event below hi
// whose idColumn is id: the name it had last. Both columns are trusted
// identifiers.
func newestAuditName(db *gorm.DB, nameColumn, idColumn string, id uint, hi int64) (string, error) {
	var names []string
	err := db.Raw("SELECT "+nameColumn+" FROM audit_events WHERE "+idColumn+" = ? AND id < ? ORDER BY id DESC LIMIT 1",
		id, hi).Scan(&names).Error
	if err != nil || len(names) == 0 {
		return "", err
	}
	return names[0], nil
}
