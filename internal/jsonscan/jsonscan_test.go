package jsonscan

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// stops is the byte-at-a-time definition of the bytes that stop a string
// scan.
func stops(c byte, nonASCII bool) bool {
	return c == '"' || c == '\\' || c < 0x20 || (nonASCII && c >= 0x80)
}

// TestPlainRun: the eight-bytes-at-a-time scan (PlainRun, and Words
// followed by Stops as the exporter's validator inlines it) stops where a
// scan byte by byte does, for every byte value at every position of a word.
func TestPlainRun(t *testing.T) {
	inlined := func(b []byte, i int, nonASCII bool) int {
		for i = Words(b, i, nonASCII); i < len(b) && !Stops(b[i], nonASCII); i++ {
		}
		return i
	}
	naive := func(b []byte, i int, nonASCII bool) int {
		for ; i < len(b); i++ {
			if stops(b[i], nonASCII) {
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
					want := naive(b, start, nonASCII)
					if got := PlainRun(b, start, nonASCII); got != want {
						t.Fatalf("byte %#x at %d, start %d, nonASCII %v: %d, want %d", c, pos, start, nonASCII, got, want)
					}
					if got := inlined(b, start, nonASCII); got != want {
						t.Fatalf("Words+Stops: byte %#x at %d, start %d, nonASCII %v: %d, want %d", c, pos, start, nonASCII, got, want)
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
			want := naive(b, 0, nonASCII)
			if got := PlainRun(b, 0, nonASCII); got != want {
				t.Fatalf("%q nonASCII %v: %d, want %d", b, nonASCII, got, want)
			}
			if got := inlined(b, 0, nonASCII); got != want {
				t.Fatalf("Words+Stops: %q nonASCII %v: %d, want %d", b, nonASCII, got, want)
			}
		}
	}
}

// TestStopMaskFirst: the lowest bit StopMask sets marks the first byte
// that stops a scan, whatever the bytes after it.
func TestStopMaskFirst(t *testing.T) {
	for _, nonASCII := range []bool{false, true} {
		for c := 0; c < 256; c++ {
			for pos := 0; pos < 8; pos++ {
				for _, after := range []byte{0x00, '"', 0x1f, 0xff, 'a'} {
					b := []byte("abcdefgh")
					b[pos] = byte(c)
					for j := pos + 1; j < 8; j++ {
						b[j] = after
					}
					first := 8
					for j := 0; j < 8; j++ {
						if stops(b[j], nonASCII) {
							first = j
							break
						}
					}
					got := 8
					if m := StopMask(binary.LittleEndian.Uint64(b), nonASCII); m != 0 {
						got = bits.TrailingZeros64(m) >> 3
					}
					assert.Equal(t, first, got, "%q nonASCII %v", b, nonASCII)
				}
			}
		}
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{`\"`, 2}, {`\\`, 2}, {`\/`, 2}, {`\b`, 2}, {`\f`, 2}, {`\n`, 2}, {`\r`, 2}, {`\t`, 2},
		{`\u00e9`, 6}, {`\uABCDx`, 6}, {`\uabcd`, 6},
		{`\`, 0}, {`\u`, 0}, {`\u00e`, 0},
		{`\x`, -1}, {`\U00e9`, -1}, {`\u00g9`, -1}, {`\u 0e9`, -1}, {`\a`, -1}, {`\0`, -1},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Escape([]byte("ab"+tt.in), 2), "%s", tt.in)
	}
}

// TestNumber: Number takes the longest prefix the RFC 8259 grammar
// matches, and nothing when a fraction or an exponent has no digit.
func TestNumber(t *testing.T) {
	tests := []struct {
		in  string
		n   int
		exp bool
	}{
		{"0", 1, false}, {"-0", 2, false}, {"01", 1, false}, {"123,", 3, false}, {"-12.5]", 5, false},
		{"1e5", 3, true}, {"1E+5", 4, true}, {"-1.5e-10}", 8, true}, {"0.0e0", 5, true},
		{"", 0, false}, {"-", 0, false}, {"+1", 0, false}, {".5", 0, false}, {"1.", 0, false}, {"1.e5", 0, false},
		{"1e", 0, false}, {"1e+", 0, false}, {"-a", 0, false}, {"a", 0, false},
	}
	for _, tt := range tests {
		n, exp := Number([]byte(tt.in))
		assert.Equal(t, tt.n, n, "%q", tt.in)
		assert.Equal(t, tt.exp, exp, "%q", tt.in)
	}
	// Against the grammar as a regular expression, on random texts of
	// number bytes.
	re := regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`)
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "-+.eE0123456789x"
	for range 200000 {
		b := make([]byte, rng.IntN(12))
		for k := range b {
			b[k] = alphabet[rng.IntN(len(alphabet))]
		}
		n, exp := Number(b)
		m := re.FindSubmatchIndex(b)
		want, wantExp := 0, false
		// The longest match is the number unless a '.' or an exponent
		// marker follows it without its digits.
		if m != nil {
			want, wantExp = m[1], m[6] >= 0
			if rest := b[m[1]:]; len(rest) > 0 && (rest[0] == '.' && m[4] < 0 && m[6] < 0 || (rest[0] == 'e' || rest[0] == 'E') && m[6] < 0) {
				want, wantExp = 0, false
			}
		}
		if n != want || exp != wantExp {
			t.Fatalf("Number(%q) = %d, %v; want %d, %v", b, n, exp, want, wantExp)
		}
	}
}
