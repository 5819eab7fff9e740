package views

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// sampleChart has a tallest bar, a bar half as tall, one of zero and one
// with a part of zero.
func sampleChart(h string) StackedBarChart {
	return StackedBarChart{
		ID: "test-chart", Title: h, Desc: h, Empty: "Nothing",
		Series: activitySeries,
		Bars: []ChartBar{
			{Label: "00:00", Title: "first " + h, Values: []int{60, 30, 10}, URL: "/admin/audit?b=0"},
			{Title: "second", Values: []int{50, 0, 0}, URL: "/admin/audit?b=1"},
			{Label: "02:00", Title: "third", Values: []int{0, 0, 0}, URL: "/admin/audit?b=2"},
			{Title: "fourth", Values: []int{1000, 200, 4}, URL: "/admin/audit?b=3"},
		},
	}
}

// attrFloat reads a number attribute, failing the test if it is not one.
func attrFloat(t *testing.T, s *goquery.Selection, name string) float64 {
	t.Helper()
	v, _ := s.Attr(name)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return f
}

// barHeight is the drawn height of one bar: the sum of its parts.
func barHeight(t *testing.T, bar *goquery.Selection) float64 {
	t.Helper()
	h := 0.0
	bar.Find("rect.chart-seg").Each(func(_ int, r *goquery.Selection) { h += attrFloat(t, r, "height") })
	return h
}

func TestStackedBarsHeightsAreProportional(t *testing.T) {
	c := sampleChart("x")
	c.Bars[3].Values = []int{100, 50, 50} // the tallest: 200
	doc, _ := render(t, StackedBars(c))
	bars := doc.Find("svg " + testid("chart-bar"))
	// The bar of zero is not drawn.
	if bars.Length() != 3 {
		t.Fatalf("%d bars, want 3", bars.Length())
	}
	plot := chartPlotBottom - chartPlotTop
	wantTotals := []float64{100, 50, 200}
	for i, want := range wantTotals {
		bar := bars.Eq(i)
		if got := barHeight(t, bar); math.Abs(got-plot*want/200) > 0.02 {
			t.Errorf("bar %d height %.2f, want %.2f", i, got, plot*want/200)
		}
		// The parts stack from the baseline up, without gaps.
		bottom := chartPlotBottom
		bar.Find("rect.chart-seg").Each(func(_ int, r *goquery.Selection) {
			y, h := attrFloat(t, r, "y"), attrFloat(t, r, "height")
			if math.Abs(y+h-bottom) > 0.02 {
				t.Errorf("bar %d: part at %.2f+%.2f does not sit on %.2f", i, y, h, bottom)
			}
			bottom = y
		})
	}
	// The tallest reaches the top of the plot exactly.
	if got := barHeight(t, bars.Eq(2)); got != plot {
		t.Errorf("tallest bar %.2f, want the full %.2f", got, plot)
	}
	if top := attrFloat(t, bars.Eq(2).Find("rect.chart-seg").Last(), "y"); top != chartPlotTop {
		t.Errorf("tallest bar's top at %.2f, want %.2f", top, chartPlotTop)
	}
	// Parts of zero are not drawn; each part says what it is.
	second := bars.Eq(1).Find("rect.chart-seg")
	if second.Length() != 1 || !second.HasClass("series-allow") {
		t.Errorf("second bar: %d parts", second.Length())
	}
	first := bars.Eq(0).Find("rect.chart-seg")
	for i, want := range []string{"series-allow", "series-deny", "series-error"} {
		if !first.Eq(i).HasClass(want) {
			t.Errorf("part %d is not %s", i, want)
		}
	}
	if h0, h1 := attrFloat(t, first.Eq(0), "height"), attrFloat(t, first.Eq(1), "height"); math.Abs(h0/h1-2) > 0.01 {
		t.Errorf("60 and 30 drawn %.2f and %.2f high", h0, h1)
	}
}

