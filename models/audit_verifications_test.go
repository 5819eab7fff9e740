package models

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestAuditVerificationRecord records runs, one of them late, and reads
// back the newest by time, with what it found in each chain.
func TestAuditVerificationRecord(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	if _, err := s.LastAuditVerification(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("before any: %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	intact := AuditChainResult{Writer: "gw-1", Events: 12, FirstSeq: 1, LastSeq: 12, LastHash: "ab12", OK: true}
	broken := AuditChainResult{Writer: "gw-2", Events: 3, FirstSeq: 91, LastSeq: 93, LastHash: "cd34", CheckpointSeq: 90,
		Problem: "the event does not match its hash", BrokenID: 1207, BrokenSeq: 94}
	flagged := AuditChainResult{Writer: "gw-3", Events: 1, FirstSeq: 2, LastSeq: 2, LastHash: "ef56", CheckpointSeq: 1,
		Problem: "it starts from a retention checkpoint, but retention is off"}
	if err := s.RecordAuditVerification(ctx, at, []AuditChainResult{intact}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAuditVerification(WithActor(ctx, "auditor@example.com"), at.Add(time.Hour), []AuditChainResult{intact, broken, flagged}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAuditVerification(ctx, at.Add(-time.Hour), nil); err != nil { // recorded late
		t.Fatal(err)
	}
	got, err := s.LastAuditVerification(ctx)
	want := AuditVerification{At: at.Add(time.Hour), By: "auditor@example.com", OK: false, Chains: []AuditChainResult{intact, broken, flagged}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("LastAuditVerification =\n%+v, %v\nwant\n%+v", got, err, want)
	}
	// A chain with no broken event stores NULL, not 0, as the event.
	var nulls int64
	if err := s.db.Raw("SELECT count(*) FROM audit_verification_chains WHERE broken_event_id IS NULL AND broken_seq IS NULL").Scan(&nulls).Error; err != nil {
		t.Fatal(err)
	}
	if nulls != 3 { // intact twice, flagged once
		t.Errorf("%d chains without a broken event stored NULL, want 3", nulls)
	}
}

// TestAuditVerificationRecordsVerifiedChains records what
// VerifyAuditChains found in a chain someone edited, and finds the
// edited event named after a reload.
func TestAuditVerificationRecordsVerifiedChains(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	appendEvents(t, s, "gw-a", 0, 3)
	evs := appendEvents(t, s, "gw-b", 3, 4)
	execSQL(t, s, "UPDATE audit_events SET tool = 'delete_repo' WHERE id = ?", evs[2].ID)
	chains, err := s.VerifyAuditChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	results := make([]AuditChainResult, len(chains))
	for i, st := range chains {
		results[i] = st.Result(0)
	}
	if err := s.RecordAuditVerification(ctx, time.Now(), results); err != nil {
		t.Fatal(err)
	}
	last, err := s.LastAuditVerification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last.OK || len(last.Chains) != 2 {
		t.Fatalf("recorded %+v; want two chains, not OK", last)
	}
	if a := last.Chains[0]; a.Writer != "gw-a" || !a.OK || a.Events != 3 || a.BrokenID != 0 || a.Problem != "" {
		t.Errorf("intact chain recorded as %+v", a)
	}
	b := last.Chains[1]
	if b.Writer != "gw-b" || b.OK || b.Events != 2 || b.BrokenID != evs[2].ID || b.BrokenSeq != evs[2].Seq || b.Problem != chains[1].Break.Problem {
		t.Errorf("broken chain recorded as %+v; want broken at event %d (seq %d): %s", b, evs[2].ID, evs[2].Seq, chains[1].Break.Problem)
	}
}

// TestAuditVerificationsPruned records more runs than are kept: the
// oldest go, with their chains, in the same transaction, and the newest
// stays even when a run is recorded late.
func TestAuditVerificationsPruned(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	chains := []AuditChainResult{{Writer: "gw-1", OK: true}, {Writer: "gw-2", OK: true}}
	for i := range auditVerificationsKept + 5 {
		if err := s.RecordAuditVerification(ctx, at.Add(time.Duration(i)*time.Minute), chains); err != nil {
			t.Fatal(err)
		}
	}
	// Older than every run kept: pruned as it is recorded.
	if err := s.RecordAuditVerification(ctx, at.Add(-time.Hour), chains); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, s, "audit_verifications"); n != auditVerificationsKept {
		t.Errorf("%d verifications kept, want %d", n, auditVerificationsKept)
	}
	if n := rowCount(t, s, "audit_verification_chains"); n != 2*auditVerificationsKept {
		t.Errorf("%d chains kept, want %d: a pruned run's chains stayed", n, 2*auditVerificationsKept)
	}
	var oldest auditVerification
	if err := s.db.Order("at").Take(&oldest).Error; err != nil {
		t.Fatal(err)
	}
	if want := at.Add(5 * time.Minute); !oldest.At.Equal(want) {
		t.Errorf("oldest kept run at %v, want %v", oldest.At, want)
	}
	if last, err := s.LastAuditVerification(ctx); err != nil || !last.At.Equal(at.Add((auditVerificationsKept+4)*time.Minute)) || len(last.Chains) != 2 {
		t.Errorf("newest after pruning: %+v, %v", last, err)
	}
}
