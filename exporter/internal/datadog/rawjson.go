package datadog

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// Span is a top-level member of a JSON object: the offsets of its key
// (quotes included) and of its value, in the scanned text.
type Span struct {
	KeyStart, KeyEnd, ValueStart, ValueEnd int
	// Escaped reports that the key holds a backslash escape.
	Escaped bool
}

// Key returns the member's key, unescaped.
func (s Span) Key(b []byte) string {
	if !s.Escaped {
		return string(b[s.KeyStart+1 : s.KeyEnd-1])
	}
	var k string
	_ = json.Unmarshal(b[s.KeyStart:s.KeyEnd], &k)
	return k
}

// Scanned is the result of ScanObject.
type Scanned struct {
	// Open and Close are the offsets of the object's braces.
	Open, Close int
	// Members are the top-level members, in order.
	Members []Span
	// BadUTF8 reports invalid UTF-8 inside strings (the only place a
	// valid JSON text can hold bytes ≥ 0x80).
	BadUTF8 bool
}

// strPlain marks the bytes a JSON string holds as they are.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// ScanObject checks that b is one JSON object (RFC 8259, surrounding
// whitespace allowed) and returns its top-level members, reusing
// members' array. It does not decode anything; it is linear in len(b).
func ScanObject(b []byte, members []Span) (Scanned, bool) {
	s := scanner{b: b}
	out := Scanned{Members: members[:0]}
	s.ws()
	if s.i >= len(b) || b[s.i] != '{' {
		return out, false
	}
	out.Open = s.i
	s.i++
	s.ws()
	if s.i < len(b) && b[s.i] == '}' {
		s.i++
	} else {
		for {
			var m Span
			m.KeyStart = s.i
			esc, ok := s.str()
			if !ok {
				return out, false
			}
			m.KeyEnd, m.Escaped = s.i, esc
			s.ws()
			if s.i >= len(b) || b[s.i] != ':' {
				return out, false
			}
			s.i++
			s.ws()
			m.ValueStart = s.i
			if !s.value(1) {
				return out, false
			}
			m.ValueEnd = s.i
			out.Members = append(out.Members, m)
			s.ws()
			if s.i >= len(b) {
				return out, false
			}
			if b[s.i] == '}' {
				s.i++
				break
			}
			if b[s.i] != ',' {
				return out, false
			}
			s.i++
			s.ws()
		}
	}
	out.Close = s.i - 1
	s.ws()
	out.BadUTF8 = s.bad
	return out, s.i == len(b)
}

// maxDepth bounds nesting, as encoding/json does (10000).
const maxDepth = 10000

type scanner struct {
	b   []byte
	i   int
	bad bool // invalid UTF-8 in a string
}

func (s *scanner) ws() {
	for s.i < len(s.b) && s.b[s.i] <= ' ' {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str reads a string at s.i; esc reports a backslash escape in it.
func (s *scanner) str() (esc, ok bool) {
	b := s.b
	if s.i >= len(b) || b[s.i] != '"' {
		return false, false
	}
	i := s.i + 1
	for {
		// Eight bytes at a time up to the first that needs attention.
		for i+8 <= len(b) {
			if m := special8(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && strPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return esc, false
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return esc, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return esc, false
				}
				i += 6
			default:
				return esc, false
			}
		case c < 0x20:
			return esc, false
		default: // ≥ 0x80
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				s.bad = true
			}
			i += size
		}
	}
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain8 reports whether the eight bytes of w are all plain string bytes:
// none is '"', '\\', a control character (< 0x20) or ≥ 0x80. (x - ones*n)
// &^ x & highs is non-zero exactly when a byte of x is below n ≤ 0x80.
func plain8(w uint64) bool { return special8(w) == 0 }

// special8 returns the high bits of the bytes of w (little-endian) that are
// not plain string bytes; its lowest set bit marks the first such byte
// exactly (a borrow only carries upwards from a byte that matched).
func special8(w uint64) uint64 {
	q, bs := w^(ones*'"'), w^(ones*'\\')
	return ((w-ones*0x20)&^w | (q-ones)&^q | (bs-ones)&^bs | w) & highs
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// value reads any JSON value at s.i.
func (s *scanner) value(depth int) bool {
	b := s.b
	if s.i >= len(b) || depth > maxDepth {
		return false
	}
	if b[s.i] == '"' {
		_, ok := s.str()
		return ok
	}
	switch c := b[s.i]; {
	case c == '{':
		s.i++
		s.ws()
		if s.i < len(b) && b[s.i] == '}' {
			s.i++
			return true
		}
		for {
			if _, ok := s.str(); !ok {
				return false
			}
			s.ws()
			if s.i >= len(b) || b[s.i] != ':' {
				return false
			}
			s.i++
			s.ws()
			if !s.value(depth + 1) {
				return false
			}
			if done, ok := s.sep('}'); done || !ok {
				return ok
			}
		}
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(b) && b[s.i] == ']' {
			s.i++
			return true
		}
		for {
			if !s.value(depth + 1) {
				return false
			}
			if done, ok := s.sep(']'); done || !ok {
				return ok
			}
		}
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

// sep moves past what follows a member or an element: the closing byte
// (done) or a comma and the blanks after it; ok is false on anything else.
func (s *scanner) sep(closing byte) (done, ok bool) {
	s.ws()
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case closing:
		s.i++
		return true, true
	case ',':
		s.i++
		s.ws()
		return false, true
	}
	return false, false
}

func (s *scanner) lit(w string) bool {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	b, i := s.b, s.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	big := i-s.i > 300 // digits enough to pass float64's range
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
		big = true
	}
	// A number beyond float64 (1e400) is valid JSON, but the intake
	// refuses it, and with it the whole request: not a text to splice.
	if big {
		if f, err := strconv.ParseFloat(string(b[s.i:i]), 64); err != nil && math.IsInf(f, 0) {
			return false
		}
	}
	s.i = i
	return true
}

// AppendRepairedUTF8 appends b with every invalid UTF-8 byte replaced by
// the escape \ufffd, as AppendString does. For a JSON text whose invalid
// bytes are all inside strings (ScanObject's BadUTF8), the result is
// valid JSON.
func AppendRepairedUTF8(dst, b []byte) []byte {
	start := 0
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, b[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, b[start:]...)
}
