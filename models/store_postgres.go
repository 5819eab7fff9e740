package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// The connection pool on PostgreSQL: a server other replicas share, so
// each keeps a modest pool, and recycles its connections, so that a
// failover or a pooler's rebalancing reaches all of them in time.
const (
	pgMaxOpenConns    = 20
	pgMaxIdleConns    = 5
	pgConnMaxLifetime = 30 * time.Minute
	pgConnMaxIdleTime = 5 * time.Minute
	// pgConnectTimeout bounds Open's first connection when the DSN sets
	// no connect_timeout: a server that does not answer is an error, not
	// a hang.
	pgConnectTimeout = 30 * time.Second
	// pgIdleInTransaction ends a session idle inside a transaction for
	// this long.
	pgIdleInTransaction = time.Minute
)

// openPostgres connects to the database dsn names, with the GORM
// settings SQLite has, and checks the server settings the store's SQL
// relies on. Neither its errors nor its logs ever show the password.
func openPostgres(ctx context.Context, dsn string, log *slog.Logger) (*gorm.DB, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("postgres: DSN is required: a postgres:// URL or key=value settings")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: DSN: %s", dsnProblem(err))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	// SQLite gives up on a lock after busyTimeout; so does PostgreSQL
	// here, and it ends a session left idle inside a transaction (a
	// replica that hung mid-write) rather than let its locks stall every
	// other replica. The DSN may set either otherwise.
	for name, value := range map[string]string{
		"lock_timeout":                        fmt.Sprintf("%dms", busyTimeout.Milliseconds()),
		"idle_in_transaction_session_timeout": fmt.Sprintf("%dms", pgIdleInTransaction.Milliseconds()),
	} {
		if _, set := cfg.RuntimeParams[name]; !set {
			cfg.RuntimeParams[name] = value
		}
	}
	where := fmt.Sprintf("postgres %s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	sqlDB := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(scanTimesInUTC))
	sqlDB.SetMaxOpenConns(pgMaxOpenConns)
	sqlDB.SetMaxIdleConns(pgMaxIdleConns)
	sqlDB.SetConnMaxLifetime(pgConnMaxLifetime)
	sqlDB.SetConnMaxIdleTime(pgConnMaxIdleTime)
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gormConfig(log))
	if err == nil {
		err = checkPostgresSettings(ctx, sqlDB)
	}
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return db, nil
}

// dsnProblem says what pgx found wrong with a DSN without repeating the
// DSN, which holds the password (pgx masks it, but the safest DSN in an
// error is none).
func dsnProblem(err error) string {
	msg := err.Error()
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		// "cannot parse `<dsn>`: <problem>"
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			msg = msg[i+len("`: "):]
		}
	}
	return "not a postgres:// URL or key=value settings: " + msg
}

// scanTimesInUTC makes a connection return timestamptz values in UTC, as
// SQLite returns what now and dbTime store, so that a time reads back
// the same, zone included, on either database.
func scanTimesInUTC(_ context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterType(&pgtype.Type{
		Name:  "timestamptz",
		OID:   pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
	})
	return nil
}

// checkPostgresSettings connects, and checks the one setting the store's
// SQL depends on: LIKE … ESCAPE '\' needs backslashes in string literals
// to be plain characters.
func checkPostgresSettings(ctx context.Context, db *sql.DB) error {
	var conforming string
	if err := db.QueryRowContext(ctx, "SHOW standard_conforming_strings").Scan(&conforming); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if conforming != "on" {
		return fmt.Errorf("standard_conforming_strings is %q, want on (the default since PostgreSQL 9.1)", conforming)
	}
	return nil
}
