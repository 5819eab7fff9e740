package web

import (
	"os"
	"testing"

	"github.com/drawbridge/drawbridge/models/pgtest"
)

// TestMain stops the PostgreSQL cluster a test started through pgtest,
// if one did (see newReplicas).
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}