func TestStackedBarsLinksTitlesAndTable(t *testing.T) {
	c := sampleChart("x")
	doc, _ := render(t, StackedBars(c))
	bars := doc.Find("svg a" + testid("chart-bar"))
	wantURLs := []string{"/admin/audit?b=0", "/admin/audit?b=1", "/admin/audit?b=3"}
	wantTitles := []string{"first x: allowed 60, denied 30, errors 10", "second: allowed 50, denied 0, errors 0", "fourth: allowed 1,000, denied 200, errors 4"}
	if bars.Length() != len(wantURLs) {
		t.Fatalf("%d bar links", bars.Length())
	}
	bars.Each(func(i int, a *goquery.Selection) {
		if href, _ := a.Attr("href"); href != wantURLs[i] {
			t.Errorf("bar %d links to %q", i, href)
		}
		if ti, _ := a.Attr("tabindex"); ti != "-1" {
			t.Errorf("bar %d is in the tab order", i)
		}
		if got := a.ChildrenFiltered("title").Text(); got != wantTitles[i] {
			t.Errorf("bar %d title %q, want %q", i, got, wantTitles[i])
		}
	})
	// A part too thin to see is drawn anyway: 4 of 1,204.
	if h := attrFloat(t, bars.Eq(2).Find("rect.series-error"), "height"); h < chartMinSegment {
		t.Errorf("4 errors drawn %.2f high", h)
	}
	if got := barHeight(t, bars.Eq(2)); got != chartPlotBottom-chartPlotTop {
		t.Errorf("tallest bar %.2f high after the thin part", got)
	}

	svg := mustOne(t, doc, "svg"+testid("chart-svg"))
	if r, _ := svg.Attr("role"); r != "img" {
		t.Errorf("role %q", r)
	}
	labelled, _ := svg.Attr("aria-labelledby")
	ids := strings.Fields(labelled)
	if len(ids) != 2 || mustOne(t, doc, "#"+ids[0]).Is("title") == false || mustOne(t, doc, "#"+ids[1]).Is("desc") == false {
		t.Errorf("aria-labelledby %q does not name the title and description", labelled)
	}
	var labels []string
	doc.Find(testid("chart-xlabel")).Each(func(_ int, s *goquery.Selection) { labels = append(labels, s.Text()) })
	if strings.Join(labels, " ") != "00:00 02:00" {
		t.Errorf("x labels %q", labels)
	}
	var ylabels []string
	doc.Find(testid("chart-ylabel")).Each(func(_ int, s *goquery.Selection) { ylabels = append(ylabels, s.Text()) })
	if strings.Join(ylabels, " ") != "1,204 602" {
		t.Errorf("y labels %q", ylabels)
	}

	// The table has every bar, the zero one too, with its link.
	rows := mustOne(t, doc, testid("chart-table")+" tbody").Find("tr")
	if rows.Length() != 4 {
		t.Fatalf("%d table rows", rows.Length())
	}
	if got := cells(rows.Eq(0)); got != "first x | 60 | 30 | 10 | 100" {
		t.Errorf("first row %q", got)
	}
	if href, _ := rows.Eq(2).Find("a").Attr("href"); href != "/admin/audit?b=2" {
		t.Errorf("zero row links to %q", href)
	}
	if doc.Find(testid("chart-empty")).Length() != 0 {
		t.Error("empty message over bars")
	}
}

func TestStackedBarsEmptyAndHostile(t *testing.T) {
	c := sampleChart(hostile)
	for i := range c.Bars {
		c.Bars[i].Values = []int{0, 0, 0}
	}
	c.Bars[0].URL = "javascript:alert(1)"
	doc, html := render(t, StackedBars(c))
	if doc.Find(testid("chart-bar")).Length() != 0 {
		t.Error("bars drawn for zeros")
	}
	if got := text(mustOne(t, doc, testid("chart-empty"))); got != "Nothing" {
		t.Errorf("empty text %q", got)
	}
	if strings.Contains(html, "<script") {
		t.Error("hostile text rendered as markup")
	}
	if got := mustOne(t, doc, "svg title").Text(); got != hostile {
		t.Errorf("svg title %q", got)
	}
	if strings.Contains(html, `href="javascript`) {
		t.Error("script URL kept as a link")
	}

	c.Bars[0].Values = []int{1, 0, 0}
	doc, html = render(t, StackedBars(c))
	if got := mustOne(t, doc, "svg a title").Text(); got != "first "+hostile+": allowed 1, denied 0, errors 0" {
		t.Errorf("bar title %q", got)
	}
	if !strings.Contains(html, "first &lt;script&gt;alert(1)&lt;/script&gt;@x: allowed 1") {
		t.Error("bar title not escaped")
	}
}

func TestSegmentHeights(t *testing.T) {
	got := segmentHeights([]int{1000, 0, 1}, 100, 1001)
	if got[1] != 0 || got[2] != chartMinSegment || math.Abs(got[0]+got[2]-100) > 1e-9 {
		t.Errorf("segmentHeights = %v", got)
	}
}

