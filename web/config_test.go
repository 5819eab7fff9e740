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

// TestConfigTrustedProxies checks server.trusted_proxies: addresses and
// CIDR prefixes, each problem naming its entry.
func TestConfigTrustedProxies(t *testing.T) {
	c := DefaultConfig()
	c.Server.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.5", "fd00::/8", "::ffff:10.0.0.1", "10.1.2.3/8", "lb.internal", "10.0.0.0/33", "fe80::1%eth0"}
	var problems Problems
	if err := c.Validate(); !errors.As(err, &problems) {
		t.Fatalf("Validate = %v, want Problems", err)
	}
	var keys []string
	for _, p := range problems {
		if strings.HasPrefix(p.Key, "server.trusted_proxies") {
			keys = append(keys, p.Key)
		}
	}
	if want := "server.trusted_proxies[4] server.trusted_proxies[5] server.trusted_proxies[6] server.trusted_proxies[7]"; strings.Join(keys, " ") != want {
		t.Errorf("problems on %v, want %s", keys, want)
	}
	var got []string
	for _, p := range c.TrustedProxyPrefixes() {
		got = append(got, p.String())
	}
	if want := "10.0.0.0/8 192.168.1.5/32 fd00::/8 10.0.0.1/32"; strings.Join(got, " ") != want {
		t.Errorf("TrustedProxyPrefixes = %v, want %s", got, want)
	}
}
