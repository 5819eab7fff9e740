package models

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"testing"
	"time"
)

// TestAuditDashboard compares the dashboard with the same numbers counted
// here, in Go, from every stored event.
func TestAuditDashboard(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	seedQueryEvents(t, s, 400) // at from queryBase to +199.5 s
	// User 1's newest event, under a new address; then one after now.
	renamed := queryEvent(5) // user 1, route 2
	renamed.At, renamed.UserEmail, renamed.RouteName = queryBase.Add(200*time.Second), "renamed@example.com", "route-2-renamed"
	later := queryEvent(1)
	later.At, later.UserEmail = queryBase.Add(300*time.Second), "later@example.com"
	if err := s.AppendAuditEvents(ctx, "gw-1", []*AuditEvent{renamed, later}); err != nil {
		t.Fatal(err)
	}
	all := allAuditEvents(t, s)

	since, now, bucket := queryBase.Add(20*time.Second), queryBase.Add(205*time.Second), 30*time.Second
	got, err := s.AuditDashboard(ctx, since, bucket, now)
	if err != nil {
		t.Fatal(err)
	}
	want := dashboardInGo(all, since, bucket, now)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dashboard\n%+v\nwant\n%+v", got, want)
	}
	if len(got.Buckets) != 7 || got.Calls == 0 || got.Denials == 0 || got.Buckets[0].Error == 0 || len(got.TopTools) != len(queryTools) ||
		got.TopUsers[0].Key != "renamed@example.com" && got.TopUsers[1].Key != "renamed@example.com" {
		t.Errorf("the seed does not exercise the dashboard: %+v", got)
	}
	errs := 0
	for _, r := range got.RouteErrors {
		errs += r.Errors
	}
	if errs == 0 {
		t.Error("no route has errors")
	}

	// A window before every event, and an empty log.
	got, err = s.AuditDashboard(ctx, queryBase.Add(-time.Hour), time.Hour, queryBase)
	if err != nil || len(got.Buckets) != 1 || got.Buckets[0] != (AuditBucket{Start: queryBase.Add(-time.Hour)}) || got.Calls != 0 ||
		len(got.TopTools) != 0 || len(got.RouteErrors) != 0 {
		t.Errorf("before every event: %+v, %v", got, err)
	}
	empty := newTestStore(t)
	if got, err := empty.AuditDashboard(ctx, since, bucket, now); err != nil || got.Calls != 0 || len(got.Buckets) != 7 {
		t.Errorf("empty log: %+v, %v", got, err)
	}
}

// dashboardInGo is AuditDashboard's meaning, written out in Go.
func dashboardInGo(all []AuditEvent, since time.Time, bucket time.Duration, now time.Time) AuditDashboard {
	n := int((now.Sub(since) + bucket - 1) / bucket)
	d := AuditDashboard{Since: since, Buckets: make([]AuditBucket, n), TopTools: []AuditCount{}, TopUsers: []AuditCount{}, RouteErrors: []RouteErrors{}}
	for i := range d.Buckets {
		d.Buckets[i].Start = since.Add(time.Duration(i) * bucket)
	}
	tools, users, routes, noUser := map[string]int{}, map[uint]int{}, map[uint]*RouteErrors{}, 0
	newest := func(match func(*AuditEvent) bool) *AuditEvent { // all is newest first
		for i := range all {
			if all[i].At.Before(now) && match(&all[i]) {
				return &all[i]
			}
		}
		return nil
	}
	for i := range all {
		e := &all[i]
		if e.At.Before(since) || !e.At.Before(now) {
			continue
		}
		if e.Decision == AuditDeny {
			d.Denials++
		}
		if e.MCPMethod != mcpToolsCall {
			continue
		}
		d.Calls++
		b := &d.Buckets[e.At.Sub(since)/bucket]
		switch e.Decision {
		case AuditAllow:
			b.Allow++
		case AuditDeny:
			b.Deny++
		case AuditError:
			b.Error++
		}
		tools[e.Tool]++
		if e.UserID == nil {
			noUser++
		} else {
			users[*e.UserID]++
		}
		r := routes[*e.RouteID]
		if r == nil {
			r = &RouteErrors{RouteID: e.RouteID, RouteName: newest(func(x *AuditEvent) bool { return x.RouteID != nil && *x.RouteID == *e.RouteID }).RouteName}
			routes[*e.RouteID] = r
		}
		r.Calls++
		failed := AuditFilter{}
		for _, o := range []string{AuditOutcomeHTTPError, AuditOutcomeRPCError, AuditOutcomeToolError} {
			if failed.Outcome = o; auditMatches(e, failed) {
				r.Errors++
				break
			}
		}
	}
	for tool, n := range tools {
		d.TopTools = append(d.TopTools, AuditCount{Key: tool, Count: n})
	}
	for id, n := range users {
		email := newest(func(x *AuditEvent) bool { return x.UserID != nil && *x.UserID == id }).UserEmail
		d.TopUsers = append(d.TopUsers, AuditCount{Key: email, ID: &id, Count: n})
	}
	if noUser > 0 {
		d.TopUsers = append(d.TopUsers, AuditCount{Count: noUser})
	}
	for _, list := range [][]AuditCount{d.TopTools, d.TopUsers} {
		slices.SortFunc(list, func(a, b AuditCount) int { return cmp.Or(b.Count-a.Count, cmp.Compare(a.Key, b.Key)) })
	}
	d.TopTools, d.TopUsers = d.TopTools[:min(10, len(d.TopTools))], d.TopUsers[:min(10, len(d.TopUsers))]
	for _, r := range routes {
		d.RouteErrors = append(d.RouteErrors, *r)
	}
	slices.SortFunc(d.RouteErrors, func(a, b RouteErrors) int {
		return cmp.Or(b.Errors-a.Errors, b.Calls-a.Calls, cmp.Compare(a.RouteName, b.RouteName))
	})
	return d
}

func TestAuditDashboardValidates(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	tests := []struct {
		since, now time.Time
		bucket     time.Duration
		field      string
	}{
		{queryBase, queryBase.Add(time.Hour), 0, "bucket"},
		{queryBase, queryBase.Add(time.Hour), time.Millisecond, "bucket"},
		{queryBase, queryBase, time.Minute, "since"},
		{queryBase.Add(time.Hour), queryBase, time.Minute, "since"},
		{queryBase, queryBase.Add(1001 * time.Second), time.Second, "bucket"},
	}
	for _, tt := range tests {
		_, err := s.AuditDashboard(ctx, tt.since, tt.bucket, tt.now)
		if got := invalidFields(t, err); !slices.Equal(got, []string{tt.field}) {
			t.Errorf("since %v, bucket %v, now %v: %v, want a bad %s", tt.since, tt.bucket, tt.now, err, tt.field)
		}
	}
	if _, err := s.AuditDashboard(ctx, queryBase, time.Second, queryBase.Add(1000*time.Second)); err != nil {
		t.Errorf("1,000 buckets: %v", err)
	}
}