func TestRankedBars(t *testing.T) {
	items := []RankedCount{{Label: "create_issue", Count: 400, URL: "/admin/audit?tool=create_issue"}, {Label: hostile, Count: 100, URL: "/admin/audit?tool=x"}, {Label: "none", Count: 0}}
	doc, html := render(t, RankedBars("top-tools", "Top tools", items, "Nothing yet"))
	lines := mustOne(t, doc, "ol"+testid("top-tools")).Find(testid("rank-item"))
	if lines.Length() != 3 {
		t.Fatalf("%d lines", lines.Length())
	}
	if href, _ := lines.Eq(0).Attr("href"); href != items[0].URL {
		t.Errorf("first links to %q", href)
	}
	if lines.Eq(2).Is("a") {
		t.Error("line without a URL is a link")
	}
	for i, want := range []string{"100%", "25%"} {
		if w, _ := lines.Eq(i).Find(testid("meter-fill")).Attr("width"); w != want {
			t.Errorf("line %d bar %q, want %q", i, w, want)
		}
	}
	if lines.Eq(2).Find(testid("meter-fill")).Length() != 0 {
		t.Error("bar drawn for zero")
	}
	if got := text(lines.Eq(1)); got != hostile+" 100" {
		t.Errorf("hostile line %q", got)
	}
	if strings.Contains(html, "<script") {
		t.Error("hostile label rendered as markup")
	}
	doc, _ = render(t, RankedBars("top-tools", "Top tools", nil, "Nothing yet"))
	if got := text(mustOne(t, doc, testid("top-tools-empty"))); got != "Nothing yet" {
		t.Errorf("empty = %q", got)
	}
}

func TestAxisLabels(t *testing.T) {
	buckets := func(start time.Time, step time.Duration, n int) []ActivityBucket {
		bs := make([]ActivityBucket, n)
		for i := range bs {
			bs[i].Start = start.Add(time.Duration(i) * step)
		}
		return bs
	}
	nonEmpty := func(ls []string) string {
		var out []string
		for _, l := range ls {
			if l != "" {
				out = append(out, l)
			}
		}
		return strings.Join(out, " ")
	}
	day := buckets(time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC), time.Hour, 24)
	if got := nonEmpty(axisLabels(day, bucketStep(day))); got != "16:00 20:00 2 Mar 04:00 08:00 12:00" {
		t.Errorf("hourly over a day: %q", got)
	}
	week := buckets(time.Date(2026, 2, 24, 0, 0, 0, 0, time.UTC), 24*time.Hour, 7)
	if got := nonEmpty(axisLabels(week, bucketStep(week))); got != "24 Feb 25 Feb 26 Feb 27 Feb 28 Feb 1 Mar 2 Mar" {
		t.Errorf("daily over a week: %q", got)
	}
	hourlyWeek := buckets(time.Date(2026, 2, 23, 13, 0, 0, 0, time.UTC), time.Hour, 168)
	if got := nonEmpty(axisLabels(hourlyWeek, bucketStep(hourlyWeek))); got != "24 Feb 25 Feb 26 Feb 27 Feb 28 Feb 1 Mar 2 Mar" {
		t.Errorf("hourly over a week: %q", got)
	}
	odd := buckets(time.Date(2026, 3, 1, 13, 7, 0, 0, time.UTC), time.Hour, 24)
	if n := len(strings.Fields(nonEmpty(axisLabels(odd, time.Hour)))); n == 0 || n > maxAxisLabels {
		t.Errorf("unaligned buckets got %d labels", n)
	}
	if got := bucketTitle(day[0].Start, time.Hour); got != "1 Mar 2026, 13:00–14:00 UTC" {
		t.Errorf("hour title %q", got)
	}
	if got := bucketTitle(week[0].Start, 24*time.Hour); got != "Tue 24 Feb 2026" {
		t.Errorf("day title %q", got)
	}
}

func TestCountAndRateText(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := countText(n); got != want {
			t.Errorf("countText(%d) = %q, want %q", n, got, want)
		}
	}
	for _, tt := range []struct {
		n, total int
		want     string
	}{{0, 0, "0%"}, {0, 10, "0%"}, {1, 250, "0.4%"}, {12, 100, "12%"}, {1, 30, "3.3%"}, {1, 3, "33%"}} {
		if got := rateText(tt.n, tt.total); got != tt.want {
			t.Errorf("rateText(%d, %d) = %q, want %q", tt.n, tt.total, got, tt.want)
		}
	}
}

