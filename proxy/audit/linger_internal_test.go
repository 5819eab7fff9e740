package audit

import "testing"

// TestLingerPolicyBacksOff: lingers that gather nothing (requests in
// flight that wait on a slow upstream, not on the writer) stop after
// lingerMisses in a row; then one batch in lingerProbe tries again, and
// a linger that pays restores them all.
func TestLingerPolicyBacksOff(t *testing.T) {
	var l lingerPolicy
	for i := range lingerMisses {
		if !l.try() {
			t.Fatalf("linger %d refused before %d misses", i+1, lingerMisses)
		}
		l.result(false)
	}
	for round := range 3 {
		for i := range lingerProbe - 1 {
			if l.try() {
				t.Fatalf("round %d: batch %d lingered after %d misses in a row", round, i+1, lingerMisses)
			}
		}
		if !l.try() {
			t.Fatalf("round %d: batch %d did not probe", round, lingerProbe)
		}
		l.result(false)
	}
	if l.try() {
		t.Fatal("lingered right after a probe that missed")
	}
	for range lingerProbe - 2 {
		l.try()
	}
	if !l.try() {
		t.Fatal("no probe")
	}
	l.result(true)
	for i := range lingerMisses {
		if !l.try() {
			t.Fatalf("after a linger paid, linger %d refused", i+1)
		}
		l.result(false)
	}
}
