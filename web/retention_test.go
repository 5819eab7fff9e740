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

// The sweep deletes the failed sign-in attempts older than an hour, and
// only those: the throttles still count the recent ones.
func TestRetentionDeletesOldSignInFailures(t *testing.T) {
	// A store alone: a running server's own retention job would race
	// the test to the old rows.
	cfg := DefaultConfig()
	cfg.Server.DataDir = t.TempDir()
	store := newTestStore(t, cfg)
	ctx := context.Background()
	now := time.Now()
	for _, at := range []time.Time{now.Add(-3 * time.Hour), now.Add(-61 * time.Minute), now.Add(-59 * time.Minute), now} {
		if _, err := store.RecordSignInFailure(ctx, models.SignInScopeAddress, "192.0.2.7", at); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := pruneSignInFailures(ctx, store, now); err != nil || n != 2 {
		t.Fatalf("deleted %d, %v; want the 2 older than an hour", n, err)
	}
	if n, _, err := store.SignInFailures(ctx, models.SignInScopeAddress, "192.0.2.7", now.Add(-24*time.Hour)); err != nil || n != 2 {
		t.Errorf("%d failures left, %v; want the 2 of the last hour", n, err)
	}
}