// dashboardProps is the dashboard of a gateway in use, h in every text
// others control.
func dashboardProps(h string, flashes ...Flash) DashboardProps {
	start := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	var buckets []ActivityBucket
	for i := range 24 {
		b := ActivityBucket{Start: start.Add(time.Duration(i) * time.Hour), URL: "/admin/audit?bucket=" + strconv.Itoa(i)}
		if i%7 != 3 { // some hours quiet
			b.Allow, b.Deny, b.Error = 20+(i*37)%90, (i*13)%9, (i*5)%4
		}
		buckets = append(buckets, b)
	}
	return DashboardProps{
		Page: page(SectionDashboard, adminViewer(), flashes...), Users: 42, Admins: 3, Disabled: 1, ConsoleURL: "http://console.localhost:8080",
		Steps: []SetupStep{{Title: "Sign in", Done: true}, {Title: h, URL: "/admin/routes"}},
		Activity: &DashboardActivity{
			Window: "24h", Buckets: buckets, Calls: 1840, Denials: 62, Errors: 23,
			TopTools: []RankedCount{{Label: "create_issue", Count: 412, URL: "/admin/audit?tool=create_issue"}, {Label: "search_code", Count: 300, URL: "/admin/audit?tool=search_code"},
				{Label: h, Count: 41, URL: "/admin/audit?tool=x"}},
			TopUsers: []RankedCount{{Label: "alice@company.com", Count: 900, URL: "/admin/audit?user=alice%40company.com"}, {Label: h, Count: 120, URL: "/admin/audit?user=x"}},
			RouteErrors: []RouteErrorRow{{Route: "Docs", Calls: 200, Errors: 18, URL: "/admin/audit?route=3&outcome=http_error"}, {Route: h, Calls: 900, Errors: 4, URL: "/admin/audit?route=1"},
				{Route: "Linear", Calls: 40, URL: "/admin/audit?route=2"}},
			NeedsReconnect: 3, AppsURL: "/admin/apps",
			ExpiringAccounts: []ExpiringAccount{{Name: "ci-deploy", UserEmail: "bob@company.com", ExpiresAt: auditNow.Add(3 * 24 * time.Hour), URL: "/admin/service-accounts?q=ci-deploy"},
				{Name: h, UserEmail: h, ExpiresAt: auditNow.Add(11 * 24 * time.Hour)}},
		},
		Now: auditNow,
	}
}

