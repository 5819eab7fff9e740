package models

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The audit log's test data, shared by the tests of its queries, export,
// dashboard and retention.

// queryBase is the time of the first seeded event.
var queryBase = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

var queryTools = []string{"admin_create", "admin_delete", "admin_list", "read_dir", "read_file", "write_file"}

// seedQueryEvents appends n events with every filtered field varied, two
// writers interleaved in batches of 10, two events per second (pairs share
// their at), and outcomes recorded for the allowed MCP requests, and
// returns them as stored, newest first.
func seedQueryEvents(t *testing.T, s *Store, n int) []AuditEvent {
	t.Helper()
	ctx := context.Background()
	var outcomes []AuditOutcome
	for start := 0; start < n; start += 10 {
		var batch []*AuditEvent
		for i := start; i < min(start+10, n); i++ {
			batch = append(batch, queryEvent(i))
		}
		if err := s.AppendAuditEvents(ctx, fmt.Sprintf("gw-%d", start/10%2+1), batch); err != nil {
			t.Fatal(err)
		}
		for j, e := range batch {
			if o, ok := queryOutcome(start+j, e); ok {
				outcomes = append(outcomes, o)
			}
		}
	}
	if err := s.RecordAuditOutcomes(ctx, outcomes); err != nil {
		t.Fatal(err)
	}
	return allAuditEvents(t, s)
}

// queryEvent is the i-th seeded event.
func queryEvent(i int) *AuditEvent {
	e := &AuditEvent{
		At:        queryBase.Add(time.Duration(i/2) * time.Second),
		Kind:      AuditKindMCP,
		RequestID: fmt.Sprintf("req-%d", i),
		UserEmail: fmt.Sprintf("user%d@example.com", i%5+1),
		ClientID:  []string{"client-a", "client-b"}[i%2],
		Decision:  AuditAllow,
		Arguments: fmt.Sprintf(`{"path":"/srv/%d"}`, i),
	}
	if i%13 != 0 {
		user := uint(i%5 + 1)
		e.UserID = &user
	}
	if i%7 == 0 {
		e.ServiceAccount = "ci-bot"
	}
	route := uint(i%4 + 1)
	e.RouteID, e.RouteName = &route, fmt.Sprintf("route-%d", route)
	switch i % 10 {
	case 7:
		e.MCPMethod = "tools/list"
	case 8:
		e.MCPMethod = "initialize"
	case 9:
		e.Kind, e.RouteID, e.RouteName, e.Arguments = AuditKindSignIn, nil, "", ""
	default:
		e.MCPMethod, e.Tool = "tools/call", queryTools[i%len(queryTools)]
	}
	switch {
	case i%20 == 3:
		e.Decision = AuditDeny
	case i%50 == 11:
		e.Decision = AuditError
	}
	if i%37 == 5 {
		e.Arguments = fmt.Sprintf(`{"path":"/srv/%d","note":"the Secret-Needle is here"}`, i)
	}
	return e
}

// queryOutcome is the outcome of the i-th seeded event, if it has one:
// allowed MCP requests only, and not every ninth (pending).
func queryOutcome(i int, e *AuditEvent) (AuditOutcome, bool) {
	if e.Kind != AuditKindMCP || e.Decision != AuditAllow || i%9 == 0 {
		return AuditOutcome{}, false
	}
	o := AuditOutcome{ID: e.ID, Status: 200, Duration: time.Millisecond}
	yes, no, code := true, false, -32602
	switch i % 11 {
	case 1:
		o.Status = 502
	case 2:
		o.RPCErrorCode = &code
	case 3:
		o.IsError = &yes
	case 4:
		o.IsError = &no
	case 5:
		o.Status = 204
	}
	return o, true
}

