package models

import (
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSchemaSameOnBothEngines migrates a PostgreSQL database and an
// SQLite one and compares what their catalogs say: the same tables, the
// same columns (of the same kind, NOT NULL alike), the same indexes (the
// same columns or expressions, unique and partial alike) and the same
// foreign keys (with the same ON DELETE). The migrations' own tests read
// SQLite's catalog in detail; this holds PostgreSQL to it.
func TestSchemaSameOnBothEngines(t *testing.T) {
	if !onPostgres {
		t.Skip("compares PostgreSQL's schema with SQLite's: runs with DRAWBRIDGE_TEST_DB=postgres")
	}
	pg := newTestStore(t)
	sqlite := openTestStoreWith(t, filepath.Join(t.TempDir(), "drawbridge.db"), func(o *Options) {
		o.Driver, o.DSN = "sqlite", filepath.Join(t.TempDir(), "drawbridge.db")
	})
	want, got := sqliteSchema(t, sqlite.sqlDB), postgresSchema(t, pg.sqlDB)
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Fatalf("tables on PostgreSQL: %v\non SQLite: %v", g, w)
	}
	for table, w := range want {
		g := got[table]
		for _, part := range []struct {
			what      string
			got, want []string
		}{{"columns", g.columns, w.columns}, {"indexes", g.indexes, w.indexes}, {"foreign keys", g.foreignKeys, w.foreignKeys}} {
			if !slices.Equal(part.got, part.want) {
				t.Errorf("%s's %s on PostgreSQL:\n\t%s\non SQLite:\n\t%s", table, part.what,
					strings.Join(part.got, "\n\t"), strings.Join(part.want, "\n\t"))
			}
		}
	}
	var collation string
	if err := pg.sqlDB.QueryRow(`SELECT collation_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'audit_events' AND column_name = 'tool'`).Scan(&collation); err != nil || collation != "C" {
		t.Errorf("audit_events.tool collates as %q (%v), want C, byte order, as on SQLite", collation, err)
	}
}

// tableSchema is one table as a catalog describes it, each part sorted
// and written the same way for both engines.
type tableSchema struct {
	columns     []string // "name kind [not null]", a primary key's columns marked "pk"
	indexes     []string // the CREATE INDEX statement, normalized (see indexDDL)
	foreignKeys []string // "column → table.column ON DELETE action"
}

// queryStrings runs q and returns the first column of its rows.
func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// indexNoise is what one engine writes in an index's DDL and the other
// does not: quotes, the schema, the access method, casts, and the
// parentheses and spaces PostgreSQL adds around every term.
var indexNoise = regexp.MustCompile("[`\"() ]|public\\.|using btree|::[a-z ]+")

// indexDDL normalizes a CREATE INDEX statement from either catalog.
func indexDDL(ddl string) string {
	ddl = strings.ToLower(ddl)
	ddl = strings.ReplaceAll(ddl, "if not exists ", "")
	return indexNoise.ReplaceAllString(ddl, "")
}

// sqliteKind and postgresKind name the kind of a column's declared type
// on each engine: what the store reads and writes through it. A type
// they do not know is a kind of its own, which shows in the comparison.
func sqliteKind(declared string) string {
	switch t := strings.ToLower(declared); {
	case t == "integer": // 64 bits
		return "integer"
	case t == "text", strings.HasPrefix(t, "varchar"):
		return "text"
	case t == "numeric":
		return "boolean" // GORM's SQLite type for a bool
	case t == "datetime":
		return "time"
	}
	return declared
}

func postgresKind(declared string) string {
	switch declared {
	case "bigint":
		return "integer"
	case "text", "character varying":
		return "text"
	case "boolean":
		return "boolean"
	case "timestamp with time zone":
		return "time"
	}
	return declared
}

func sqliteSchema(t *testing.T, db *sql.DB) map[string]tableSchema {
	t.Helper()
	out := map[string]tableSchema{}
	for _, table := range queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`) {
		var ts tableSchema
		rows, err := db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, typ string
			var notNull bool
			var pk int
			if err := rows.Scan(&name, &typ, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			ts.columns = append(ts.columns, describeColumn(name, sqliteKind(typ), notNull || pk > 0, pk > 0))
		}
		rows.Close()
		for _, ddl := range queryStrings(t, db, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, table) {
			ts.indexes = append(ts.indexes, indexDDL(ddl))
		}
		ts.foreignKeys = queryStrings(t, db, `SELECT group_concat("from", ',') || ' → ' || "table" || '.' || group_concat("to", ',') || ' ON DELETE ' || on_delete
			FROM (SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq) GROUP BY id`, table)
		out[table] = ts.sorted()
	}
	return out
}

func postgresSchema(t *testing.T, db *sql.DB) map[string]tableSchema {
	t.Helper()
	out := map[string]tableSchema{}
	tables := queryStrings(t, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	for _, table := range tables {
		var ts tableSchema
		pk := queryStrings(t, db, `SELECT a.attname FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
			WHERE i.indrelid = $1::regclass AND i.indisprimary`, table)
		rows, err := db.Query(`SELECT column_name, data_type, is_nullable = 'NO' FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, typ string
			var notNull bool
			if err := rows.Scan(&name, &typ, &notNull); err != nil {
				t.Fatal(err)
			}
			ts.columns = append(ts.columns, describeColumn(name, postgresKind(typ), notNull, slices.Contains(pk, name)))
		}
		rows.Close()
		for _, ddl := range queryStrings(t, db, `SELECT pg_get_indexdef(indexrelid) FROM pg_index
			WHERE indrelid = $1::regclass AND NOT indisprimary`, table) {
			ts.indexes = append(ts.indexes, indexDDL(ddl))
		}
		for _, def := range queryStrings(t, db, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = $1::regclass AND contype = 'f'`, table) {
			ts.foreignKeys = append(ts.foreignKeys, postgresForeignKey(t, def))
		}
		out[table] = ts.sorted()
	}
	return out
}

func describeColumn(name, kind string, notNull, pk bool) string {
	d := name + " " + kind
	if notNull {
		d += " not null"
	}
	if pk {
		d += " pk"
	}
	return d
}

var pgForeignKey = regexp.MustCompile(`^FOREIGN KEY \(([^)]+)\) REFERENCES ([a-z_.]+)\(([^)]+)\)(?: ON UPDATE [A-Z ]+?)?(?: ON DELETE ([A-Z ]+?))?$`)

// postgresForeignKey writes pg_get_constraintdef's FOREIGN KEY clause as
// sqliteSchema writes a foreign key.
func postgresForeignKey(t *testing.T, def string) string {
	t.Helper()
	m := pgForeignKey.FindStringSubmatch(def)
	if m == nil {
		t.Fatalf("foreign key %q: not understood", def)
	}
	action := m[4]
	if action == "" {
		action = "NO ACTION"
	}
	strip := func(s string) string { return strings.ReplaceAll(s, " ", "") }
	return fmt.Sprintf("%s → %s.%s ON DELETE %s", strip(m[1]), strings.TrimPrefix(m[2], "public."), strip(m[3]), action)
}

func (ts tableSchema) sorted() tableSchema {
	slices.Sort(ts.columns)
	slices.Sort(ts.indexes)
	slices.Sort(ts.foreignKeys)
	return ts
}
