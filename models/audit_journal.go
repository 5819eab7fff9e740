package models

import (
	"context"
	"fmt"
)

// On SQLite an event reaches audit_events in two steps. AppendAuditEvents
// commits it to audit_journal, a table with the same columns and one
// index, and returns: the event is durable, and the request it describes
// may go upstream. Later, many at a time, the journaled events settle:
// one transaction copies them, ids and all, into audit_events and empties
// the journal.
//
// Why: audit_events has a dozen indexes for the console's filters and the
// hash chains, and a commit writes each index's changed page to the WAL,
// however few events it holds. A gateway commits every request's events
// before forwarding it, often one or two events a commit, so those pages
// were most of its audit cost (BenchmarkAppendAuditEvents). The journal's
// commit writes two or three pages; a settle writes the index pages once
// for hundreds of events.
//
// An outcome that arrives while its event is journaled is written in the
// journal (RecordAuditOutcomes), and the event settles whole: one insert
// into audit_events' indexes, not an insert and then an update.
//
// Nothing reads a journaled event where it is: every reader of the audit
// log settles the journal first (settleAuditJournal), as does the outcome
// writer, in the transaction that writes outcomes, and Open, which
// settles what a process that stopped left behind. So readers see what
// they saw before, every committed event, and the ids of audit_events
// still rise in commit order: the append assigns them under the write
// lock (see auditTailSQL).
//
// PostgreSQL does without: its appends go straight to audit_events, as
// before (the journal table is there, empty, so that both engines keep
// one schema). The journal answers a cost measured on SQLite; whether
// replicas on PostgreSQL would gain from one is not measured yet.

// auditJournalColumns are the journal's columns, which a settle copies:
// every column of audit_events.
const auditJournalColumns = auditSelectColumns

// settleAuditJournal moves every journaled event into audit_events, if
// there are any: a cheap read when there are none.
func (s *Store) settleAuditJournal(ctx context.Context) error {
	if s.isPostgres() {
		return nil
	}
	var pending bool
	if err := s.sqlDB.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM audit_journal)").Scan(&pending); err != nil {
		return fmt.Errorf("read the audit journal: %w", err)
	}
	if !pending {
		return nil
	}
	return s.inAuditTx(ctx, settleAuditJournalTx)
}

// settleAuditJournalTx moves the journaled events into audit_events
// within tx, which holds SQLite's write lock (BEGIN IMMEDIATE), so no
// event can be journaled between the copy and the delete. Nothing to do
// on PostgreSQL.
func settleAuditJournalTx(ctx context.Context, tx *auditTx) error {
	if tx.st.postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit_events ("+auditJournalColumns+") SELECT "+
		auditJournalColumns+" FROM audit_journal ORDER BY id"); err != nil {
		return fmt.Errorf("settle the audit journal: %w", dbError(err))
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM audit_journal"); err != nil {
		return fmt.Errorf("settle the audit journal: %w", dbError(err))
	}
	return nil
}
