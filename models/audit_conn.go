package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
)

// auditConn is the one connection every audit write of this process goes
// through: appends, outcomes and settles of the journal.
//
// database/sql hands out its idle connections in turn, and each SQLite
// connection has a page cache of its own, which it drops whenever another
// connection has written since its last transaction. So audit writes
// spread over the pool found their pages cold every time, and read them
// back from the WAL: a third of a lone event's cost. On one connection
// they stay warm from commit to commit. The writes were one at a time
// anyway (SQLite's write lock; the audit lock on PostgreSQL).
//
// On SQLite the connection also keeps its statements, prepared on it
// once: the audit's hot ones and the transaction's own BEGIN IMMEDIATE,
// COMMIT and ROLLBACK. A database/sql transaction would have the driver
// prepare and finalize BEGIN and COMMIT again for every one, which cost
// a lone event about a third of its transaction's CPU.
type auditConn struct {
	mu    sync.Mutex
	conn  *sql.Conn        // nil until first used, and after a failure
	stmts *auditStatements // SQLite: prepared on conn; nil on PostgreSQL
}

// auditTx is one transaction of the audit connection: a database/sql
// transaction on PostgreSQL; on SQLite the connection itself, between its
// BEGIN IMMEDIATE and its COMMIT, which runs the statements prepared on
// it.
type auditTx struct {
	st *auditStatements
	tx *sql.Tx // PostgreSQL; nil on SQLite
}

// stmt is s, one of t.st's statements, ready to run in t.
func (t *auditTx) stmt(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	if t.tx != nil {
		return t.tx.StmtContext(ctx, s)
	}
	return s // SQLite: prepared on the audit connection
}

// inAuditTx runs fn in a transaction on the audit connection and commits
// it if fn succeeds. After any failure the connection is closed, so that
// no transaction it may have left open can go back to the pool, and the
// next call opens another.
//
// fn gets the context to run its statements with. On SQLite that one
// cannot be canceled: given a context that can, the driver runs each
// statement on a goroutine of its own, to be able to interrupt it, and
// two goroutine switches per statement cost a lone event more than its
// insert does. Nothing is lost: these statements run for microseconds,
// and a wait for the write lock is bounded by the busy timeout.
func (s *Store) inAuditTx(ctx context.Context, fn func(context.Context, *auditTx) error) error {
	postgres := s.isPostgres()
	if !postgres {
		ctx = context.WithoutCancel(ctx)
	}
	c := &s.auditConn
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		if err := c.open(ctx, s.sqlDB, postgres); err != nil {
			return err
		}
	}
	var err error
	if postgres {
		err = c.postgresTx(ctx, s, fn)
	} else {
		err = c.sqliteTx(ctx, fn)
	}
	if err != nil {
		c.discard(!postgres)
	}
	return err
}

// open takes a connection from the pool and, on SQLite, creates its
// outcome batch (see audit_journal.go) and prepares the statements on it.
func (c *auditConn) open(ctx context.Context, db *sql.DB, postgres bool) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	if !postgres {
		// The connection goes back to the pool only as it came: a failure
		// below closes it.
		drop := func() {
			conn.Raw(func(any) error { return driver.ErrBadConn })
			conn.Close()
		}
		for _, q := range auditOutcomeBatchSQL {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				drop()
				return fmt.Errorf("create the audit outcome batch: %w", err)
			}
		}
		st, err := prepareAuditStatements(ctx, conn, false)
		if err != nil {
			drop()
			return err
		}
		c.stmts = st
	}
	c.conn = conn
	return nil
}

// postgresTx runs fn in a database/sql transaction, with the store's
// statements.
func (c *auditConn) postgresTx(ctx context.Context, s *Store, fn func(context.Context, *auditTx) error) error {
	st, err := s.postgresAuditStatements(ctx)
	if err != nil {
		return err
	}
	tx, err := c.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(ctx, &auditTx{st: st, tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// sqliteTx runs fn between BEGIN IMMEDIATE and COMMIT. When anything
// fails it rolls back, though the caller closes the connection anyway:
// a ROLLBACK that failed could leave the transaction open.
func (c *auditConn) sqliteTx(ctx context.Context, fn func(context.Context, *auditTx) error) error {
	st := c.stmts
	if _, err := st.begin.ExecContext(ctx); err != nil {
		return err
	}
	err := fn(ctx, &auditTx{st: st})
	if err == nil {
		if _, err = st.commit.ExecContext(ctx); err == nil {
			return nil
		}
	}
	st.rollback.ExecContext(ctx) // best effort: see above
	return err
}

// discard lets the connection go after a failure, with its statements.
// Unless it is known clean (PostgreSQL: database/sql ended the
// transaction), the driver's connection is closed too: told it is bad,
// database/sql drops it instead of putting it back in the pool.
func (c *auditConn) discard(closeDriverConn bool) {
	if c.stmts != nil {
		c.stmts.close()
		c.stmts = nil
	}
	if closeDriverConn {
		c.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	c.conn.Close() // after Raw, ErrConnDone: Raw closed it
	c.conn = nil
}

// closeAuditConn gives the audit connection back to the pool, before the
// pool closes. No transaction is open on it: inAuditTx, which holds the
// lock, ends each one.
func (s *Store) closeAuditConn() {
	c := &s.auditConn
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stmts != nil {
		c.stmts.close()
		c.stmts = nil
	}
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}
