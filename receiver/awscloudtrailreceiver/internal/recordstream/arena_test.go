package recordstream

import (
	"bytes"
	"fmt"
	"testing"
)

// TestArena: every string the arena hands out keeps its value while the
// arena fills blocks after it and the source bytes are overwritten.
func TestArena(t *testing.T) {
	var a arena
	src := make([]byte, 0, 4*arenaMaxString)
	var want, got []string
	for i := range 2000 {
		// Lengths from 0 to past arenaMaxString, so that blocks fill up
		// unevenly and long strings take their own allocation.
		n := (i * 37) % (arenaMaxString + 200)
		src = append(src[:0], bytes.Repeat([]byte{byte('a' + i%26)}, n)...)
		src = fmt.Appendf(src, "#%d", i)
		want = append(want, string(src))
		got = append(got, a.str(src))
		for j := range src {
			src[j] = 'x'
		}
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("string %d: %q, want %q", i, got[i], want[i])
		}
	}
	if s := a.str(nil); s != "" {
		t.Fatalf("empty: %q", s)
	}
}
