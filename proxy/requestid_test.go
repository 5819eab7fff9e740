package proxy

import (
	"testing"

	"github.com/google/uuid"
)

// TestRequestIDsSortInOrder: the audit log's request index relies on
// each id sorting after the ones made before it.
func TestRequestIDsSortInOrder(t *testing.T) {
	prev := ""
	seen := map[string]bool{}
	for range 10000 {
		id := NewRequestID()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 7 || u.String() != id {
			t.Fatalf("%q is not a UUIDv7 in its canonical form (%v)", id, err)
		}
		if id <= prev || seen[id] {
			t.Fatalf("%q came after %q", id, prev)
		}
		seen[id], prev = true, id
	}
}
