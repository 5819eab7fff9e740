package handlers

import (
	"fmt"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	th := NewThrottle(3, time.Minute)
	th.now = func() time.Time { return now }

	for range 3 {
		if blocked, _ := th.Blocked("a"); blocked {
			t.Fatal("blocked before the limit")
		}
		th.Fail("a")
		now = now.Add(10 * time.Second)
	}
	blocked, wait := th.Blocked("a")
	if !blocked || wait != 30*time.Second {
		t.Fatalf("after 3 failures: blocked=%v wait=%v, want blocked for 30s", blocked, wait)
	}
	if blocked, _ := th.Blocked("b"); blocked {
		t.Error("another key is blocked too")
	}
	now = now.Add(31 * time.Second)
	if blocked, _ := th.Blocked("a"); blocked {
		t.Error("still blocked after the window slid past the first failure")
	}
	th.Fail("a")
	th.Reset("a")
	if blocked, _ := th.Blocked("a"); blocked {
		t.Error("blocked after reset")
	}
}

func TestThrottleBoundsMemory(t *testing.T) {
	th := NewThrottle(3, time.Minute)
	th.maxKeys = 100
	for i := range 1000 {
		th.Fail(fmt.Sprint(i))
	}
	if n := len(th.failures); n > 100 {
		t.Errorf("%d keys kept, want at most 100", n)
	}
}
