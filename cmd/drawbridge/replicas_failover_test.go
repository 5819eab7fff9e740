package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testReplicaKilledUnderLoad: 16 clients call through the balancer when
// one replica is killed with SIGKILL. The other two must go on serving
// (the balancer skips the dead one); every call the upstream ran must
// have its audit event in the shared table, since each replica commits
// an event before it forwards the call; and the audit log verifies,
// with one intact chain per replica, the dead one's included.
func testReplicaKilledUnderLoad(t *testing.T, rs *replicaSet) {
	const victim, workers = 2, 16
	client := dialAll(rs.lb.URL)
	client.Transport = bearerTransport{bearer: rs.agent, base: client.Transport}
	call := func(text string) (int, error) {
		status, _, err := callTool(client, rs.loadURL, "echo", `{"text":"`+text+`"}`)
		return status, err
	}
	if status, err := call("warm-up"); status != http.StatusOK || err != nil {
		t.Fatalf("a call through the balancer before the kill: %d, %v", status, err)
	}

	var killed atomic.Bool
	var okBefore, okAfter, failedAfter atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				status, err := call(fmt.Sprintf("w%d-%d", w, n))
				switch ok := err == nil && status == http.StatusOK; {
				case !killed.Load() && ok:
					okBefore.Add(1)
				case killed.Load() && ok:
					okAfter.Add(1)
				case killed.Load():
					failedAfter.Add(1) // in flight to the victim: 502
				}
			}
		})
	}
	stopLoad := func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}
	defer stopLoad()
	waitFor(t, 20*time.Second, "100 calls to reach the upstream before the kill", func() bool { return countSeen(rs.loadSeen) >= 100 })
	rs.replicas[victim].kill()
	killed.Store(true)
	waitFor(t, 20*time.Second, "100 calls answered after the kill", func() bool { return okAfter.Load() >= 100 })
	stopLoad()
	if !rs.lb.isDown(victim) {
		t.Errorf("the balancer never found replica %d down", victim)
	}

	db, err := sql.Open("pgx", rs.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	audited := auditedTextsIn(t, db)
	var upstream, missing int
	rs.loadSeen.Range(func(k, _ any) bool {
		upstream++
		if !audited[k.(string)] {
			missing++
			t.Errorf("the upstream ran echo %q, and the audit log does not have it", k)
		}
		return missing < 10
	})
	t.Logf("%d calls answered before the kill, %d after (%d failed after it), %d reached the upstream, %d echo events audited",
		okBefore.Load(), okAfter.Load(), failedAfter.Load(), upstream, len(audited))

	// One chain per replica, named for its process; the CLI fails on a
	// broken one.
	out := rs.replicas[0].cli(t, "", "audit", "verify")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1+replicaCount {
		t.Errorf("audit verify shows %d chains, want one per replica (%d):\n%s", len(lines)-1, replicaCount, out)
	}
	for i, r := range rs.replicas {
		mine := "-" + strconv.Itoa(r.Pid) + "-"
		found := false
		for _, l := range lines[1:] {
			if writer, _, _ := strings.Cut(l, " "); strings.Contains(writer, mine) {
				found = strings.Contains(l, "intact")
			}
		}
		if !found {
			t.Errorf("audit verify shows no intact chain for replica %d (pid %d):\n%s", i, r.Pid, out)
		}
	}
}

// waitFor polls cond every 20 ms until it holds, failing t after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
