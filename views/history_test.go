package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func historyProps() HistoryProps {
	return HistoryProps{
		Page:       page(SectionHistory, adminViewer()),
		Resources:  []Option{{Value: "route", Label: "Routes"}, {Value: "policy", Label: "Policies"}, {Value: "upstream_app", Label: "Upstream apps"}, {Value: "user", Label: "Users"}},
		Changes:    sampleChanges(),
		Pagination: Pagination{Page: 1, PerPage: 50, Total: 4},
	}
}

func TestHistoryTableRows(t *testing.T) {
	doc, _ := render(t, HistoryPage(historyProps()))
	rows := doc.Find(testid("history-table") + " " + testid("change-row"))
	if rows.Length() != 4 {
		t.Fatalf("%d rows, want 4", rows.Length())
	}
	tests := []struct {
		action, badge, kind, name, href, actor string
	}{
		{"update", "Updated", "Route", "GitHub", "/admin/routes/1", "alice@company.com"},
		{"create", "Created", "Policy", "no-admin-tools", "/admin/policies/3", "alice@company.com"},
		{"delete", "Deleted", "Upstream app", "notion", "", "carol@company.com"},
		{"update", "Updated", "User", hostile, "/admin/users", hostile},
	}
	rows.Each(func(i int, row *goquery.Selection) {
		tt := tests[i]
		if a, _ := row.Attr("data-action"); a != tt.action {
			t.Errorf("row %d data-action = %q", i, a)
		}
		if got := text(row.Find(testid("action-badge"))); got != tt.badge {
			t.Errorf("row %d badge = %q, want %q", i, got, tt.badge)
		}
		if got := text(row.Find(".change-kind")); got != tt.kind {
			t.Errorf("row %d kind = %q, want %q", i, got, tt.kind)
		}
		res := row.Find(testid("change-resource"))
		if text(res) != tt.name {
			t.Errorf("row %d resource = %q, want %q", i, text(res), tt.name)
		}
		// A deleted object has nowhere to link to.
		href, isLink := res.Attr("href")
		if tt.href == "" && (isLink || res.Is("a")) {
			t.Errorf("row %d links a deleted object to %q", i, href)
		}
		if tt.href != "" && href != tt.href {
			t.Errorf("row %d resource links to %q, want %q", i, href, tt.href)
		}
		if got := text(row.Find(testid("change-actor"))); got != tt.actor {
			t.Errorf("row %d actor = %q", i, got)
		}
		id, _ := row.Attr("data-change-id")
		if v, _ := row.Find("a" + testid("change-view")).Attr("href"); v != "/admin/history/"+id {
			t.Errorf("row %d view links to %q", i, v)
		}
	})
	if dt, _ := rows.First().Find("time").Attr("datetime"); dt != "2026-03-04T10:22:00Z" {
		t.Errorf("datetime = %q", dt)
	}
	if got := text(rows.First().Find("time")); got != "4 Mar 2026 10:22 UTC" {
		t.Errorf("time = %q", got)
	}
	mustOne(t, doc, testid("pagination"))
}

func TestHistoryFilters(t *testing.T) {
	p := historyProps()
	p.Resource, p.Actor, p.Query = "policy", "bob@company.com", "company"
	doc, _ := render(t, HistoryPage(p))
	form := mustOne(t, doc, "form"+testid("history-filter"))
	if m, _ := form.Attr("method"); m != "get" {
		t.Errorf("filter method = %q", m)
	}
	if a, _ := form.Attr("action"); a != "/admin/history" {
		t.Errorf("filter action = %q", a)
	}
	opts := form.Find(`select[name="resource"] option`)
	if opts.Length() != 5 {
		t.Errorf("%d kinds, want all and 4", opts.Length())
	}
	if v, _ := opts.First().Attr("value"); v != "" {
		t.Errorf("first kind = %q, want all", v)
	}
	if v, _ := opts.Filter("[selected]").Attr("value"); v != "policy" {
		t.Errorf("selected kind = %q", v)
	}
	for name, want := range map[string]string{"actor": "bob@company.com", "q": "company"} {
		in := form.Find(`input[name="` + name + `"]`)
		if v, _ := in.Attr("value"); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
		id, _ := in.Attr("id")
		mustOne(t, doc, `label[for="`+id+`"]`)
	}
	if href, _ := mustOne(t, doc, testid("clear-filters")).Attr("href"); href != "/admin/history" {
		t.Errorf("clear href = %q", href)
	}

	doc, _ = render(t, HistoryPage(historyProps()))
	if doc.Find(testid("clear-filters")).Length() != 0 {
		t.Error("clear offered with no filter")
	}
}

