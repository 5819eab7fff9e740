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
	insertSQL := "INSERT INTO audit_events (" + auditInsertColumns + ") VALUES (" +
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
	c.stmts = &auditStatements{insert: insert, outcome: outcome, returning: postgres}
	return c.stmts, nil
}

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
