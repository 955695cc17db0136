package recordstream

import (
	"fmt"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/jsonscan"
)

// scanner checks the grammar of one JSON value and finds where it ends,
// without building anything. It keeps its whole state between calls, so a
// value that arrives in pieces is scanned once, byte by byte, whatever its
// size: the reader uses it to skip values and to wait for the end of a
// record before building it (building is then a single pass).
//
// It accepts exactly what the builder (parser) accepts, with the same
// messages, except the builder's limits (nesting depth, number range):
// the scanner nests as deep as maxDepth allows, which the reader sets to
// its record size limit.
type scanner struct {
	state scanState
	// lit is the literal being matched and n the bytes of it matched; in
	// a \u escape, n counts the hex digits still expected.
	lit string
	n   int
	num numState
	// stack holds one bit per open container: 1 for an object.
	stack    []uint64
	depth    int
	maxDepth int
	// base is the stream offset of b[0] in the current call (for errors).
	base int64
}

type scanState uint8

const (
	scValue       scanState = iota // a value (white space may come first)
	scArrayFirst                   // after '[': a value or ']'
	scObjectFirst                  // after '{': a key or '}'
	scObjectKey                    // after ',' in an object: a key
	scColon                        // after a key: ':'
	scNext                         // after a value in a container: ',' or its closer
	scString                       // inside a string value
	scKey                          // inside a key
	scEscape                       // after '\' (in a value)
	scKeyEscape                    // after '\' (in a key)
	scUnicode                      // in \uXXXX of a value
	scKeyUnicode                   // in \uXXXX of a key
	scLiteral                      // inside true, false or null
	scNumber                       // inside a number
)

// numState follows the JSON number grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? over the bytes that can
// make up a number; like the builder, the scanner takes every such byte and
// judges the number once it ends.
type numState uint8

const (
	numStart    numState = iota // nothing yet
	numMinus                    // "-"
	numZero                     // leading 0 (accepting)
	numInt                      // integer digits (accepting)
	numDot                      // "."
	numFrac                     // fraction digits (accepting)
	numExp                      // "e"
	numExpSign                  // "e+" or "e-"
	numExpDigit                 // exponent digits (accepting)
	numBad                      // not a number
)

// numberByte marks the bytes that the builder takes into a number.
var numberByte = func() (t [256]bool) {
	for _, c := range []byte("0123456789+-.eE") {
		t[c] = true
	}
	return t
}()

func (n numState) next(c byte) numState {
	digit := c >= '0' && c <= '9'
	switch n {
	case numStart:
		switch {
		case c == '-':
			return numMinus
		case c == '0':
			return numZero
		case digit:
			return numInt
		}
	case numMinus:
		switch {
		case c == '0':
			return numZero
		case digit:
			return numInt
		}
	case numZero, numInt:
		switch {
		case digit && n == numInt:
			return numInt
		case c == '.':
			return numDot
		case c == 'e' || c == 'E':
			return numExp
		}
	case numDot, numFrac:
		switch {
		case digit:
			return numFrac
		case n == numFrac && (c == 'e' || c == 'E'):
			return numExp
		}
	case numExp:
		switch {
		case c == '+' || c == '-':
			return numExpSign
		case digit:
			return numExpDigit
		}
	case numExpSign, numExpDigit:
		if digit {
			return numExpDigit
		}
	}
	return numBad
}

func (n numState) complete() bool {
	return n == numZero || n == numInt || n == numFrac || n == numExpDigit
}

// reset prepares the scanner for a new value nested at most maxDepth deep.
func (s *scanner) reset(maxDepth int) {
	s.state, s.depth, s.maxDepth = scValue, 0, maxDepth
	s.stack = s.stack[:0]
}

