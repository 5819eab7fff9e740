package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/drawbridge/drawbridge/models"
)

// TestTrustedProxies: the console takes the client's address from
// X-Forwarded-For only when the peer is a configured proxy; the sign-in's
// audit event records whichever address that is.
func TestTrustedProxies(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trusted []string
		want    string
	}{
		{"no proxies configured: the header is ignored", nil, "127.0.0.1"},
		{"behind a trusted proxy: the address it saw", []string{"127.0.0.0/8"}, "203.0.113.9"},
		{"another proxy's header is ignored", []string{"10.0.0.0/8"}, "127.0.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t, func(c *Config) { c.Server.TrustedProxies = tt.trusted })
			app.user(t, "alice@example.com", false)
			b := app.browser(t)
			req := b.loginRequest("alice@example.com")
			req.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.9")
			if resp, body := b.do(req); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d %.200s", resp.StatusCode, body)
			}
			page, err := app.Store.ListAuditEvents(context.Background(), models.AuditFilter{Kind: models.AuditKindSignIn}, 0, 10)
			if err != nil || len(page.Events) != 1 {
				t.Fatalf("sign-in events: %+v, %v", page, err)
			}
			if got := page.Events[0].SourceIP; got != tt.want {
				t.Errorf("source_ip = %q, want %q", got, tt.want)
			}
		})
	}
}
