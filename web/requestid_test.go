package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/drawbridge/drawbridge/models"
)

// TestConsoleNamesItsOwnRequests: the console does not take an
// X-Request-Id from the client. The response and the sign-in's audit
// event carry a fresh UUIDv7 instead, as the gateway's requests do.
func TestConsoleNamesItsOwnRequests(t *testing.T) {
	app := newTestApp(t)
	app.user(t, "alice@example.com", false)
	b := app.browser(t)
	req := b.loginRequest("alice@example.com")
	const chosen = "019ad8a0-0000-7000-8000-000000000001" // a UUIDv7 too
	req.Header.Set("X-Request-Id", chosen)
	resp, body := b.do(req)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %.200s", resp.StatusCode, body)
	}
	id := resp.Header.Get("X-Request-Id")
	if u, err := uuid.Parse(id); err != nil || u.Version() != 7 || id == chosen {
		t.Errorf("the response's X-Request-Id is %q, want a fresh UUIDv7 (%v)", id, err)
	}
	page, err := app.Store.ListAuditEvents(context.Background(), models.AuditFilter{Kind: models.AuditKindSignIn}, 0, 10)
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("sign-in events: %+v, %v", page, err)
	}
	if got := page.Events[0].RequestID; got != id {
		t.Errorf("the sign-in's audit event has request id %q, want the response's, %q", got, id)
	}
}