func TestHistoryEmptyStates(t *testing.T) {
	p := historyProps()
	p.Changes = nil
	doc, _ := render(t, HistoryPage(p))
	if got := text(mustOne(t, doc, testid("empty-state"))); !strings.Contains(got, "No changes yet") {
		t.Errorf("empty state = %q", got)
	}
	if doc.Find(testid("history-table")).Length() != 0 {
		t.Error("empty table rendered")
	}
	p.Actor = "zed"
	doc, _ = render(t, HistoryPage(p))
	if got := text(mustOne(t, doc, testid("empty-state"))); !strings.Contains(got, "No changes match these filters") {
		t.Errorf("filtered empty state = %q", got)
	}
	mustOne(t, doc, testid("clear-filters-empty"))
}

func TestChangePageDiff(t *testing.T) {
	doc, _ := render(t, ChangePage(ChangeProps{
		Page:   page(SectionHistory, adminViewer()),
		Change: sampleChanges()[0],
		Diff: []DiffLine{
			{Op: " ", Text: "name: GitHub"},
			{Op: "-", Text: "to: http://127.0.0.1:9000/mcp"},
			{Op: "+", Text: "to: http://127.0.0.1:9001/mcp"},
			{Op: "+", Text: "  - no-admin-tools"},
			{Op: " ", Text: "enabled: true"},
		},
	}))
	if got := text(mustOne(t, doc, "h1")); got != "Updated route GitHub" {
		t.Errorf("heading = %q", got)
	}
	if href, _ := mustOne(t, doc, testid("open-resource")).Attr("href"); href != "/admin/routes/1" {
		t.Errorf("open link = %q", href)
	}
	meta := mustOne(t, doc, testid("change-meta"))
	if got := text(meta.Find(testid("change-actor"))); got != "alice@company.com" {
		t.Errorf("actor = %q", got)
	}
	if got := text(meta.Find(testid("change-at"))); got != "4 Mar 2026 10:22 UTC" {
		t.Errorf("at = %q", got)
	}
	lines := doc.Find(testid("diff") + " " + testid("diff-line"))
	want := []struct {
		op, tag, text, old, new string
	}{
		{" ", "div", "name: GitHub", "1", "1"},
		{"-", "del", "to: http://127.0.0.1:9000/mcp", "2", ""},
		{"+", "ins", "to: http://127.0.0.1:9001/mcp", "", "2"},
		{"+", "ins", "  - no-admin-tools", "", "3"},
		{" ", "div", "enabled: true", "3", "4"},
	}
	if lines.Length() != len(want) {
		t.Fatalf("%d diff lines, want %d", lines.Length(), len(want))
	}
	lines.Each(func(i int, l *goquery.Selection) {
		w := want[i]
		if op, _ := l.Attr("data-op"); op != w.op {
			t.Errorf("line %d data-op = %q, want %q", i, op, w.op)
		}
		if goquery.NodeName(l) != w.tag {
			t.Errorf("line %d is <%s>, want <%s>", i, goquery.NodeName(l), w.tag)
		}
		if got := l.Find(".diff-text").Text(); got != w.text {
			t.Errorf("line %d text = %q, want %q", i, got, w.text)
		}
		nums := l.Find(".diff-num")
		if o, n := text(nums.Eq(0)), text(nums.Eq(1)); o != w.old || n != w.new {
			t.Errorf("line %d numbers = %q/%q, want %q/%q", i, o, n, w.old, w.new)
		}
	})
	if !lines.Eq(1).HasClass("diff-del") || !lines.Eq(2).HasClass("diff-add") || lines.Eq(0).HasClass("diff-add") {
		t.Error("added and removed lines not marked for colour")
	}
	if got := text(mustOne(t, doc, testid("diff-stat"))); !strings.HasPrefix(got, "+2 −1") {
		t.Errorf("diff stat = %q", got)
	}
	if doc.Find(testid("no-diff")).Length() != 0 {
		t.Error("no-diff note shown with a diff")
	}
}

func TestChangePageWithoutDifferences(t *testing.T) {
	deleted := sampleChanges()[2]
	for name, diff := range map[string][]DiffLine{"empty": nil, "unchanged": {{Op: " ", Text: "name: x"}}} {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, ChangePage(ChangeProps{Page: page(SectionHistory, adminViewer()), Change: deleted, Diff: diff}))
			if got := text(mustOne(t, doc, testid("no-diff"))); !strings.HasPrefix(got, "No differences") {
				t.Errorf("no-diff = %q", got)
			}
			if doc.Find(testid("diff-line")+", "+testid("diff-stat")).Length() != 0 {
				t.Error("diff shown without differences")
			}
			// The object is gone: no link to it.
			if doc.Find(testid("open-resource")).Length() != 0 || doc.Find("a"+testid("change-resource")).Length() != 0 {
				t.Error("deleted object linked")
			}
			if !strings.Contains(text(mustOne(t, doc, testid("change-meta"))), "notion (deleted)") {
				t.Error("deleted object not marked as deleted")
			}
		})
	}
}
