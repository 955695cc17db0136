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
		// jsonscan.PlainRun, inlined: a string is often short.
		i = jsonscan.Words(b, i, true)
		for i < len(b) && !jsonscan.Stops(b[i], true) {
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
			n := jsonscan.Escape(b, i)
			if n <= 0 {
				return esc, false
			}
			i += n
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

// number reads a number at s.i (jsonscan.Number).
func (s *scanner) number() bool {
	n, exp := jsonscan.Number(s.b[s.i:])
	if n == 0 {
		return false
	}
	// A number beyond float64 (1e400) is valid JSON, but the intake
	// refuses it, and with it the whole request: not a text to splice.
	// Only an exponent or more than 300 digits can pass float64's range.
	if exp || n > 300 {
		if f, err := strconv.ParseFloat(string(s.b[s.i:s.i+n]), 64); err != nil && math.IsInf(f, 0) {
			return false
		}
	}
	s.i += n
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
