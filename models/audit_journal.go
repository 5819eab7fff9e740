package models

import (
	"context"
	"fmt"
	"strings"
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
// Outcomes settle with their events. RecordAuditOutcomes gathers a
// batch's outcomes in the audit connection's outcome batch, a temporary
// table in memory, and ends its transaction with a settle, which writes
// each journaled event into audit_events with its outcome: one insert
// into audit_events' indexes, not an insert and then an update. The
// outcome of an event a reader settled meanwhile is written in
// audit_events. (Outcomes were first written into the journal itself, by
// an UPDATE: each grew its row, splitting the journal's pages, which
// were then written to the WAL twice. The journal keeps the outcome
// columns migration 13 gave it, empty.)
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
// event can be journaled between the copy and the delete, and writes the
// outcomes of the audit connection's outcome batch. Nothing to do on
// PostgreSQL.
func settleAuditJournalTx(ctx context.Context, tx *auditTx) error {
	for _, stmt := range tx.st.settle { // none on PostgreSQL
		if _, err := tx.stmt(ctx, stmt).ExecContext(ctx); err != nil {
			return fmt.Errorf("settle the audit journal: %w", dbError(err))
		}
	}
	return nil
}

// auditOutcomeBatchSQL creates the audit connection's outcome batch on
// SQLite: a temporary table, which only that connection sees, in memory.
// Every transaction leaves it empty (see auditSettleSQL), and one that
// fails closes the connection, and the table with it.
var auditOutcomeBatchSQL = []string{
	"PRAGMA temp_store = MEMORY",
	"CREATE TEMP TABLE audit_outcome_batch (id integer PRIMARY KEY, status integer, rpc_error_code integer, " +
		"is_error numeric, duration_micros integer, response_bytes integer, outcome_at datetime)",
}

// auditOutcomeBatchInsertSQL adds an outcome to the batch, unless the
// batch has one for its event: its arguments are the outcome columns'
// values, then the event's id.
var auditOutcomeBatchInsertSQL = "INSERT OR IGNORE INTO temp.audit_outcome_batch (" +
	strings.Join(auditOutcomeColumns, ", ") + ", id) VALUES (" + bindVars(false, 1, len(auditOutcomeColumns)+1) + ")"

// auditSettleSQL are a settle's statements, in order.
var auditSettleSQL = []string{
	// Each journaled event, with its outcome from the batch if there is
	// one, in id order.
	"INSERT INTO audit_events (id, " + auditInsertColumns + ", " + strings.Join(auditOutcomeColumns, ", ") + ") " +
		"SELECT j.id, " + qualifiedColumns("j", strings.Split(auditInsertColumns, ", ")) + ", " +
		qualifiedColumns("o", auditOutcomeColumns) +
		" FROM audit_journal j LEFT JOIN temp.audit_outcome_batch o ON o.id = j.id ORDER BY j.id",
	// The outcomes of events settled before, unless they have one: for
	// each outcome, a seek in the journal, which still has the events
	// just settled, and for those not there, one in audit_events.
	"UPDATE audit_events SET (" + strings.Join(auditOutcomeColumns, ", ") + ") = (SELECT " +
		strings.Join(auditOutcomeColumns, ", ") + " FROM temp.audit_outcome_batch o WHERE o.id = audit_events.id)" +
		" WHERE id IN (SELECT id FROM temp.audit_outcome_batch b WHERE NOT EXISTS (SELECT 1 FROM audit_journal j WHERE j.id = b.id))" +
		" AND outcome_at IS NULL",
	"DELETE FROM audit_journal",
	"DELETE FROM temp.audit_outcome_batch",
}

// qualifiedColumns is columns, each prefixed with table and a dot,
// comma-separated.
func qualifiedColumns(table string, columns []string) string {
	q := make([]string, len(columns))
	for i, c := range columns {
		q[i] = table + "." + c
	}
	return strings.Join(q, ", ")
}