// allAuditEvents reads every stored event, newest first.
func allAuditEvents(t *testing.T, s *Store) []AuditEvent {
	t.Helper()
	if err := s.settleAuditJournal(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := s.sqlDB.Query("SELECT " + auditSelectColumns + " FROM audit_events ORDER BY id DESC")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var e AuditEvent
		if err := scanAuditEvent(rows, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// auditMatches is AuditFilter's meaning, written out in Go.
func auditMatches(e *AuditEvent, f AuditFilter) bool {
	eqID := func(want, got *uint) bool { return want == nil || (got != nil && *got == *want) }
	eqStr := func(want, got string) bool { return want == "" || want == got }
	outcome := map[string]bool{
		"":                    true,
		AuditOutcomeOK:        e.Status != nil && *e.Status >= 200 && *e.Status < 300 && e.RPCErrorCode == nil && (e.IsError == nil || !*e.IsError),
		AuditOutcomeRPCError:  e.RPCErrorCode != nil,
		AuditOutcomeToolError: e.IsError != nil && *e.IsError,
		AuditOutcomeHTTPError: e.Status != nil && *e.Status >= 400,
		AuditOutcomePending:   e.OutcomeAt == nil,
	}[f.Outcome]
	return (f.From.IsZero() || !e.At.Before(f.From)) && (f.To.IsZero() || e.At.Before(f.To)) &&
		eqID(f.UserID, e.UserID) && eqID(f.RouteID, e.RouteID) && eqStr(f.ServiceAccount, e.ServiceAccount) &&
		(f.ToolPrefix == "" || strings.HasPrefix(e.Tool, f.ToolPrefix)) && eqStr(f.MCPMethod, e.MCPMethod) &&
		eqStr(f.Decision, e.Decision) && eqStr(f.ClientID, e.ClientID) && eqStr(f.Kind, e.Kind) && outcome &&
		strings.Contains(strings.ToLower(e.Arguments), strings.ToLower(strings.TrimSpace(f.Text)))
}

// expectedIDs are the ids of the events f selects, newest first.
func expectedIDs(all []AuditEvent, f AuditFilter) []uint64 {
	ids := []uint64{}
	for i := range all {
		if auditMatches(&all[i], f) {
			ids = append(ids, all[i].ID)
		}
	}
	return ids
}

func ids(evs []AuditEvent) []uint64 {
	out := []uint64{}
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// pageAll reads every page of f with limit, checking each page's shape,
// and returns the ids in order.
func pageAll(t *testing.T, s *Store, f AuditFilter, limit int) []uint64 {
	t.Helper()
	var got []uint64
	before := uint64(0)
	for range 10_000 {
		page, err := s.ListAuditEvents(context.Background(), f, before, limit)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if len(page.Events) > limit || page.Truncated {
			t.Fatalf("%+v: page of %d (limit %d), truncated %v", f, len(page.Events), limit, page.Truncated)
		}
		got = append(got, ids(page.Events)...)
		if page.Next == 0 {
			return got
		}
		if len(page.Events) != limit || page.Next != page.Events[limit-1].ID {
			t.Fatalf("%+v: a page of %d events with more to come, next %d", f, len(page.Events), page.Next)
		}
		before = page.Next
	}
	t.Fatalf("%+v: paging does not end", f)
	return nil
}

func ptr[T any](v T) *T { return &v }

// queryFilters are the filters every test below runs: each alone, then
// combined.
func queryFilters() map[string]AuditFilter {
	from, to := queryBase.Add(40*time.Second), queryBase.Add(170*time.Second)
	return map[string]AuditFilter{
		"none":              {},
		"user":              {UserID: ptr(uint(2))},
		"service account":   {ServiceAccount: "ci-bot"},
		"route":             {RouteID: ptr(uint(3))},
		"tool prefix":       {ToolPrefix: "admin_"},
		"tool prefix 2":     {ToolPrefix: "read_"},
		"tool exact":        {ToolPrefix: "read_file"},
		"tool none":         {ToolPrefix: "zzz"},
		"tool case":         {ToolPrefix: "Admin_"},
		"method":            {MCPMethod: "tools/list"},
		"deny":              {Decision: AuditDeny},
		"error":             {Decision: AuditError},
		"ok":                {Outcome: AuditOutcomeOK},
		"rpc error":         {Outcome: AuditOutcomeRPCError},
		"tool error":        {Outcome: AuditOutcomeToolError},
		"http error":        {Outcome: AuditOutcomeHTTPError},
		"pending":           {Outcome: AuditOutcomePending},
		"client":            {ClientID: "client-b"},
		"kind":              {Kind: AuditKindSignIn},
		"text":              {Text: "  secret-NEEDLE "},
		"text like chars":   {Text: `%_\`},
		"from":              {From: from},
		"to":                {To: to},
		"from to":           {From: from, To: to},
		"user deny":         {UserID: ptr(uint(4)), Decision: AuditDeny},
		"prefix user":       {ToolPrefix: "admin_", UserID: ptr(uint(1))},
		"text route":        {Text: "needle", RouteID: ptr(uint(2))},
		"outcome user":      {Outcome: AuditOutcomeHTTPError, UserID: ptr(uint(4))},
		"range prefix fail": {From: from, To: to, ToolPrefix: "read_", Outcome: AuditOutcomeToolError},
		"everything":        {From: from, To: to, UserID: ptr(uint(3)), RouteID: ptr(uint(3)), MCPMethod: "tools/call", Decision: AuditAllow, ClientID: "client-a", Kind: AuditKindMCP, Outcome: AuditOutcomeOK},
	}
}
