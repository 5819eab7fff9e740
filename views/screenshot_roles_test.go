//go:build screenshot

package views

import (
	"testing"
)

// TestWriteRoleScreenshotPages writes, as standalone HTML in
// $SHOTS_DIR (default /tmp/shots), an event as an auditor and as an
// admin sees it, and the 400 page a mistyped audit log address gets, for
// a headless browser to screenshot:
//
//	go test -tags screenshot -run TestWriteRoleScreenshotPages ./views/
//	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1400 \
//	  --screenshot=/tmp/shots/audit-event-auditor.png file:///tmp/shots/audit-event-auditor.html
func TestWriteRoleScreenshotPages(t *testing.T) {
	event := auditEventProps("x")
	event.Event = shotAuditRows()[6] // a service account's call
	event.Event.UserEmail, event.Event.ServiceAccount = "bob@company.com", "ci-deploy"
	event.RequestID = "019c9d3e-6a41-7b2f-9c1d-4e8a2f6b7c90"
	event.Arguments = ""
	event.Reasons = []AuditReason{{Policy: "company-only", Block: "allow", Rule: "allow.and[0]", Criterion: "domain", Matched: "is company.com", Detail: "bob@company.com is in company.com"}}
	event.SameRequestURL = AuditBase + "?request=019c9d3e-6a41-7b2f-9c1d-4e8a2f6b7c90"
	auditor := event
	auditor.Page = page(SectionAudit, auditorViewer())
	// The message handlers.badParams makes of /admin/audit?range=5y&outcome=bogus.
	bad := ErrorProps{
		Page: page("", auditorViewer()), Status: 400, Heading: "This address is not quite right",
		Message: `This address asks for something the page cannot show: range must be 1h, 24h, 7d, 30d, all or custom, not "5y"; ` +
			`outcome must be ok, rpc_error, tool_error, http_error or pending, not "bogus". Correct the address, or open the page without it.`,
	}
	// A server error quotes its request id for support.
	failed := ErrorProps{Page: page("", auditorViewer()), Status: 500}
	failed.RequestID = "019c9d3e-6a41-7b2f-9c1d-4e8a2f6b7c90"
	pages := map[string]shotPage{
		"error-500":           {c: ErrorPage(failed)},
		"audit-event-auditor": {c: AuditEventPage(auditor)},
		"audit-event-admin":   {c: AuditEventPage(event)},
		"audit-400":           {c: ErrorPage(bad)},
	}
	writeShotPages(t, "/tmp/shots", pages)
}
