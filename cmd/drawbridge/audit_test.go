package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge/drawbridge/models"
)

func TestAuditVerify(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	verify := func() (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, []string{"drawbridge", "audit", "verify", "--data-dir", dir}, nil, strings.NewReader(""), &out, &errOut)
		return out.String(), err
	}
	if out, err := verify(); err != nil || !strings.Contains(out, "empty") {
		t.Fatalf("empty log: %q, %v", out, err)
	}
	b, err := openBackend(ctx, configFlags{dataDir: dir}, environment{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	events := []*models.AuditEvent{
		{Kind: models.AuditKindMCP, MCPMethod: "tools/call", Tool: "echo", Arguments: `{"text":"a"}`, Decision: models.AuditAllow, Reasons: "[]"},
		{Kind: models.AuditKindMCP, MCPMethod: "tools/call", Tool: "echo", Arguments: `{"text":"b"}`, Decision: models.AuditAllow, Reasons: "[]"},
	}
	if err := b.store.AppendAuditEvents(ctx, "test-writer", events); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if out, err := verify(); err != nil || !strings.Contains(out, "intact") {
		t.Fatalf("intact log: %q, %v", out, err)
	}

	db, err := sql.Open("sqlite3", filepath.Join(dir, databaseFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_events SET tool = 'admin_reset' WHERE id = ?`, events[0].ID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, err := verify()
	if err == nil || !strings.Contains(out, "BROKEN") {
		t.Errorf("a tampered event went unnoticed: %q, %v", out, err)
	}

	// The console shows what the CLI found, chain by chain.
	b, err = openBackend(ctx, configFlags{dataDir: dir}, environment{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	last, err := b.store.LastAuditVerification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last.By != "cli" || last.OK || len(last.Chains) != 1 {
		t.Fatalf("recorded verification %+v; want the CLI's, broken, with one chain", last)
	}
	if c := last.Chains[0]; c.Writer != "test-writer" || c.OK || c.BrokenID != events[0].ID || c.BrokenSeq != 1 || !strings.Contains(c.Problem, "altered") {
		t.Errorf("recorded chain %+v; want test-writer broken at event %d", c, events[0].ID)
	}
}

// TestAuditVerifyCheckpointWithoutRetention: the CLI judges a chain that
// starts from a checkpoint while retention is off as the console does,
// broken, so a run of either never overwrites the other's finding.
func TestAuditVerifyCheckpointWithoutRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	b, err := openBackend(ctx, configFlags{dataDir: dir}, environment{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	events := []*models.AuditEvent{
		{At: old, Kind: models.AuditKindSignIn, Decision: models.AuditAllow, Reasons: "[]"},
		{At: time.Now(), Kind: models.AuditKindSignIn, Decision: models.AuditAllow, Reasons: "[]"},
	}
	if err := b.store.AppendAuditEvents(ctx, "w", events); err != nil {
		t.Fatal(err)
	}
	if n, err := b.store.DeleteAuditEventsBefore(ctx, time.Now().Add(-24*time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	b.Close()
	var out bytes.Buffer
	err = run(ctx, []string{"drawbridge", "audit", "verify", "--data-dir", dir}, nil, strings.NewReader(""), &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(out.String(), "retention is off") {
		t.Errorf("verify: %q, %v; want the chain broken: a checkpoint while retention is off", out.String(), err)
	}
}
