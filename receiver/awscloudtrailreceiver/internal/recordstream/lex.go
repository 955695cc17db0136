package recordstream

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// errShort is returned by the parser when a value runs past the end of the
// buffered bytes; the reader then reads more and parses the value again.
var errShort = errors.New("short buffer")

// maxDepth bounds how deeply objects and arrays may nest in one record.
const maxDepth = 256

// SyntaxError reports malformed JSON at a byte offset of the decompressed stream.
type SyntaxError struct {
	Offset int64
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// parser walks the JSON bytes of b (walk.go), lexing its strings,
// numbers and literals here. It never reads past len(b); when it needs
// more bytes it returns errShort.
type parser struct {
	b       []byte
	base    int64 // offset of b[0] in the decompressed stream
	in      *interner
	scratch []byte
	depth   int
	// fields, when not nil, receives the members the mapping reads.
	fields *mapping.Fields
	hints  *sizeHints
	// borrow makes the strings captured for fields (and not built) views
	// of b (strView).
	borrow bool
}

func (p *parser) syntax(i int, format string, args ...any) error {
	return &SyntaxError{Offset: p.base + int64(i), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipWS(i int) int {
	for i < len(p.b) {
		switch p.b[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return i
}

func (p *parser) literal(i int, lit string) (int, error) {
	end := i + len(lit)
	if end > len(p.b) {
		if strings.HasPrefix(lit, string(p.b[i:])) {
			return i, errShort
		}
		return i, p.syntax(i, "invalid literal")
	}
	if string(p.b[i:end]) != lit {
		return i, p.syntax(i, "invalid literal")
	}
	return end, nil
}

// number parses a JSON number. Integers that fit in int64 become Int
// values; every other number becomes a Double. Without build, it only
// checks the number (grammar and range).
func (p *parser) number(i int, v pcommon.Value, build bool) (int, error) {
	start := i
	isFloat := false
	for i < len(p.b) {
		c := p.b[i]
		if c >= '0' && c <= '9' || c == '-' {
			i++
			continue
		}
		if c == '.' || c == 'e' || c == 'E' || c == '+' {
			isFloat = true
			i++
			continue
		}
		break
	}
	if i >= len(p.b) {
		// A number is complete only once a byte after it is seen.
		return i, errShort
	}
	raw := p.b[start:i]
	if !validNumber(raw) {
		return start, p.syntax(start, "invalid number %q", raw)
	}
	if !isFloat {
		if n, ok := parseInt(raw); ok {
			if build {
				v.SetInt(n)
			}
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return start, p.syntax(start, "invalid number %q", raw)
	}
	if math.IsInf(f, 0) {
		return start, errOutOfRange
	}
	if build {
		v.SetDouble(f)
	}
	return i, nil
}

// validNumber checks the JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
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
	}
	return i == len(b)
}

// parseInt parses a validated JSON integer, reporting false when it does
// not fit in an int64 (from -9223372036854775808 to 9223372036854775807).
func parseInt(b []byte) (int64, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	// 19 digits always fit in a uint64.
	if len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		// For 1<<63, int64(u) is math.MinInt64, and so is its negation.
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// str parses a string whose opening quote ends just before i. Keys and
// short values are interned, so repeated names cost no allocation.
func (p *parser) str(i int, mode strMode) (string, int, error) {
	start := i
	b := p.b
	i = plainRun(b, i, true)
	ascii := true
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return p.makeString(b[start:i], mode, ascii), i + 1, nil
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", i, p.syntax(i, "control character in string")
		default:
			ascii = false
			i++
		}
	}
	return "", i, errShort
}

// skipStr checks a string whose opening quote ends just before i, without
// decoding it, and returns where it ends.
func (p *parser) skipStr(i int) (int, error) {
	b := p.b
	for {
		i = plainRun(b, i, false)
		if i >= len(b) {
			return i, errShort
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c < 0x20:
			return i, p.syntax(i, "control character in string")
		}
		// An escape.
		if i+1 >= len(b) {
			return i, errShort
		}
		switch e := b[i+1]; e {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if _, err := p.hex4(i + 2); err != nil {
				return i, err
			}
			i += 6
		default:
			return i, p.syntax(i, "invalid escape \\%c", e)
		}
	}
}

// strMode says what a string read by str is for.
type strMode uint8

const (
	strValue strMode = iota // a value: interned when short
	strKey                  // a member name: interned
	// strView: a value that only the mapping reads, returned as a view of
	// the buffer when it needs no decoding (see Reader.ReadText).
	strView
)

func (p *parser) makeString(raw []byte, mode strMode, ascii bool) string {
	if !ascii && !utf8.Valid(raw) {
		return replaceInvalidUTF8(raw)
	}
	if mode == strView {
		if len(raw) == 0 {
			return ""
		}
		return unsafe.String(&raw[0], len(raw))
	}
	if mode == strKey || len(raw) <= maxInternedValue {
		return p.in.get(raw)
	}
	return string(raw)
}

// escaped decodes a string that contains escape sequences, starting at
// its first content byte.
func (p *parser) escaped(start int) (string, int, error) {
	b := p.b
	out := p.scratch[:0]
	i := start
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			p.scratch = out
			if !utf8.Valid(out) {
				return replaceInvalidUTF8(out), i + 1, nil
			}
			return string(out), i + 1, nil
		case c < 0x20:
			return "", i, p.syntax(i, "control character in string")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return "", i, errShort
		}
		switch e := b[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n, err := p.unicodeEscape(i)
			if err != nil {
				return "", i, err
			}
			out = utf8.AppendRune(out, r)
			i += n
			continue
		default:
			return "", i, p.syntax(i, "invalid escape \\%c", e)
		}
		i += 2
	}
	return "", i, errShort
}

// unicodeEscape decodes \uXXXX (and a following low surrogate) at i,
// returning the rune and how many bytes it used.
func (p *parser) unicodeEscape(i int) (rune, int, error) {
	r, err := p.hex4(i + 2)
	if err != nil {
		return 0, 0, err
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if i+12 > len(p.b) {
		if len(p.b)-(i+6) < 2 || (p.b[i+6] == '\\' && p.b[i+7] == 'u') {
			return 0, 0, errShort
		}
		return utf8.RuneError, 6, nil
	}
	if p.b[i+6] != '\\' || p.b[i+7] != 'u' {
		return utf8.RuneError, 6, nil
	}
	r2, err := p.hex4(i + 8)
	if err != nil {
		return 0, 0, err
	}
	if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
		return d, 12, nil
	}
	return utf8.RuneError, 6, nil
}

func (p *parser) hex4(i int) (rune, error) {
	if i+4 > len(p.b) {
		return 0, errShort
	}
	var r rune
	for _, c := range p.b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, p.syntax(i, "invalid \\u escape")
		}
	}
	return r, nil
}

// replaceInvalidUTF8 replaces each byte of b that is not part of valid
// UTF-8 with U+FFFD, as encoding/json does.
func replaceInvalidUTF8(b []byte) string {
	out := make([]byte, 0, len(b)+16)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}
