// Package jsonscan holds the JSON lexing that the receiver's record reader
// (receiver/awscloudtrailreceiver/internal/recordstream) and the Datadog
// exporters' validator (exporter/internal/datadog, ScanObject) share:
// string content eight bytes at a time, escape sequences and the number
// grammar of RFC 8259. It reads bytes and decodes nothing.
package jsonscan

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

// StopMask returns the high bits of the bytes of w (little-endian) that
// end a run of plain string content: '"', '\\' and control characters,
// and also bytes ≥ 0x80 with nonASCII. Its lowest set bit marks the first
// such byte.
func StopMask(w uint64, nonASCII bool) uint64 {
	q, bs := w^(lsb8*'"'), w^(lsb8*'\\')
	m := (w-lsb8*0x20)&^w | (q-lsb8)&^q | (bs-lsb8)&^bs
	if nonASCII {
		m |= w
	}
	return m & msb8
}

// PlainRun returns the index of the first byte of b at or after i that
// stops a string scan (see StopMask), or len(b). Its first loop is Words'
// written out: calling Words (or running the tail loop once more after
// it) measured 2–4 % slower on records of short strings.
func PlainRun(b []byte, i int, nonASCII bool) int {
	for i+8 <= len(b) {
		if m := StopMask(binary.LittleEndian.Uint64(b[i:]), nonASCII); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 || (nonASCII && c >= 0x80) {
			return i
		}
	}
	return i
}

// Words is PlainRun over whole words of eight bytes: it returns the index
// of the first byte at or after i that stops a string scan, or the index
// of the last incomplete word of b. It inlines, for callers whose
// strings are often short.
func Words(b []byte, i int, nonASCII bool) int {
	for i+8 <= len(b) {
		if m := StopMask(binary.LittleEndian.Uint64(b[i:]), nonASCII); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	return i
}

// Stops reports whether c stops a string scan: '"', '\\', a control
// character, or with nonASCII a byte ≥ 0x80.
func Stops(c byte, nonASCII bool) bool {
	if nonASCII {
		return stopsAny[c]
	}
	return stopsASCII[c]
}

// stopsASCII and stopsAny tabulate Stops (one load per byte in the loops
// of short strings).
var stopsASCII, stopsAny = func() (a, n [256]bool) {
	for c := range 256 {
		a[c] = c == '"' || c == '\\' || c < 0x20
		n[c] = a[c] || c >= 0x80
	}
	return a, n
}()

// Escape returns the length of the escape sequence whose backslash is
// b[i]: 2 for \" \\ \/ \b \f \n \r \t, 6 for \uXXXX. It returns 0 when b
// ends before the sequence does, and -1 when it is not a JSON escape.
func Escape(b []byte, i int) int {
	if i+1 >= len(b) {
		return 0
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if i+6 > len(b) {
			return 0
		}
		if !IsHex(b[i+2]) || !IsHex(b[i+3]) || !IsHex(b[i+4]) || !IsHex(b[i+5]) {
			return -1
		}
		return 6
	}
	return -1
}

// IsHex reports a hexadecimal digit.
func IsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Number returns the length of the JSON number at the start of b,
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and whether it has an
// exponent. n is 0 when b does not start with a number, or when a fraction
// or an exponent has no digit. The number ends at the first byte that
// cannot continue it ("01" is the number 0 followed by 1).
func Number(b []byte) (n int, exp bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		d := digits(b, i+1)
		if d == i+1 {
			return 0, false
		}
		i = d
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := digits(b, i)
		if d == i {
			return 0, false
		}
		return d, true
	}
	return i, false
}

// digits returns the end of the run of decimal digits at b[i].
func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
