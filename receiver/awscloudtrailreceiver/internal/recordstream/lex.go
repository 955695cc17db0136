package recordstream

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/jsonscan"
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
	ar      *arena
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
	if n, _ := jsonscan.Number(raw); n != len(raw) {
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
