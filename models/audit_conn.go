package models

import (
	"context"
	"database/sql"
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
type auditConn struct {
	mu   sync.Mutex
	conn *sql.Conn // nil until first used, and after a failure
}

// inAuditTx runs fn in a transaction on the audit connection and commits
// it if fn succeeds. After any failure the connection goes back to the
// pool, which drops it if it broke, and the next call takes another.
//
// fn gets the context to run its statements with. On SQLite that one
// cannot be canceled: given a context that can, the driver runs each
// statement on a goroutine of its own, to be able to interrupt it, and
// two goroutine switches per statement cost a lone event more than its
// insert does. Nothing is lost: these statements run for microseconds,
// and a wait for the write lock is bounded by the busy timeout.
func (s *Store) inAuditTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if !s.isPostgres() {
		ctx = context.WithoutCancel(ctx)
	}
	c := &s.auditConn
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		conn, err := s.sqlDB.Conn(ctx)
		if err != nil {
			return err
		}
		c.conn = conn
	}
	tx, err := c.conn.BeginTx(ctx, nil)
	if err == nil {
		if err = fn(ctx, tx); err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
	}
	if err != nil {
		c.conn.Close()
		c.conn = nil
	}
	return err
}

// closeAuditConn gives the audit connection back to the pool, before the
// pool closes.
func (s *Store) closeAuditConn() {
	c := &s.auditConn
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}
