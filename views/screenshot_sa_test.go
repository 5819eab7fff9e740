//go:build screenshot

package views

import (
	"strings"
	"testing"
)

// TestWriteServiceAccountScreenshotPages writes the service account pages
// as standalone HTML to $SHOTS_DIR (default /tmp/shots-sa), like
// TestWriteScreenshotPages, for a headless browser to screenshot in both
// colour schemes:
//
//	go test -tags screenshot -run TestWriteServiceAccountScreenshotPages ./views/
//	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1400 \
//	  --screenshot=/tmp/shots-sa/sa-admin.png file:///tmp/shots-sa/sa-admin.html
//	(add --force-dark-mode for the dark scheme)
func TestWriteServiceAccountScreenshotPages(t *testing.T) {
	admin := saAdminProps("x")
	admin.Accounts = sampleServiceAccounts("x")[:4]
	admin.Query, admin.User, admin.Status = "", "", ""
	admin.Form, admin.Errors = ServiceAccountForm{}, nil
	admin.Routes = sampleRouteOptions("x")[:2]
	admin.Pagination = Pagination{Page: 1, PerPage: 25, Total: 4}

	errors := admin
	errors.Form = ServiceAccountForm{Name: "ci deploy", UserEmail: "nobody@company.com", Expiry: "date", ExpiryDate: "2026-01-01", RouteIDs: []uint{2}}
	errors.Errors = map[string]string{"name": "Use letters, digits and dashes only, such as ci-deploy.", "user": "No user signs in as nobody@company.com.", "expires_at": "Pick a date after today."}

	empty := ServiceAccountsProps{Page: page(SectionServiceAccounts, adminViewer()), Admin: true, Base: adminSABase, Now: portalNow, Routes: admin.Routes, SelfService: true}

	portal := saPortalProps("x")
	portal.Accounts = portal.Accounts[:4]
	portal.Query, portal.Form = "", ServiceAccountForm{}
	portal.Pagination = Pagination{Page: 1, PerPage: 25, Total: 4}
	portal.Routes = admin.Routes

	portalEmpty := portal
	portalEmpty.Accounts = nil
	portalEmpty.Pagination = Pagination{}

	token := saTokenProps("ci-deploy")
	token.Account = sampleServiceAccounts("x")[0]
	token.Routes = sampleRouteOptions("x")[:2]
	token.Token = strings.Repeat(sampleJWT, 3)

	created := token
	created.Rotated, created.GraceUntil = false, nil
	created.Page = page(SectionPortalServiceAccounts, userViewer())
	created.Page.ServiceAccountsInPortal = true
	created.Base = portalSABase

	none := created
	none.Routes = nil

	hostileAdmin := saAdminProps(hostileSA)

	pages := map[string]shotPage{
		"sa-admin":         {c: ServiceAccountsPage(admin)},
		"sa-admin-rotate":  {c: ServiceAccountsPage(admin), open: []string{`<details class="confirm confirm-choice"`}},
		"sa-admin-create":  {c: ServiceAccountsPage(admin), open: []string{`<details class="card sa-create"`}},
		"sa-admin-errors":  {c: ServiceAccountsPage(errors)},
		"sa-admin-empty":   {c: ServiceAccountsPage(empty)},
		"sa-portal":        {c: ServiceAccountsPage(portal)},
		"sa-portal-empty":  {c: ServiceAccountsPage(portalEmpty)},
		"sa-hostile":       {c: ServiceAccountsPage(hostileAdmin)},
		"sa-token":         {c: ServiceAccountTokenPage(token)},
		"sa-token-codex":   {c: ServiceAccountTokenPage(token), open: []string{` checked data-testid="setup-tab"`, `value="codex"`}},
		"sa-token-created": {c: ServiceAccountTokenPage(created)},
		"sa-token-none":    {c: ServiceAccountTokenPage(none)},
	}
	writeShotPages(t, "/tmp/shots-sa", pages)
}
