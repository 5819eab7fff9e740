package models

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// auditStatements are the audit log's hot statements: one event's INSERT
// and one outcome's UPDATE, run thousands of times a second by the
// gateway's writer. They are prepared once on the database handle, so
// database/sql keeps each prepared on every connection it has run on, and
// a batch binds and steps them once per row with no SQL to build, parse
// or plan. (GORM's prepared-statement mode prepares a statement first
// seen inside a transaction on that transaction alone, so it prepared
// again for every batch; and a multi-row INSERT is a new statement for
// every batch size.)
type auditStatements struct {
	insert  *sql.Stmt
	outcome *sql.Stmt
	// head reads a chain's head: see auditHeadSQL. lastSeq reads only
	// its seq, on SQLite: see auditLastSeqSQL.
	head, lastSeq *sql.Stmt
	// returning: insert ends in RETURNING id, for engines whose driver
	// has no LastInsertId (PostgreSQL).
	returning bool
}

// auditStatementCache prepares the statements on first use and keeps
// them for the store's life. A failed prepare is not kept: the next call
// tries again.
type auditStatementCache struct {
	mu    sync.Mutex
	stmts *auditStatements
}

func (s *Store) auditStatements(ctx context.Context) (*auditStatements, error) {
	c := &s.auditStmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stmts != nil {
		return c.stmts, nil
	}
	postgres := s.isPostgres()
	// SQLite journals events; see audit_journal.go.
	table := "audit_journal"
	if postgres {
		table = "audit_events"
	}
	insertSQL := "INSERT INTO " + table + " (" + auditInsertColumns + ") VALUES (" +
		bindVars(postgres, 1, auditInsertColumnCount) + ")"
	if postgres {
		insertSQL += " RETURNING id"
	}
	insert, err := s.sqlDB.PrepareContext(ctx, insertSQL)
	if err != nil {
		return nil, fmt.Errorf("prepare the insert: %w", err)
	}
	outcome, err := s.sqlDB.PrepareContext(ctx, "UPDATE audit_events SET status = "+bindVar(postgres, 1)+
		", rpc_error_code = "+bindVar(postgres, 2)+", is_error = "+bindVar(postgres, 3)+
		", duration_micros = "+bindVar(postgres, 4)+", response_bytes = "+bindVar(postgres, 5)+
		", outcome_at = "+bindVar(postgres, 6)+" WHERE id = "+bindVar(postgres, 7)+" AND outcome_at IS NULL")
	if err != nil {
		insert.Close()
		return nil, fmt.Errorf("prepare the outcome update: %w", err)
	}
	head, err := s.sqlDB.PrepareContext(ctx, auditHeadSQL(postgres))
	if err != nil {
		insert.Close()
		outcome.Close()
		return nil, fmt.Errorf("prepare the head's read: %w", err)
	}
	st := &auditStatements{insert: insert, outcome: outcome, head: head, returning: postgres}
	if !postgres {
		if st.lastSeq, err = s.sqlDB.PrepareContext(ctx, auditLastSeqSQL); err != nil {
			insert.Close()
			outcome.Close()
			head.Close()
			return nil, fmt.Errorf("prepare the head's read: %w", err)
		}
	}
	c.stmts = st
	return c.stmts, nil
}

// auditHeadSQL reads the seq and hash where a writer's chain continues,
// its one argument bound three times: the newest of its journaled events
// (SQLite), the newest of its settled ones, or its checkpoint, which is
// older than any event left. Each is one seek down an index on (writer,
// seq).
func auditHeadSQL(postgres bool) string {
	return "SELECT seq, hash FROM (" +
		"SELECT * FROM (SELECT seq, hash FROM audit_journal WHERE writer = " + bindVar(postgres, 1) + " ORDER BY seq DESC LIMIT 1) j" +
		" UNION ALL SELECT * FROM (SELECT seq, hash FROM audit_events WHERE writer = " + bindVar(postgres, 2) + " ORDER BY seq DESC LIMIT 1) e" +
		" UNION ALL SELECT seq, hash FROM audit_checkpoints WHERE writer = " + bindVar(postgres, 3) +
		") h ORDER BY seq DESC LIMIT 1"
}

// auditLastSeqSQL reads the seq of a writer's newest event, its one
// argument bound twice: a journaled one is newer than any settled one.
// Each is the largest key of a range of (writer, seq), which SQLite reads
// at the end of one seek: far cheaper than auditHeadSQL's merge.
const auditLastSeqSQL = "SELECT coalesce((SELECT max(seq) FROM audit_journal WHERE writer = ?)," +
	" (SELECT max(seq) FROM audit_events WHERE writer = ?), 0)"

// insertEvent inserts e with stmt (insert, bound to a transaction) and
// sets e.ID to the id the database assigned.
func (st *auditStatements) insertEvent(ctx context.Context, stmt *sql.Stmt, e *AuditEvent) error {
	args := e.insertArgs()
	if st.returning {
		return stmt.QueryRowContext(ctx, args[:]...).Scan(&e.ID)
	}
	res, err := stmt.ExecContext(ctx, args[:]...)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	e.ID = uint64(id)
	return nil
}

// insertArgs are e's values for auditInsertColumns, in their order.
func (e *AuditEvent) insertArgs() [auditInsertColumnCount]any {
	return [auditInsertColumnCount]any{e.At, e.Kind, e.RequestID, e.Writer, e.Seq, e.PrevHash, e.Hash,
		e.UserID, e.UserEmail, e.ServiceAccount, e.ClientID, e.RouteID, e.RouteName,
		e.HTTPMethod, e.MCPMethod, e.Tool, e.Arguments, e.Decision, e.Reasons,
		e.ConfigVersion, e.SourceIP}
}

// bindVar is the n-th (from 1) placeholder in the engine's syntax.
func bindVar(postgres bool, n int) string {
	if postgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// bindVars is count placeholders from the first-th, comma-separated.
func bindVars(postgres bool, first, count int) string {
	var b strings.Builder
	for i := range count {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(bindVar(postgres, first+i))
	}
	return b.String()
}
