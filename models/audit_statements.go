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
// and one outcome's write, run thousands of times a second by the
// gateway's writer. They are prepared once, so a batch binds and steps
// them once per row with no SQL to build, parse or plan: on SQLite on the
// audit connection (auditConn), with the transaction's own; on
// PostgreSQL on the database handle, so database/sql keeps each prepared
// on every connection it has run on. (GORM's prepared-statement mode
// prepares a statement first seen inside a transaction on that
// transaction alone, so it prepared again for every batch; and a
// multi-row INSERT is a new statement for every batch size.)
type auditStatements struct {
	// insert writes one event: into the journal on SQLite, with the id
	// the append assigned; into audit_events on PostgreSQL, which
	// assigns it (RETURNING id).
	insert *sql.Stmt
	// outcome writes one outcome: into audit_events on PostgreSQL; on
	// SQLite into the outcome batch, which the settle that ends its
	// transaction writes (see audit_journal.go).
	outcome *sql.Stmt
	// settle, on SQLite, are the settle's statements: see auditSettleSQL.
	settle []*sql.Stmt
	// head reads a chain's head: see auditHeadSQL. tail reads, on SQLite,
	// its newest seq and the next id: see auditTailSQL.
	head, tail *sql.Stmt
	// begin, commit and rollback are, on SQLite, the transaction's.
	begin, commit, rollback *sql.Stmt
	postgres                bool
	all                     []*sql.Stmt // to close
}

// auditStatementCache prepares PostgreSQL's statements on first use (on
// SQLite, auditConn.open prepares them on the audit connection) and
// keeps them for the store's life. A failed prepare is not kept: the next
// call tries again.
type auditStatementCache struct {
	mu    sync.Mutex
	stmts *auditStatements
}

func (s *Store) postgresAuditStatements(ctx context.Context) (*auditStatements, error) {
	c := &s.auditStmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stmts != nil {
		return c.stmts, nil
	}
	st, err := prepareAuditStatements(ctx, s.sqlDB, true)
	if err != nil {
		return nil, err
	}
	c.stmts = st
	return st, nil
}

// preparer is a *sql.DB or a *sql.Conn.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func prepareAuditStatements(ctx context.Context, db preparer, postgres bool) (st *auditStatements, err error) {
	st = &auditStatements{postgres: postgres}
	prepare := func(what, query string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var stmt *sql.Stmt
		if stmt, err = db.PrepareContext(ctx, query); err != nil {
			err = fmt.Errorf("prepare %s: %w", what, err)
			return nil
		}
		st.all = append(st.all, stmt)
		return stmt
	}
	if postgres {
		st.insert = prepare("the insert", "INSERT INTO audit_events ("+auditInsertColumns+") VALUES ("+
			bindVars(true, 1, auditInsertColumnCount)+") RETURNING id")
		st.outcome = prepare("the outcome update", auditOutcomeUpdateSQL)
	} else {
		// SQLite journals events; see audit_journal.go.
		st.insert = prepare("the insert", "INSERT INTO audit_journal (id, "+auditInsertColumns+") VALUES ("+
			bindVars(false, 1, auditInsertColumnCount+1)+")")
		st.outcome = prepare("the outcome insert", auditOutcomeBatchInsertSQL)
		for _, q := range auditSettleSQL {
			st.settle = append(st.settle, prepare("the settle", q))
		}
		st.tail = prepare("the tail's read", auditTailSQL)
		st.begin = prepare("BEGIN", "BEGIN IMMEDIATE")
		st.commit = prepare("COMMIT", "COMMIT")
		st.rollback = prepare("ROLLBACK", "ROLLBACK")
	}
	st.head = prepare("the head's read", auditHeadSQL(postgres))
	if err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

// close closes the statements.
func (st *auditStatements) close() {
	for _, stmt := range st.all {
		stmt.Close()
	}
}

// auditOutcomeColumns are the columns of an event's outcome, in the order
// the outcome statements bind them, before the event's id.
var auditOutcomeColumns = []string{"status", "rpc_error_code", "is_error", "duration_micros", "response_bytes", "outcome_at"}

// auditOutcomeUpdateSQL writes, on PostgreSQL, an event's outcome into
// audit_events, unless it has one: its arguments are the outcome
// columns' values, then the id.
var auditOutcomeUpdateSQL = func() string {
	set := make([]string, len(auditOutcomeColumns))
	for i, c := range auditOutcomeColumns {
		set[i] = c + " = " + bindVar(true, i+1)
	}
	return "UPDATE audit_events SET " + strings.Join(set, ", ") +
		" WHERE id = " + bindVar(true, len(set)+1) + " AND outcome_at IS NULL"
}()

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

// auditTailSQL reads, on SQLite, the seq of a writer's newest event, its
// first argument bound twice (a journaled event is newer than any settled
// one), and the id the next event takes: one above the journal's newest
// and above audit_events' AUTOINCREMENT counter, which also counts
// deleted events, so no id is ever given twice. Each part is one seek, or
// a row of sqlite_sequence's few.
const auditTailSQL = "SELECT coalesce((SELECT max(seq) FROM audit_journal WHERE writer = ?)," +
	" (SELECT max(seq) FROM audit_events WHERE writer = ?), 0)," +
	" max(coalesce((SELECT max(id) FROM audit_journal), 0)," +
	" coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'), 0)) + 1"

// insertEvent inserts e with stmt (insert, bound to a transaction). On
// SQLite e.ID is the id to insert it under; on PostgreSQL it is set to
// the one the database assigned.
func (st *auditStatements) insertEvent(ctx context.Context, stmt *sql.Stmt, e *AuditEvent) error {
	args := e.insertArgs()
	if st.postgres {
		return stmt.QueryRowContext(ctx, args[1:]...).Scan(&e.ID)
	}
	_, err := stmt.ExecContext(ctx, args[:]...)
	return err
}

// insertArgs are e's id and its values for auditInsertColumns, in their
// order.
func (e *AuditEvent) insertArgs() [auditInsertColumnCount + 1]any {
	return [auditInsertColumnCount + 1]any{e.ID, e.At, e.Kind, e.RequestID, e.Writer, e.Seq, e.PrevHash, e.Hash,
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
