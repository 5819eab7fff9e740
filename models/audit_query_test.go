package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestListAuditEventsFilters(t *testing.T) {
	s := newTestStore(t)
	all := seedQueryEvents(t, s, 400)
	for name, f := range queryFilters() {
		want := expectedIDs(all, f)
		if name != "tool none" && name != "tool case" && name != "text like chars" && len(want) == 0 {
			t.Errorf("%s: the seed has no event to find", name)
		}
		for _, limit := range []int{1, 7, 50, MaxAuditPage} {
			if got := pageAll(t, s, f, limit); !slices.Equal(got, want) {
				t.Errorf("%s, pages of %d: got %d events %v\nwant %d %v", name, limit, len(got), got, len(want), want)
			}
		}
	}
}

func TestListAuditEventsKeysetBoundaries(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	all := seedQueryEvents(t, s, 100)
	f := AuditFilter{Decision: AuditDeny}
	want := expectedIDs(all, f) // 5 events
	list := func(before uint64, limit int) AuditPage {
		t.Helper()
		page, err := s.ListAuditEvents(ctx, f, before, limit)
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	// A page exactly the size of what is left is the last.
	if page := list(0, len(want)); !slices.Equal(ids(page.Events), want) || page.Next != 0 {
		t.Errorf("page of exactly %d: %v next %d", len(want), ids(page.Events), page.Next)
	}
	// One short: the next page holds the last event alone, and ends.
	page := list(0, len(want)-1)
	if page.Next != want[len(want)-2] {
		t.Errorf("next = %d, want %d", page.Next, want[len(want)-2])
	}
	if last := list(page.Next, len(want)-1); !slices.Equal(ids(last.Events), want[len(want)-1:]) || last.Next != 0 {
		t.Errorf("last page: %v next %d", ids(last.Events), last.Next)
	}
	// A cursor whose event was deleted still pages from where it was.
	if err := s.db.Exec("DELETE FROM audit_events WHERE id = ?", want[1]).Error; err != nil {
		t.Fatal(err)
	}
	if page := list(want[1], 10); !slices.Equal(ids(page.Events), want[2:]) || page.Next != 0 {
		t.Errorf("before a deleted id: %v, want %v", ids(page.Events), want[2:])
	}
	// Past the oldest event: nothing, and no cursor.
	if page := list(all[len(all)-1].ID, 10); len(page.Events) != 0 || page.Next != 0 || page.Events == nil {
		t.Errorf("below the oldest: %+v", page)
	}
	// A cursor above every id is the newest page.
	if page := list(1<<62, 2); !slices.Equal(ids(page.Events), []uint64{want[0], want[2]}) {
		t.Errorf("before a huge id: %v", ids(page.Events))
	}
}

// TestListAuditEventsEqualTimes pages through events that share their
// at: the cursor is the id, so none is lost or repeated at a page edge,
// and a time filter's bounds take all or none of them.
func TestListAuditEventsEqualTimes(t *testing.T) {
	s := newTestStore(t)
	all := seedQueryEvents(t, s, 40) // pairs share their at
	if !all[0].At.Equal(all[1].At) {
		t.Fatalf("the seed's newest two events do not share their at: %v, %v", all[0].At, all[1].At)
	}
	if got := pageAll(t, s, AuditFilter{}, 3); !slices.Equal(got, ids(all)) {
		t.Errorf("pages of 3 across equal times: %v", got)
	}
	at := all[10].At
	for _, f := range []AuditFilter{{From: at}, {To: at}, {From: at, To: at.Add(time.Microsecond)}} {
		want := expectedIDs(all, f)
		if got := pageAll(t, s, f, 4); !slices.Equal(got, want) {
			t.Errorf("%+v: %v, want %v", f, got, want)
		}
	}
	if got := expectedIDs(all, AuditFilter{From: at, To: at.Add(time.Microsecond)}); len(got) != 2 {
		t.Errorf("the pair at %v is %d events", at, len(got))
	}
}

// TestListAuditEventsTimeSlack appends an event committed out of step
// with its time, as a writer that held it for a few seconds would: the
// time filter still finds it, though its id is past the range's.
func TestListAuditEventsTimeSlack(t *testing.T) {
	s := newTestStore(t)
	all := seedQueryEvents(t, s, 40)
	late := queryEvent(0)
	late.At = all[len(all)-1].At.Add(-5 * time.Second) // older than every other
	if err := s.AppendAuditEvents(context.Background(), "gw-slow", []*AuditEvent{late}); err != nil {
		t.Fatal(err)
	}
	f := AuditFilter{To: all[len(all)-1].At}
	if got := pageAll(t, s, f, 10); !slices.Equal(got, []uint64{late.ID}) {
		t.Errorf("events before the first: %v, want the late one %d", got, late.ID)
	}
}

// TestListAuditEventsScanBound lowers the bound on the rows a page
// examines to 30: text and outcome filters then stop there, say so,
// and carry on from where they stopped, together finding everything.
func TestListAuditEventsScanBound(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	all := seedQueryEvents(t, s, 400)
	tests := []struct {
		name string
		f    AuditFilter
		// window returns the events the first page examines.
		window func() []AuditEvent
	}{
		// No indexed filter: a window is 30 ids.
		{"text", AuditFilter{Text: "needle"}, func() []AuditEvent { return all[:30] }},
		// One indexed filter: a window is 30 of its events, counted on
		// its index.
		{"user text", AuditFilter{UserID: ptr(uint(2)), Text: "needle"}, func() []AuditEvent {
			return firstN(all, 30, func(e *AuditEvent) bool { return auditMatches(e, AuditFilter{UserID: ptr(uint(2))}) })
		}},
		{"tool error", AuditFilter{Outcome: AuditOutcomeToolError}, func() []AuditEvent {
			failed := func(e *AuditEvent) bool {
				return auditMatches(e, AuditFilter{Outcome: AuditOutcomeHTTPError}) || auditMatches(e, AuditFilter{Outcome: AuditOutcomeRPCError}) ||
					auditMatches(e, AuditFilter{Outcome: AuditOutcomeToolError})
			}
			return firstN(all, 30, failed)
		}},
		// Two indexed filters: 30 ids again.
		{"user deny", AuditFilter{UserID: ptr(uint(4)), Decision: AuditDeny}, func() []AuditEvent { return all[:30] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.listAuditEvents(ctx, tt.f, 0, 50, 30)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedIDs(tt.window(), tt.f)
			examined := tt.window()
			if !page.Truncated || !slices.Equal(ids(page.Events), want) || page.Next != examined[len(examined)-1].ID {
				t.Errorf("first page: %v truncated %v next %d; want %v, truncated, next %d",
					ids(page.Events), page.Truncated, page.Next, want, examined[len(examined)-1].ID)
			}
			var got []uint64
			for before, n := uint64(0), 0; n < 1000; n++ {
				page, err := s.listAuditEvents(ctx, tt.f, before, 3, 30)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ids(page.Events)...)
				if before = page.Next; before == 0 {
					break
				}
			}
			if want := expectedIDs(all, tt.f); !slices.Equal(got, want) {
				t.Errorf("all pages: %v, want %v", got, want)
			}
		})
	}
}

