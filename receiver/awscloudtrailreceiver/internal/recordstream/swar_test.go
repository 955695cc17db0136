package recordstream

import (
	"math/rand/v2"
	"testing"
)

// TestPlainRun: the eight-bytes-at-a-time scan stops where a scan byte by
// byte does, for every byte value at every position of a word.
func TestPlainRun(t *testing.T) {
	naive := func(b []byte, i int, nonASCII bool) int {
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' || c < 0x20 || (nonASCII && c >= 0x80) {
				return i
			}
		}
		return i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, nonASCII := range []bool{false, true} {
		for c := range 256 {
			for pos := range 20 {
				b := []byte("abcdefghijklmnopqrstuvwxyz")
				for k := range b {
					// Bytes around the stop that are plain but near its value.
					b[k] = byte(0x21 + rng.IntN(0x5e))
					if b[k] == '"' || b[k] == '\\' {
						b[k] = 'a'
					}
				}
				b[pos] = byte(c)
				for start := range 3 {
					if got, want := plainRun(b, start, nonASCII), naive(b, start, nonASCII); got != want {
						t.Fatalf("byte %#x at %d, start %d, nonASCII %v: %d, want %d", c, pos, start, nonASCII, got, want)
					}
				}
			}
		}
	}
	for range 10000 {
		b := make([]byte, rng.IntN(40))
		for k := range b {
			b[k] = byte(rng.IntN(256))
		}
		for _, nonASCII := range []bool{false, true} {
			if got, want := plainRun(b, 0, nonASCII), naive(b, 0, nonASCII); got != want {
				t.Fatalf("%q nonASCII %v: %d, want %d", b, nonASCII, got, want)
			}
		}
	}
}
