package datadog

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/jsonscan"
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

// ScanObject checks that b is one JSON object (RFC 8259, surrounding
// whitespace allowed) and returns its top-level members, reusing
// members' array. It does not decode anything; it is linear in len(b).
func ScanObject(b []byte, members []Span) (Scanned, bool) {
	s := scanner{b: b}
	out := Scanned{Members: members[:0]}
	i := s.ws(0)
	if i >= len(b) || b[i] != '{' {
		return out, false
	}
	out.Open = i
	i = s.ws(i + 1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			var m Span
			m.KeyStart = i
			var esc bool
			if i, esc = s.str(i); i < 0 {
				return out, false
			}
			m.KeyEnd, m.Escaped = i, esc
			i = s.ws(i)
			if i >= len(b) || b[i] != ':' {
				return out, false
			}
			i = s.ws(i + 1)
			m.ValueStart = i
			if i = s.value(i, 1); i < 0 {
				return out, false
			}
			m.ValueEnd = i
			out.Members = append(out.Members, m)
			i = s.ws(i)
			if i >= len(b) {
				return out, false
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return out, false
			}
			i = s.ws(i + 1)
		}
	}
	out.Close = i - 1
	i = s.ws(i)
	out.BadUTF8 = s.bad
	return out, i == len(b)
}

// maxDepth bounds nesting, as encoding/json does (10000).
const maxDepth = 10000

// scanner validates JSON text. Its methods take the offset to read at and
// return the offset after what they read, or -1 when the text is not
// valid there (the offset stays in a register rather than in the struct).
type scanner struct {
	b   []byte
	bad bool // invalid UTF-8 in a string
}

// ws returns the offset of the first byte at or after i that is not
// JSON whitespace.
func (s *scanner) ws(i int) int {
	b := s.b
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// str reads a string at i; esc reports a backslash escape in it.
func (s *scanner) str(i int) (next int, esc bool) {
	b := s.b
	if i >= len(b) || b[i] != '"' {
		return -1, false
	}
	i++
	for {
		// jsonscan.PlainRun, inlined: a string is often short.
		// Words stops on a stop byte, or within 8 bytes of the end.
		if i = jsonscan.Words(b, i, true); i+8 > len(b) {
			for i < len(b) && !jsonscan.Stops(b[i], true) {
				i++
			}
		}
		if i >= len(b) {
			return -1, esc
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc
		case c == '\\':
			esc = true
			n := jsonscan.Escape(b, i)
			if n <= 0 {
				return -1, esc
			}
			i += n
		case c < 0x20:
			return -1, esc
		default: // ≥ 0x80
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				s.bad = true
			}
			i += size
		}
	}
}

// value reads any JSON value at i.
func (s *scanner) value(i, depth int) int {
	b := s.b
	if i >= len(b) || depth > maxDepth {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		i, _ = s.str(i)
		return i
	case c == '{':
		i = s.ws(i + 1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for {
			if i, _ = s.str(i); i < 0 {
				return -1
			}
			i = s.ws(i)
			if i >= len(b) || b[i] != ':' {
				return -1
			}
			if i = s.value(s.ws(i+1), depth+1); i < 0 {
				return -1
			}
			var done bool
			if i, done = s.sep(i, '}'); done || i < 0 {
				return i
			}
		}
	case c == '[':
		i = s.ws(i + 1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for {
			if i = s.value(i, depth+1); i < 0 {
				return -1
			}
			var done bool
			if i, done = s.sep(i, ']'); done || i < 0 {
				return i
			}
		}
	case c == 't':
		return s.lit(i, "true")
	case c == 'f':
		return s.lit(i, "false")
	case c == 'n':
		return s.lit(i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number(i)
	}
	return -1
}

// sep reads what follows a member or an element at i: the closing byte
// (done, the offset after it) or a comma and the blanks after it.
func (s *scanner) sep(i int, closing byte) (next int, done bool) {
	b := s.b
	if i = s.ws(i); i >= len(b) {
		return -1, false
	}
	switch b[i] {
	case closing:
		return i + 1, true
	case ',':
		return s.ws(i + 1), false
	}
	return -1, false
}

func (s *scanner) lit(i int, w string) int {
	if len(s.b)-i < len(w) || string(s.b[i:i+len(w)]) != w {
		return -1
	}
	return i + len(w)
}

// number reads a number at i (jsonscan.Number).
func (s *scanner) number(i int) int {
	n, exp := jsonscan.Number(s.b[i:])
	if n == 0 {
		return -1
	}
	// A number beyond float64 (1e400) is valid JSON, but the intake
	// refuses it, and with it the whole request: not a text to splice.
	// Only an exponent or more than 300 digits can pass float64's range.
	if exp || n > 300 {
		if f, err := strconv.ParseFloat(string(s.b[i:i+n]), 64); err != nil && math.IsInf(f, 0) {
			return -1
		}
	}
	return i + n
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