// firstN returns the first n events of evs that keep selects.
func firstN(evs []AuditEvent, n int, keep func(*AuditEvent) bool) []AuditEvent {
	var out []AuditEvent
	for i := range evs {
		if len(out) < n && keep(&evs[i]) {
			out = append(out, evs[i])
		}
	}
	return out
}

func TestAuditEventsAfter(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	all := seedQueryEvents(t, s, 200)
	for name, f := range queryFilters() {
		want := expectedIDs(all, f)
		slices.Reverse(want) // oldest first
		var got []uint64
		for after := uint64(0); ; {
			evs, err := s.AuditEventsAfter(ctx, f, after, 7)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(evs)...)
			if len(evs) < 7 {
				break
			}
			after = evs[len(evs)-1].ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	// A tail from the newest event sees only what comes next.
	head := all[0].ID
	next := appendEvents(t, s, "gw-1", 1000, 2)
	evs, err := s.AuditEventsAfter(ctx, AuditFilter{}, head, 10)
	if err != nil || !slices.Equal(ids(evs), []uint64{next[0].ID, next[1].ID}) {
		t.Errorf("after the head: %v, %v", ids(evs), err)
	}
}

func TestAuditFilterValidate(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	tests := []struct {
		f      AuditFilter
		fields []string
	}{
		{AuditFilter{Decision: "maybe"}, []string{"decision"}},
		{AuditFilter{Outcome: "fine"}, []string{"outcome"}},
		{AuditFilter{Kind: "coffee"}, []string{"kind"}},
		{AuditFilter{From: queryBase, To: queryBase}, []string{"to"}},
		{AuditFilter{Text: strings.Repeat("x", 1001), ToolPrefix: strings.Repeat("t", 256)}, []string{"tool_prefix", "text"}},
		{AuditFilter{Decision: "x", Outcome: "y", Kind: "z"}, []string{"decision", "outcome", "kind"}},
	}
	for _, tt := range tests {
		_, err := s.ListAuditEvents(ctx, tt.f, 0, 10)
		if got := invalidFields(t, err); !slices.Equal(got, tt.fields) {
			t.Errorf("%+v: fields %v, want %v", tt.f, got, tt.fields)
		}
		_, err = s.AuditEventsAfter(ctx, tt.f, 0, 10)
		if got := invalidFields(t, err); !slices.Equal(got, tt.fields) {
			t.Errorf("after, %+v: fields %v, want %v", tt.f, got, tt.fields)
		}
		err = s.EachAuditEvent(ctx, tt.f, func(*AuditEvent) error { return nil })
		if got := invalidFields(t, err); !slices.Equal(got, tt.fields) {
			t.Errorf("each, %+v: fields %v, want %v", tt.f, got, tt.fields)
		}
	}
	for _, limit := range []int{0, -1, MaxAuditPage + 1} {
		_, err := s.ListAuditEvents(ctx, AuditFilter{}, 0, limit)
		if got := invalidFields(t, err); !slices.Equal(got, []string{"limit"}) {
			t.Errorf("limit %d: %v", limit, err)
		}
	}
}

func TestAuditToolsWithPrefix(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	seedQueryEvents(t, s, 60)
	tests := []struct {
		prefix string
		max    int
		want   []string
	}{
		{"admin_", 10, []string{"admin_create", "admin_delete", "admin_list"}},
		{"admin_", 2, []string{"admin_create", "admin_delete"}},
		{"read_file", 10, []string{"read_file"}},
		{"", 100, queryTools},
		{"Admin", 10, []string{}},
		{"\xff", 10, []string{}},
	}
	for _, tt := range tests {
		got, err := s.AuditToolsWithPrefix(ctx, tt.prefix, tt.max)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("AuditToolsWithPrefix(%q, %d) = %q, %v; want %q", tt.prefix, tt.max, got, err, tt.want)
		}
	}
	if _, err := s.AuditToolsWithPrefix(ctx, "a", 0); !errors.As(err, new(*ValidationError)) {
		t.Errorf("max 0: %v", err)
	}
}

// TestAuditPrefixOfManyTools gives a prefix more tools than the plan
// lists by name: it is then checked row by row, with the same result.
func TestAuditPrefixOfManyTools(t *testing.T) {
	s := newTestStore(t)
	var evs []*AuditEvent
	for i := range 2 * maxAuditPrefixTools {
		e := testAuditEvent(i)
		e.Tool = fmt.Sprintf("bulk_%03d", i)
		if i%3 == 0 {
			e.Tool = fmt.Sprintf("other_%03d", i)
		}
		evs = append(evs, e)
	}
	if err := s.AppendAuditEvents(context.Background(), "gw", evs); err != nil {
		t.Fatal(err)
	}
	all := allAuditEvents(t, s)
	f := AuditFilter{ToolPrefix: "bulk_"}
	if want := expectedIDs(all, f); len(want) <= maxAuditPrefixTools || !slices.Equal(pageAll(t, s, f, 25), want) {
		t.Errorf("a prefix of %d tools pages differently from %v", len(want), want)
	}
}