func (s *scanner) syntax(i int, format string, args ...any) error {
	return &SyntaxError{Offset: s.base + int64(i), Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) push(object bool) error {
	if s.depth >= s.maxDepth {
		return ErrRecordTooLarge
	}
	w, bit := s.depth/64, uint64(1)<<(s.depth%64)
	if w == len(s.stack) {
		s.stack = append(s.stack, 0)
	}
	if object {
		s.stack[w] |= bit
	} else {
		s.stack[w] &^= bit
	}
	s.depth++
	return nil
}

func (s *scanner) inObject() bool {
	d := s.depth - 1
	return s.stack[d/64]&(uint64(1)<<(d%64)) != 0
}

// ended moves past the end of a value: the whole value is done at depth 0.
func (s *scanner) ended() bool {
	if s.depth == 0 {
		return true
	}
	s.state = scNext
	return false
}

// scan scans b from i on. It returns where it stopped and whether the
// value ended there; when it did not, b is used up and scan continues with
// the next bytes of the stream (which the caller may place anywhere).
func (s *scanner) scan(b []byte, i int) (int, bool, error) {
	for i < len(b) {
		c := b[i]
		switch s.state {
		case scValue, scArrayFirst, scObjectFirst, scObjectKey, scColon, scNext:
			if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				i++
				continue
			}
		}
		switch s.state {
		case scArrayFirst:
			if c == ']' {
				s.depth--
				i++
				if s.ended() {
					return i, true, nil
				}
				continue
			}
			s.state = scValue
			fallthrough
		case scValue:
			switch {
			case c == '{':
				if err := s.push(true); err != nil {
					return i, false, err
				}
				s.state = scObjectFirst
			case c == '[':
				if err := s.push(false); err != nil {
					return i, false, err
				}
				s.state = scArrayFirst
			case c == '"':
				s.state = scString
			case c == 't':
				s.state, s.lit, s.n = scLiteral, "true", 1
			case c == 'f':
				s.state, s.lit, s.n = scLiteral, "false", 1
			case c == 'n':
				s.state, s.lit, s.n = scLiteral, "null", 1
			case c == '-' || c >= '0' && c <= '9':
				s.state, s.num = scNumber, numStart
				continue
			default:
				return i, false, s.syntax(i, "unexpected character %q", c)
			}
			i++
		case scObjectFirst, scObjectKey:
			if c == '}' && s.state == scObjectFirst {
				s.depth--
				i++
				if s.ended() {
					return i, true, nil
				}
				continue
			}
			if c != '"' {
				return i, false, s.syntax(i, "expected a string key, found %q", c)
			}
			s.state = scKey
			i++
		case scColon:
			if c != ':' {
				return i, false, s.syntax(i, "expected ':' after a key")
			}
			s.state = scValue
			i++
		case scNext:
			object := s.inObject()
			switch {
			case c == ',' && object:
				s.state = scObjectKey
			case c == ',':
				s.state = scValue
			case c == '}' && object, c == ']' && !object:
				s.depth--
				if s.ended() {
					return i + 1, true, nil
				}
			case object:
				return i, false, s.syntax(i, "expected ',' or '}' in object, found %q", c)
			default:
				return i, false, s.syntax(i, "expected ',' or ']' in array, found %q", c)
			}
			i++
		case scString, scKey:
			i = jsonscan.PlainRun(b, i, false)
			if i == len(b) {
				return i, false, nil
			}
			switch c := b[i]; {
			case c == '"':
				i++
				if s.state == scKey {
					s.state = scColon
					continue
				}
				if s.ended() {
					return i, true, nil
				}
			case c == '\\':
				s.state += scEscape - scString
				i++
			default:
				return i, false, s.syntax(i, "control character in string")
			}
		case scEscape, scKeyEscape:
			switch c {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.state -= scEscape - scString
			case 'u':
				s.state += scUnicode - scEscape
				s.n = 4
			default:
				return i, false, s.syntax(i-1, "invalid escape \\%c", c)
			}
			i++
		case scUnicode, scKeyUnicode:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return i, false, s.syntax(i, "invalid \\u escape")
			}
			if s.n--; s.n == 0 {
				s.state -= scUnicode - scString
			}
			i++
		case scLiteral:
			if c != s.lit[s.n] {
				return i, false, s.syntax(i, "invalid literal")
			}
			i++
			if s.n++; s.n == len(s.lit) && s.ended() {
				return i, true, nil
			}
		case scNumber:
			for i < len(b) && numberByte[b[i]] {
				s.num = s.num.next(b[i])
				i++
			}
			if i == len(b) {
				return i, false, nil
			}
			if !s.num.complete() {
				return i, false, s.syntax(i, "invalid number")
			}
			if s.ended() {
				return i, true, nil
			}
		}
	}
	return i, false, nil
}
