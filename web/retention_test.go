package web

import (
	"context"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

// Retention deletes what is older than the setting, only that, and the
// chains still verify afterwards.
func TestRetentionDeletesOnlyOldEvents(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	now := time.Now()
	var old, recent []*models.AuditEvent
	for i := range 1200 {
		at := now.Add(-40 * 24 * time.Hour).Add(time.Duration(i) * time.Second)
		old = append(old, &models.AuditEvent{At: at, Kind: models.AuditKindSignIn, Decision: models.AuditAllow, Reasons: "[]"})
	}
	for range 5 {
		recent = append(recent, &models.AuditEvent{At: now, Kind: models.AuditKindSignIn, Decision: models.AuditAllow, Reasons: "[]"})
	}
	if err := app.Store.AppendAuditEvents(ctx, "retention-test", old); err != nil {
		t.Fatal(err)
	}
	if err := app.Store.AppendAuditEvents(ctx, "retention-test", recent); err != nil {
		t.Fatal(err)
	}
	if n, err := pruneAudit(ctx, app.Store, now); err != nil || n != 0 {
		t.Fatalf("retention off: deleted %d, %v", n, err)
	}
	st, _ := app.Store.GetSettings(ctx)
	st.AuditRetentionDays = 30
	if err := app.Store.UpdateSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	n, err := pruneAudit(ctx, app.Store, now)
	if err != nil || n != len(old) {
		t.Fatalf("deleted %d, %v; want the %d old events", n, err, len(old))
	}
	page, err := app.Store.ListAuditEvents(ctx, models.AuditFilter{Kind: models.AuditKindSignIn}, 0, 100)
	if err != nil || len(page.Events) != len(recent) {
		t.Fatalf("left %d events, %v; want the %d recent ones", len(page.Events), err, len(recent))
	}
	chains, err := app.Store.VerifyAuditChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chains {
		if !c.OK {
			t.Errorf("chain %s does not verify after retention: %+v", c.Writer, c.Break)
		}
	}
}

// The sweep deletes the rate events older than an hour, of every scope,
// and only those: the throttles still count the recent ones.
func TestRetentionDeletesOldSignInFailures(t *testing.T) {
	// A store alone: a running server's own retention job would race
	// the test to the old rows.
	cfg := DefaultConfig()
	cfg.Server.DataDir = t.TempDir()
	store := newTestStore(t, cfg)
	ctx := context.Background()
	now := time.Now()
	scopes := []string{models.SignInScopeAddress, models.RegistrationScopeAddress}
	for _, scope := range scopes {
		for _, at := range []time.Time{now.Add(-3 * time.Hour), now.Add(-61 * time.Minute), now.Add(-59 * time.Minute), now} {
			l := models.RateLimit{Scope: scope, Limit: 10, Window: time.Minute}
			if take, err := store.TakeRateEvent(ctx, l, "192.0.2.7", at); err != nil || !take.Allowed {
				t.Fatal(take, err)
			}
		}
	}
	if n, err := pruneRateEvents(ctx, store, now); err != nil || n != 4 {
		t.Fatalf("deleted %d, %v; want the 4 older than an hour", n, err)
	}
	for _, scope := range scopes {
		if n, _, err := store.CountRateEvents(ctx, scope, "192.0.2.7", now.Add(-24*time.Hour)); err != nil || n != 2 {
			t.Errorf("%s: %d events left, %v; want the 2 of the last hour", scope, n, err)
		}
	}
}
