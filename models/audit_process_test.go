package models

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// The environment that turns a run of the test binary into one helper
// process of TestAuditChainsAcrossProcesses.
const (
	helperDBEnv     = "DRAWBRIDGE_AUDIT_HELPER_DB"
	helperWriterEnv = "DRAWBRIDGE_AUDIT_HELPER_WRITER"
)

// helperRounds is how many batches each helper appends to each chain.
const helperRounds = 40

// TestAuditChainsAcrossProcesses runs three processes appending to one
// database file at once, each to its own chain and all to one shared
// chain: every chain must come out whole, the shared one included, since
// each append reads its chain's head inside its write transaction.
func TestAuditChainsAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := filepath.Join(t.TempDir(), "drawbridge.db")
	s := openTestStore(t, path) // migrated before the helpers race
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestAuditHelperProcess$", "-test.count=1")
			cmd.Env = append(os.Environ(), helperDBEnv+"="+processPath(t, path), helperWriterEnv+"=proc-"+strconv.Itoa(i))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("helper %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	st := verifyChains(t, s)
	want := map[string]int64{"proc-0": 2 * helperRounds, "proc-1": 2 * helperRounds, "proc-2": 2 * helperRounds, "shared": 3 * 3 * helperRounds}
	if len(st) != len(want) {
		t.Errorf("chains = %+v, want %v", st, want)
	}
	for w, n := range want {
		if st[w].Break != nil || st[w].Events != n {
			t.Errorf("chain %s: %+v, want %d events intact", w, st[w], n)
		}
	}
}

// TestAuditHelperProcess is one process of TestAuditChainsAcrossProcesses;
// run alone, it does nothing.
func TestAuditHelperProcess(t *testing.T) {
	path, writer := os.Getenv(helperDBEnv), os.Getenv(helperWriterEnv)
	if path == "" {
		t.Skip("a helper of TestAuditChainsAcrossProcesses")
	}
	s := openTestStore(t, path)
	ctx := context.Background()
	for i := range helperRounds {
		for _, batch := range []struct {
			writer string
			n      int
		}{{writer, 2}, {"shared", 3}} {
			evs := make([]*AuditEvent, batch.n)
			for j := range evs {
				evs[j] = testAuditEvent(i)
				evs[j].RequestID = fmt.Sprintf("%s-%d-%d", writer, i, j)
			}
			if err := s.AppendAuditEvents(ctx, batch.writer, evs); err != nil {
				t.Fatal(err)
			}
		}
	}
}