func TestDashboardActivity(t *testing.T) {
	p := dashboardProps("x")
	doc, _ := render(t, DashboardPage(p))
	for id, want := range map[string][2]string{
		"kpi-calls":   {"1,840", "/admin/audit"},
		"kpi-denials": {"62", "/admin/audit?decision=deny"},
		"kpi-errors":  {"1.2%", "/admin/audit?decision=error"},
	} {
		tile := mustOne(t, doc, testid(id))
		if got := text(tile.Find(testid(id + "-value"))); got != want[0] {
			t.Errorf("%s = %q, want %q", id, got, want[0])
		}
		if href, _ := tile.Attr("href"); href != want[1] {
			t.Errorf("%s links to %q, want %q", id, href, want[1])
		}
	}
	if got := text(mustOne(t, doc, testid("kpi-denials-note"))); got != "3.4% of calls" {
		t.Errorf("denials note %q", got)
	}
	if got := text(mustOne(t, doc, testid("kpi-errors-note"))); got != "23 errors" {
		t.Errorf("errors note %q", got)
	}
	// The 24 hours window is current; the 7 days one is a link.
	if c, _ := mustOne(t, doc, testid("window-24h")).Attr("aria-current"); c != "page" {
		t.Error("current window not marked")
	}
	if href, _ := mustOne(t, doc, testid("window-7d")).Attr("href"); href != "/admin?window=7d" {
		t.Errorf("7 days links to %q", href)
	}
	// The chart: one bar per busy hour, each to its bucket.
	chart := mustOne(t, doc, testid("activity-chart"))
	bars := chart.Find("svg a" + testid("chart-bar"))
	busy := 0
	for _, b := range p.Activity.Buckets {
		if b.Allow+b.Deny+b.Error > 0 {
			busy++
		}
	}
	if bars.Length() != busy {
		t.Errorf("%d bars, want %d", bars.Length(), busy)
	}
	if href, _ := bars.First().Attr("href"); href != "/admin/audit?bucket=0" {
		t.Errorf("first bar links to %q", href)
	}
	if got := bars.First().ChildrenFiltered("title").Text(); got != "1 Mar 2026, 13:00–14:00 UTC: allowed 20, denied 0, errors 0" {
		t.Errorf("first bar title %q", got)
	}
	allow, deny, errs := 0, 0, 0
	for _, b := range p.Activity.Buckets {
		allow, deny, errs = allow+b.Allow, deny+b.Deny, errs+b.Error
	}
	wantDesc := countText(allow+deny+errs) + " calls: " + countText(allow) + " allowed, " + countText(deny) + " denied, " + strconv.Itoa(errs) + " errors. Busiest: 2 Mar 2026, 01:00–02:00 UTC, with 107."
	if got := mustOneIn(t, chart, "svg desc").Text(); got != wantDesc {
		t.Errorf("chart description %q", got)
	}
	if got := text(mustOne(t, doc, testid("top-tools")).Find(testid("rank-item")).First()); got != "create_issue 412" {
		t.Errorf("top tool %q", got)
	}
	if got := text(mustOne(t, doc, testid("top-users")).Find(testid("rank-item")).First()); got != "alice@company.com 900" {
		t.Errorf("top user %q", got)
	}
	routes := mustOne(t, doc, testid("route-errors")).Find(testid("route-error"))
	if got := text(routes.First().Find(testid("route-error-rate"))); got != "9.0%" || !routes.First().Find(testid("route-error-rate")).HasClass("rate-bad") {
		t.Errorf("worst route rate %q", got)
	}
	if href, _ := routes.First().Attr("href"); href != "/admin/audit?route=3&outcome=http_error" {
		t.Errorf("route links to %q", href)
	}
	if !routes.Eq(2).Find(testid("route-error-rate")).HasClass("rate-none") {
		t.Error("route without errors not marked so")
	}
	reconnect := mustOne(t, doc, testid("needs-reconnect"))
	if href, _ := reconnect.Attr("href"); href != "/admin/apps" || !strings.Contains(text(reconnect), "3 upstream connections need re-Connect") {
		t.Errorf("reconnect %q → %q", text(reconnect), href)
	}
	accounts := doc.Find(testid("expiring-account"))
	if accounts.Length() != 2 || text(accounts.First()) != "ci-deploy bob@company.com · expires in 3 days" {
		t.Errorf("expiring accounts %q", text(accounts.First()))
	}
	// An unfinished checklist still shows, after the activity.
	mustOne(t, doc, testid("setup-steps"))
	p.Activity.NeedsReconnect, p.Activity.ExpiringAccounts = 0, nil
	p.Steps[1].Done = true
	doc, _ = render(t, DashboardPage(p))
	if doc.Find(testid("setup-steps")).Length() != 0 {
		t.Error("finished checklist shown beside the activity")
	}
	if got := text(mustOne(t, doc, testid("needs-reconnect"))); got != "Every upstream connection works." {
		t.Errorf("no reconnects: %q", got)
	}
	mustOne(t, doc, testid("expiring-none"))
}

// Before anything is recorded, the dashboard is the checklist.
func TestDashboardWithoutActivity(t *testing.T) {
	p := dashboardProps("x")
	p.Activity = nil
	doc, _ := render(t, DashboardPage(p))
	mustOne(t, doc, testid("setup-steps"))
	if doc.Find(testid("activity-kpis")+","+testid("activity-chart")+","+testid("window-toggle")).Length() != 0 {
		t.Error("activity shown without any")
	}
}

func TestDashboardQuietWindow(t *testing.T) {
	doc, _ := render(t, DashboardPage(DashboardProps{Page: page(SectionDashboard, adminViewer()), Activity: &DashboardActivity{Window: "7d"}}))
	if got := text(mustOne(t, doc, testid("kpi-calls-note"))); got != "in the last 7 days" {
		t.Errorf("calls note %q", got)
	}
	if href, _ := mustOne(t, doc, testid("kpi-denials")).Attr("href"); href != "/admin/audit?decision=deny&range=7d" {
		t.Errorf("denials link %q", href)
	}
	if got := text(mustOne(t, doc, testid("kpi-errors-value"))); got != "0%" {
		t.Errorf("error rate of nothing %q", got)
	}
	if c, _ := mustOne(t, doc, testid("window-7d")).Attr("aria-current"); c != "page" {
		t.Error("7 days not current")
	}
	mustOne(t, doc, testid("top-tools-empty"))
	mustOne(t, doc, testid("route-errors-empty"))
}
