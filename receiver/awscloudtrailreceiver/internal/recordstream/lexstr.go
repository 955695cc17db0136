package recordstream

import (
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/jsonscan"
)

// The parser's strings: decoded (escapes, UTF-8 repaired, interned) or
// only checked.

// str parses a string whose opening quote ends just before i. Keys are
// interned, so repeated names cost no allocation; values are copied into
// the arena (see strMode).
func (p *parser) str(i int, mode strMode) (string, int, error) {
	start := i
	b := p.b
	i = jsonscan.PlainRun(b, i, true)
	ascii := true
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return p.makeString(b[start:i], mode, ascii), i + 1, nil
		case c == '\\':
			return p.escaped(start, mode)
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
		i = jsonscan.PlainRun(b, i, false)
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
		switch n := jsonscan.Escape(b, i); {
		case n > 0:
			i += n
		case n == 0:
			return i, errShort
		case b[i+1] == 'u':
			return i, p.syntax(i+2, "invalid \\u escape")
		default:
			return i, p.syntax(i, "invalid escape \\%c", b[i+1])
		}
	}
}

// strMode says what a string read by str is for.
type strMode uint8

const (
	strValue strMode = iota // a value: copied into the arena
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
	if mode == strKey {
		return p.in.get(raw)
	}
	return p.ar.str(raw)
}

// escaped decodes a string that contains escape sequences, starting at
// its first content byte.
func (p *parser) escaped(start int, mode strMode) (string, int, error) {
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
			if mode == strKey {
				return string(out), i + 1, nil
			}
			return p.ar.str(out), i + 1, nil
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

// key reads a member name whose opening quote ends just before i, first
// trying the name that *pred (a slot of p.in.next or p.in.first) names:
// when the bytes are that name, followed by its closing quote, it needs
// no hashing. Interned names only hold bytes that need no decoding (no
// quote, backslash or control character), so bytes equal to one are that
// string exactly. It returns the name's slot, and whether the name is
// interned there (not a name with escapes or invalid UTF-8), and makes
// *pred the name's slot.
func (p *parser) key(i int, pred *uint32) (string, uint32, bool, int, error) {
	in := p.in
	if c := in.slots[*pred]; c != "" {
		end := i + len(c)
		if end < len(p.b) && p.b[end] == '"' && string(p.b[i:end]) == c {
			in.last = *pred
			return c, *pred, true, end + 1, nil
		}
	}
	k, j, err := p.str(i, strKey)
	if err != nil {
		return k, 0, false, j, err
	}
	interned := in.slots[in.last] == k && unsafe.StringData(in.slots[in.last]) == unsafe.StringData(k)
	if interned {
		*pred = in.last
	}
	return k, in.last, interned, j, nil
}
