package models

import (
	"context"
	"database/sql"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// On SQLite every write transaction begins with BEGIN IMMEDIATE, which
// takes the database's one write lock before the first read: write
// transactions run one at a time, and what one reads stays true until it
// commits. PostgreSQL runs transactions side by side, and under READ
// COMMITTED a row read may change before the transaction writes on the
// strength of it. The store keeps SQLite's guarantee there in three ways:
//
//   - a conditional UPDATE or DELETE whose WHERE repeats what was read,
//     with RowsAffected deciding who won (one-use codes, refresh leases);
//   - a row read FOR UPDATE (clause.Locking, which GORM's SQLite dialect
//     leaves out), where the rows to lock are known up front;
//   - an advisory lock per concern, below, where a whole section of reads
//     and writes must run alone: the checks it makes span tables, or rows
//     that do not exist yet.

// lockKey names a section that runs in one transaction at a time across
// every process sharing the database.
type lockKey int64

// The advisory lock keys. Their high bytes spell "DRAWBR" in ASCII, to
// stay clear of keys other applications sharing the database might use.
const (
	lockMigrations lockKey = 0x4452_4157_4252_0001 + iota
	lockConfig
	lockAudit
)

func (k lockKey) String() string {
	switch k {
	case lockMigrations:
		return "migrations"
	case lockConfig:
		return "configuration"
	case lockAudit:
		return "audit log"
	}
	return fmt.Sprintf("lock %#x", int64(k))
}

// lockExclusive makes tx the only transaction in the section key names,
// until it commits or rolls back, waiting for the one in it to finish.
// It does nothing on SQLite, where tx already runs alone.
func lockExclusive(tx *gorm.DB, key lockKey) error {
	if !isPostgres(tx) {
		return nil
	}
	if key == lockMigrations {
		// A replica starting while another migrates waits as long as the
		// migration takes, not the connection's lock_timeout.
		if err := tx.Exec("SET LOCAL lock_timeout = 0").Error; err != nil {
			return fmt.Errorf("take the %s lock: %w", key, err)
		}
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(key)).Error; err != nil {
		return fmt.Errorf("take the %s lock: %w", key, err)
	}
	return nil
}

// lockExclusiveTx is lockExclusive for a database/sql transaction, on
// PostgreSQL when postgres.
func lockExclusiveTx(ctx context.Context, tx *sql.Tx, postgres bool, key lockKey) error {
	if !postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(key)); err != nil {
		return fmt.Errorf("take the %s lock: %w", key, err)
	}
	return nil
}

// lockRows locks, FOR UPDATE and in id order, the rows of model's table
// the condition selects, until tx ends: for a transaction that must lock
// them before others it takes, so that every writer of both locks them
// in one order and none waits on another that waits on it. It does
// nothing on SQLite, where tx already runs alone.
func lockRows(tx *gorm.DB, model any, query string, args ...any) error {
	if !isPostgres(tx) {
		return nil
	}
	var ids []uint64
	return tx.Model(model).Clauses(clause.Locking{Strength: "UPDATE"}).Where(query, args...).
		Order("id").Pluck("id", &ids).Error
}

// isPostgres reports whether db is a PostgreSQL connection.
func isPostgres(db *gorm.DB) bool { return db.Dialector.Name() == "postgres" }

// isPostgres reports whether the store's database is PostgreSQL.
func (s *Store) isPostgres() bool { return isPostgres(s.db) }
