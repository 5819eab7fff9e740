package web

import (
	"errors"
	"strings"
	"testing"
)

// TestConfigDatabase checks database.driver and database.dsn: sqlite
// needs no DSN (the data directory holds the file), postgres needs one,
// and no problem repeats a DSN, which may hold a password.
func TestConfigDatabase(t *testing.T) {
	tests := []struct {
		name        string
		db          DatabaseConfig
		key, reason string // the problem expected, "" for none
	}{
		{"sqlite in the data directory", DatabaseConfig{Driver: "sqlite"}, "", ""},
		{"sqlite elsewhere", DatabaseConfig{Driver: "sqlite", DSN: "/var/lib/drawbridge/db.sqlite"}, "", ""},
		{"postgres URL", DatabaseConfig{Driver: "postgres", DSN: "postgres://drawbridge:s3cret@db:5432/drawbridge?sslmode=require"}, "", ""},
		{"postgresql URL", DatabaseConfig{Driver: "postgres", DSN: "postgresql://db/drawbridge"}, "", ""},
		{"postgres key=value", DatabaseConfig{Driver: "postgres", DSN: "host=db dbname=drawbridge password=s3cret://x"}, "", ""},
		{"postgres without dsn", DatabaseConfig{Driver: "postgres"}, "database.dsn", "DRAWBRIDGE_DATABASE_DSN"},
		{"postgres blank dsn", DatabaseConfig{Driver: "postgres", DSN: "  "}, "database.dsn", "is required"},
		{"postgres with another URL", DatabaseConfig{Driver: "postgres", DSN: "mysql://root:s3cret@db/drawbridge"}, "database.dsn", "not a mysql:// URL"},
		{"unknown driver", DatabaseConfig{Driver: "mysql", DSN: "root:s3cret@tcp(db)/drawbridge"}, "database.driver", `must be sqlite or postgres, got "mysql"`},
		{"no driver", DatabaseConfig{}, "database.driver", "must be sqlite or postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Database = tt.db
			var problems Problems
			if err := c.Validate(); err != nil && !errors.As(err, &problems) {
				t.Fatalf("Validate = %v, want Problems", err)
			}
			var got []Problem
			for _, p := range problems {
				if strings.HasPrefix(p.Key, "database.") {
					got = append(got, p)
				}
			}
			switch {
			case tt.key == "" && len(got) > 0:
				t.Errorf("problems %v, want none", got)
			case tt.key != "" && (len(got) != 1 || got[0].Key != tt.key || !strings.Contains(got[0].Message, tt.reason)):
				t.Errorf("problems %v, want one on %s saying %q", got, tt.key, tt.reason)
			}
			for _, p := range got {
				if strings.Contains(p.Message, "s3cret") {
					t.Errorf("%s: %q repeats the password", p.Key, p.Message)
				}
			}
		})
	}
}
