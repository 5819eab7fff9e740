// Package models holds Drawbridge's persistent state: the GORM entities,
// the Store that reads and writes them, the versioned schema migrations,
// and the cipher and password hashing that protect secrets at rest.
package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// Options configures Open.
type Options struct {
	// Driver names the database: "sqlite" or "postgres". Both hold the
	// same schema and the store behaves the same on either; PostgreSQL
	// lets several replicas share one database. (One difference: lists
	// ordered by name follow the database's collation on PostgreSQL,
	// byte order on SQLite; a database created with LC_COLLATE 'C' sorts
	// as SQLite does.)
	Driver string
	// DSN locates the database: for sqlite, a file path, or ":memory:"
	// for a private in-memory database (tests); for postgres, a
	// postgres:// URL or key=value settings, naming a database that
	// exists (Open creates the tables, not the database).
	DSN string
	// Cipher encrypts secrets at rest; required.
	Cipher *Cipher
	// Logger receives slow-query warnings and migration progress; optional.
	Logger *slog.Logger
	// ReservedHosts are hosts no route may serve from, each a host or
	// host:port: the console's, at least. Routes are refused on the
	// hostname whatever the port, because browsers share cookies across
	// ports and a route beside the console could read its session.
	ReservedHosts []string
	// Reencrypting lets a process whose current encryption key is not the
	// one the database's secrets are sealed with open it anyway: the
	// commands that re-seal them (keys reencrypt, keys rotate encryption).
	// Any other such process is refused (see checkEncryptionKeys).
	Reencrypting bool
	// ValidatePolicy, when set, checks a policy's source as the policy
	// language will compile it; models cannot import that language itself.
	// CreatePolicy and UpdatePolicy return its error wrapped, so errors.As
	// still finds whatever type it returned (line and column errors, say).
	ValidatePolicy func(name string, source []byte) error
}

// Store reads and writes Drawbridge's state. Its methods are safe for
// concurrent use.
type Store struct {
	db             *gorm.DB
	sqlDB          *sql.DB
	cipher         *Cipher
	reservedHosts  map[string]bool // hostnames, as reservedHostname returns them
	validatePolicy func(name string, source []byte) error
	onChange       atomic.Pointer[func()]
	auditHeads     auditHeadCache
	auditStmts     auditStatementCache
	auditConn      auditConn
}

// OnChange sets fn to be called after every commit that bumped the
// configuration version, in the goroutine that wrote: the proxy then
// rebuilds its snapshot at once instead of at its next poll. fn must not
// block. A later call replaces an earlier one.
func (s *Store) OnChange(fn func()) { s.onChange.Store(&fn) }

// busyTimeout is how long a SQLite connection waits for another writer's
// lock before giving up with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Open connects to the database, checks the connection settings took
// effect, and brings the schema up to date. It refuses a database whose
// schema is newer than this build knows, and one whose secrets the
// Cipher cannot open (an *EncryptionKeysError; see checkEncryptionKeys).
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Cipher == nil {
		return nil, errors.New("models: open: a cipher is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		db  *gorm.DB
		err error
	)
	switch opts.Driver {
	case "sqlite":
		db, err = openSQLite(ctx, opts.DSN, log)
	case "postgres":
		db, err = openPostgres(ctx, opts.DSN, log)
	default:
		err = fmt.Errorf("unsupported driver %q (want sqlite or postgres)", opts.Driver)
	}
	if err != nil {
		return nil, fmt.Errorf("models: open: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("models: open: %w", err)
	}
	if err := migrate(ctx, db, migrations, log); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("models: open: %w", err)
	}
	reserved := make(map[string]bool, len(opts.ReservedHosts))
	for _, h := range opts.ReservedHosts {
		if h = reservedHostname(h); h != "" {
			reserved[h] = true
		}
	}
	s := &Store{
		db:             db,
		sqlDB:          sqlDB,
		cipher:         opts.Cipher,
		reservedHosts:  reserved,
		validatePolicy: opts.ValidatePolicy,
	}
	if err := s.checkEncryptionKeys(ctx, opts.Reencrypting); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("models: open: %w", err)
	}
	// Events a stopped process journaled but never settled.
	if err := s.settleAuditJournal(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("models: open: %w", err)
	}
	return s, nil
}

// openSQLite opens path with WAL, a busy timeout, foreign keys and
// BEGIN IMMEDIATE transactions, then verifies those settings are in effect.
// BEGIN IMMEDIATE takes the write lock up front, so two transactions can
// never both read and then deadlock upgrading to write, which SQLite would
// report as SQLITE_BUSY without waiting. (The switch of a brand-new file
// to WAL is the one step SQLite may still refuse that way, should two
// processes create the same file at the same instant.)
func openSQLite(ctx context.Context, path string, log *slog.Logger) (*gorm.DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: DSN (a file path) is required")
	}
	if strings.Contains(path, "?") {
		return nil, errors.New("sqlite: DSN must be a file path without query parameters")
	}
	memory := path == ":memory:"
	dsn := fmt.Sprintf("%s?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=%d&_foreign_keys=on&_txlock=immediate",
		path, busyTimeout.Milliseconds())
	db, err := gorm.Open(sqlite.Open(dsn), gormConfig(log))
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	if memory {
		// Every connection to ":memory:" is a separate, empty database.
		sqlDB.SetMaxOpenConns(1)
	}
	if err := checkSQLitePragmas(ctx, sqlDB, !memory); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	return db, nil
}

// gormConfig is GORM's configuration, the same on every database.
func gormConfig(log *slog.Logger) *gorm.Config {
	return &gorm.Config{
		Logger: newGormLogger(log),
		// Each driver's unique and foreign key violations become
		// gorm.ErrDuplicatedKey and gorm.ErrForeignKeyViolated: see dbError.
		TranslateError: true,
		// Multi-statement writes open their own transactions; wrapping
		// every single statement in one as well only costs a round trip.
		SkipDefaultTransaction: true,
		NowFunc:                now,
	}
}

// checkSQLitePragmas reads back the settings the DSN asked for: a driver
// that ignored an unknown parameter would otherwise fail silently.
func checkSQLitePragmas(ctx context.Context, db *sql.DB, wantWAL bool) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var (
		journal     string
		foreignKeys int
		timeout     int64
	)
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&foreignKeys); err != nil {
		return fmt.Errorf("read foreign_keys: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		return fmt.Errorf("read busy_timeout: %w", err)
	}
	switch {
	case wantWAL && !strings.EqualFold(journal, "wal"):
		return fmt.Errorf("journal_mode is %q, want wal", journal)
	case foreignKeys != 1:
		return errors.New("foreign_keys is off")
	case timeout != busyTimeout.Milliseconds():
		return fmt.Errorf("busy_timeout is %d ms, want %d", timeout, busyTimeout.Milliseconds())
	}
	return nil
}

// now is the clock for every stored timestamp: UTC, and truncated to the
// microseconds PostgreSQL keeps, so a value reads back as it was written
// on either database.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// dbTime normalizes a caller's timestamp the way now does.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Close closes the database.
func (s *Store) Close() error {
	s.closeAuditConn()
	if err := s.sqlDB.Close(); err != nil {
		return fmt.Errorf("models: close: %w", err)
	}
	return nil
}

// Ping reports whether the database answers a query, for readiness checks.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.sqlDB.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("models: ping: %w", err)
	}
	return nil
}

// Cipher returns the cipher that protects secrets at rest.
func (s *Store) Cipher() *Cipher { return s.cipher }
