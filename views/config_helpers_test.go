package views

import (
	"testing"
	"time"
)

func TestDepthClass(t *testing.T) {
	for depth, want := range map[int]string{-1: "depth-0", 0: "depth-0", 3: "depth-3", 8: "depth-8", 12: "depth-8"} {
		if got := depthClass(depth); got != want {
			t.Errorf("depthClass(%d) = %q, want %q", depth, got, want)
		}
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 ms", 142 * time.Millisecond: "142 ms", 999 * time.Millisecond: "999 ms",
		time.Second: "1.0 s", 2400 * time.Millisecond: "2.4 s",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestErrorLinesAndPlaces(t *testing.T) {
	errs := []SourceError{{Line: 7, Column: 2}, {Line: 3}, {Line: 7, Column: 9}, {Message: "no position"}}
	if got := errorLines(errs); got != "7 3" {
		t.Errorf("errorLines = %q, want %q", got, "7 3")
	}
	for i, want := range []string{"Line 7, column 2", "Line 3", "Line 7, column 9", ""} {
		if got := sourceErrorPlace(errs[i]); got != want {
			t.Errorf("sourceErrorPlace(%+v) = %q, want %q", errs[i], got, want)
		}
	}
}

func TestDiffRowsNumberEachSide(t *testing.T) {
	rows := diffRows([]DiffLine{{Op: " "}, {Op: "-"}, {Op: "-"}, {Op: "+"}, {Op: " "}, {Op: "+"}})
	want := [][2]int{{1, 1}, {2, 0}, {3, 0}, {0, 2}, {4, 3}, {0, 4}}
	for i, r := range rows {
		if [2]int{r.Old, r.New} != want[i] {
			t.Errorf("row %d numbers = %d/%d, want %v", i, r.Old, r.New, want[i])
		}
	}
}

func TestConfigURLs(t *testing.T) {
	tests := []struct{ got, want string }{
		{presetURL("github"), "/admin/apps/new?preset=github"},
		{presetURL("a&b"), "/admin/apps/new?preset=a%26b"},
		{historyURL("route", "Git Hub"), "/admin/history?q=Git+Hub&resource=route"},
		{changeURL(41), "/admin/history/41"},
		{editURL("/admin/routes", 7), "/admin/routes/7"},
		{actionURL("/admin/policies", 3, "delete"), "/admin/policies/3/delete"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestLabels(t *testing.T) {
	for kind, want := range map[string]string{"mcp_server": "MCP server", "mcp_client": "MCP client", "http": "HTTP", "odd": "odd"} {
		if got := kindLabel(kind); got != want {
			t.Errorf("kindLabel(%q) = %q", kind, got)
		}
	}
	c := ChangeRow{Action: "delete", Resource: "upstream_app", ResourceName: "notion"}
	if got := changeTitle(c); got != "Deleted upstream app notion" {
		t.Errorf("changeTitle = %q", got)
	}
	if got := orUntitled("  ", "route"); got != "Untitled route" {
		t.Errorf("orUntitled = %q", got)
	}
	if got := monogram("élan"); got != "É" {
		t.Errorf("monogram = %q", got)
	}
	if got := monogram(""); got != "?" {
		t.Errorf("monogram of nothing = %q", got)
	}
}
