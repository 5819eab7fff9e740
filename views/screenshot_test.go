//go:build screenshot

package views

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// TestWriteScreenshotPages writes the portal and the app connection views
// as standalone HTML to $SHOTS_DIR (default /tmp/shots), with the real CSS
// and JS linked by file path, for a headless browser to screenshot:
//
//	go test -tags screenshot -run TestWriteScreenshotPages ./views/
//	chromium --headless --no-sandbox --disable-gpu --window-size=1280,1600 \
//	  --screenshot=/tmp/shots/portal.png file:///tmp/shots/portal.html
func TestWriteScreenshotPages(t *testing.T) {
	servers := samplePortalServers()
	plain := servers[:6]
	apps := sampleApps()[:2]
	apps[0].Connected, apps[0].NeedsReconnect = 12, 2
	apps[1].Connected = 1
	pages := map[string]shotPage{
		"portal": {c: PortalPage(PortalProps{Page: page(SectionPortal, userViewer()), Servers: plain, Now: portalNow})},
		"portal-confirm": {c: PortalPage(PortalProps{Page: page(SectionPortal, userViewer()), Servers: plain[:1], Now: portalNow}),
			open: []string{`<details class="confirm"`}},
		"portal-hostile": {c: PortalPage(PortalProps{Page: page(SectionPortal, userViewer()), Servers: servers[6:], Now: portalNow})},
		"portal-codex": {c: PortalPage(PortalProps{Page: page(SectionPortal, userViewer()), Servers: plain[:1], Now: portalNow}),
			open: []string{` checked data-testid="setup-tab"`, `value="codex"`}},
		"portal-admin": {c: PortalPage(PortalProps{Page: page(SectionPortal, adminViewer()), Servers: plain[:3], Now: portalNow})},
		"portal-empty": {c: PortalPage(PortalProps{Page: page(SectionPortal, userViewer())})},
		"apps": {c: AppsPage(AppsProps{Page: page(SectionApps, adminViewer()), Apps: apps, Presets: samplePresets(),
			Pagination: Pagination{Page: 1, PerPage: 25, Total: 2}})},
		"app-edit": {c: AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), ID: 3, Presets: samplePresets(),
			Form: AppForm{Name: "github", Preset: "github", ClientID: "Iv23liAbC", HasSecret: true, AuthURL: "https://github.com/login/oauth/authorize",
				TokenURL: "https://github.com/login/oauth/access_token", AuthStyle: "auto", PKCE: true},
			CallbackURL: "http://console.localhost:8080/oauth/upstream/callback",
			Connections: append(sampleConnections(), AppConnectionRow{UserID: 9, UserEmail: "carol.longname@engineering.company.com", Status: ConnectionConnected,
				ExpiresAt: ptime("2026-03-09T12:00:00Z"), LastRefreshedAt: ptime("2026-03-02T11:59:40Z")}),
			Now: portalNow})},
		"app-connections": {c: templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			p := AppFormProps{Page: page(SectionApps, adminViewer()), ID: 3, Form: AppForm{Name: "github"}, Connections: sampleConnections(), Now: portalNow}
			return layout(p.Page).Render(templ.WithChildren(ctx, appConnections(p)), w)
		})},
		"app-edit-empty": {c: AppFormPage(AppFormProps{Page: page(SectionApps, adminViewer()), ID: 3, Presets: samplePresets(),
			Form: AppForm{Name: "github", ClientID: "Iv23liAbC"}})},
	}
	writeShotPages(t, "/tmp/shots", pages)
}

// shotPage is a page the screenshot tests write: its component, and
// markup to open or check, for the states a click shows.
type shotPage struct {
	c    templ.Component
	open []string
}

// writeShotPages writes each page as standalone HTML into $SHOTS_DIR
// (def when unset), with the real CSS and JS linked by file path, and the
// markup each names opened (<details …>), unchecked (" checked …") or
// checked (anything else).
func writeShotPages(t *testing.T, def string, pages map[string]shotPage) {
	t.Helper()
	dir := os.Getenv("SHOTS_DIR")
	if dir == "" {
		dir = def
	}
	static, err := filepath.Abs("../static")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, p := range pages {
		var buf bytes.Buffer
		if err := p.c.Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		html := strings.ReplaceAll(buf.String(), `"/static/`, `"file://`+static+`/`)
		for _, o := range p.open {
			switch {
			case strings.HasPrefix(o, "<details"):
				html = strings.Replace(html, o, strings.Replace(o, "<details", "<details open", 1), 1)
			case strings.HasPrefix(o, " checked"):
				html = strings.Replace(html, o, strings.TrimPrefix(o, " checked"), 1)
			default: // check this tab
				html = strings.Replace(html, o, o+" checked", 1)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name+".html"), []byte(html), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
