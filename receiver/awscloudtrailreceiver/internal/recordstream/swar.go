package recordstream

import (
	"encoding/binary"
	"math/bits"
)

// Strings are scanned eight bytes at a time up to the first byte that
// needs attention. For a word w of eight bytes, (w - 0x01…01*n) &^ w &
// 0x80…80 has the high bit of each byte below n ≤ 0x80 set (a borrow only
// carries upwards from a byte that matched, so the lowest set bit marks
// the first such byte exactly).
const (
	lsb8 = 0x0101010101010101
	msb8 = 0x8080808080808080
)

// stopMask returns the high bits of the bytes of w (little-endian) that
// end a run of plain string content: '"', '\\' and control characters,
// and also bytes ≥ 0x80 with nonASCII.
func stopMask(w uint64, nonASCII bool) uint64 {
	q, bs := w^(lsb8*'"'), w^(lsb8*'\\')
	m := (w-lsb8*0x20)&^w | (q-lsb8)&^q | (bs-lsb8)&^bs
	if nonASCII {
		m |= w
	}
	return m & msb8
}

// plainRun returns the index of the first byte of b at or after i that
// stops a string scan (see stopMask), or len(b).
func plainRun(b []byte, i int, nonASCII bool) int {
	for i+8 <= len(b) {
		if m := stopMask(binary.LittleEndian.Uint64(b[i:]), nonASCII); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) {
		c := b[i]
		if c == '"' || c == '\\' || c < 0x20 || (nonASCII && c >= 0x80) {
			return i
		}
		i++
	}
	return i
}
