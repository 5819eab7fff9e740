package mcp

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// specialMask must flag a word exactly when it holds a byte str cannot
// skip, and its lowest flag must be the first such byte: strAt jumps there.
func TestSpecialMask(t *testing.T) {
	check := func(w [8]byte) {
		want := 8
		for i, c := range w {
			if !plain[c] {
				want = i
				break
			}
		}
		m := specialMask(binary.LittleEndian.Uint64(w[:]))
		if got := bits.TrailingZeros64(m) / 8; got != want || m&^0x8080808080808080 != 0 {
			t.Fatalf("specialMask(%q) = %#x: first special byte %d, want %d", w, m, got, want)
		}
	}
	for c := range 256 {
		for pos := range 8 {
			w := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
			w[pos] = byte(c)
			check(w)
			// A special byte below another, which a borrow could hide.
			for d := range 256 {
				if pos < 7 {
					w2 := w
					w2[pos+1] = byte(d)
					check(w2)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		check(w)
	}
}

// strAt ends each string at its closing quote and refuses the special byte
// there instead, whether that byte falls in a word read whole or in the
// bytes after the last one.
func TestStrFindsSpecialByte(t *testing.T) {
	for n := range 40 {
		for stop := 0; stop < n; stop++ {
			for _, c := range []byte{'"', '\\', '\n', 0xff} {
				b := make([]byte, n+1)
				b[0] = '"'
				for i := 1; i <= n; i++ {
					b[i] = 'x'
				}
				b[1+stop] = c
				end, _, err := strAt(b, 0)
				if c == '"' && (err != nil || end != 2+stop) {
					t.Fatalf("strAt(%q) ended at %d, %v; want %d", b, end, err, 2+stop)
				}
				if c != '"' && (err == nil || end != 1+stop) {
					t.Fatalf("strAt(%q) refused at %d, %v; want an error at %d", b, end, err, 1+stop)
				}
			}
		}
	}
}
