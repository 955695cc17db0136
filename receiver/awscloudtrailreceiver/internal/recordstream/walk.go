package recordstream

import (
	"bytes"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/widemap"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// The walker goes over one JSON value of the buffer in a single pass. It
// builds the value into a pdata value when given one, or only checks it
// (with the same grammar, nesting and number limits, so a record is
// refused for the same reasons whether its body is built or not). Along
// the way it captures into p.fields the members the mapping reads (see
// mapping.Lookup), and builds the payload members the mapping wants as
// attributes when no body holds them (with a body, the reader takes them
// from it once it is built: see mapping.Fields.PayloadsFrom).

// limitError reports valid JSON that the builder cannot represent: the
// reader skips the record that holds it.
type limitError struct{ reason string }

func (e *limitError) Error() string { return e.reason }

var (
	errTooDeep    = &limitError{ReasonTooDeep}
	errOutOfRange = &limitError{ReasonNumberOutOfRange}
)

// open starts walking a container whose opening byte ends just before i:
// it refuses one nested deeper than maxDepth, skips blanks, and moves past
// end when the container is empty. Only when more is true (there are
// members or elements to walk) has it entered the container, and the
// caller must leave it (p.depth--) however its walk ends: no error path
// can leave the depth counted.
func (p *parser) open(i int, end byte) (j int, more bool, err error) {
	if p.depth >= maxDepth {
		return i, false, errTooDeep
	}
	i = p.skipWS(i)
	if i >= len(p.b) {
		return i, false, errShort
	}
	if p.b[i] == end {
		return i + 1, false, nil
	}
	p.depth++
	return i, true, nil
}

// value walks the JSON value starting at or after i, building it into v
// unless v is the zero Value. k says what the mapping reads from it.
func (p *parser) value(i int, v pcommon.Value, k mapping.Key, hk hintKey) (int, error) {
	i = p.skipWS(i)
	if i >= len(p.b) {
		return i, errShort
	}
	build := v != pcommon.Value{}
	capture := p.fields != nil && !k.IsZero()
	if capture && k.Payload != mapping.PayloadNone && !build && p.fields.WantPayload {
		v, build = p.fields.NewPayload(k.Payload), true
	}
	switch c := p.b[i]; c {
	case '{':
		g := mapping.GroupNone
		if capture {
			p.fields.SetOther(k)
			if g = k.Group; g != mapping.GroupNone {
				p.fields.ResetGroup(g)
			}
		}
		if !build {
			return p.object(i+1, pcommon.Map{}, g, hk)
		}
		m := v.SetEmptyMap()
		m.EnsureCapacity(p.hints.get(hk))
		j, err := p.object(i+1, m, g, hk)
		p.hints.set(hk, m.Len())
		return j, err
	case '[':
		if capture {
			p.fields.SetOther(k)
			if k.Group != mapping.GroupNone {
				p.fields.ResetGroup(k.Group)
			}
		}
		if !build {
			return p.array(i+1, pcommon.Slice{}, hk)
		}
		s := v.SetEmptySlice()
		s.EnsureCapacity(p.hints.get(hk))
		j, err := p.array(i+1, s, hk)
		p.hints.set(hk, s.Len())
		return j, err
	case '"':
		if !build && !capture {
			return p.skipStr(i + 1)
		}
		mode := strValue
		if p.borrow && !build {
			mode = strView
		}
		s, j, err := p.str(i+1, mode)
		if err == nil {
			if build {
				v.SetStr(s)
			}
			if capture {
				p.fields.SetStr(k, s)
				p.clearGroup(k)
			}
		}
		return j, err
	case 't', 'f':
		lit := "true"
		if c == 'f' {
			lit = "false"
		}
		j, err := p.literal(i, lit)
		if err == nil {
			if build {
				v.SetBool(c == 't')
			}
			if capture {
				p.fields.SetBool(k, c == 't')
				p.clearGroup(k)
			}
		}
		return j, err
	case 'n':
		// null stays an empty value, as pcommon.Value.FromRaw(nil) does.
		j, err := p.literal(i, "null")
		if err == nil && capture {
			p.fields.SetOther(k)
			p.clearGroup(k)
		}
		return j, err
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			j, err := p.number(i, v, build)
			if err == nil && capture {
				p.fields.SetOther(k)
				p.clearGroup(k)
			}
			return j, err
		}
		return i, p.syntax(i, "unexpected character %q", c)
	}
}

// clearGroup forgets an earlier occurrence of a group member replaced by
// a value that is not an object.
func (p *parser) clearGroup(k mapping.Key) {
	if k.Group != mapping.GroupNone {
		p.fields.ResetGroup(k.Group)
	}
}

// object walks the members of an object whose '{' ends just before i,
// building them into m unless m is the zero Map; g is the object's group
// and hk where it sits.
func (p *parser) object(i int, m pcommon.Map, g mapping.Group, hk hintKey) (int, error) {
	i, more, err := p.open(i, '}')
	if !more {
		return i, err
	}
	defer func() { p.depth-- }()
	build := m != pcommon.Map{}
	// The slot predicting the next name (see parser.key).
	var pred *uint32
	if build {
		pred = &p.in.first[b2i(hk.elem)][hk.slot]
	}
	capture := g != mapping.GroupNone && p.fields != nil
	// Past widemap.Threshold members, pcommon.Map.PutEmpty's search for the key
	// would make the object quadratic: the members go to a widemap.Builder.
	var wide *widemap.Builder
	members := 0
	for {
		if p.b[i] != '"' {
			return i, p.syntax(i, "expected a string key, found %q", p.b[i])
		}
		var k string
		var key mapping.Key
		var j int
		var err error
		var slot uint32
		interned := false
		if build {
			k, slot, interned, j, err = p.key(i+1, pred)
			pred = &p.in.next[slot]
		} else {
			j, err = p.skipStr(i + 1)
		}
		switch {
		case err != nil:
			return j, err
		case build && capture && interned:
			key = p.in.lookup(g, slot, k)
		case build && capture:
			key = mapping.Lookup(g, k)
		case capture:
			if raw := p.b[i+1 : j-1]; !hasEscape(raw) {
				key = mapping.LookupBytes(g, raw)
			} else if k, _, err = p.str(i+1, strKey); err == nil {
				key = mapping.Lookup(g, k)
			} else {
				return j, err
			}
		}
		i = p.skipWS(j)
		if i >= len(p.b) {
			return i, errShort
		}
		if p.b[i] != ':' {
			return i, p.syntax(i, "expected ':' after key %q", k)
		}
		var v pcommon.Value
		if build {
			switch members++; {
			case wide != nil:
				v = wide.Put(k)
			case members > widemap.Threshold:
				wide = widemap.New(m)
				v = wide.Put(k)
			default:
				v = m.PutEmpty(k)
			}
		}
		// The interner's slot names the key for the size hints; keys not
		// interned (the object is not built) share slot 0.
		if i, err = p.value(i+1, v, key, hintKey{slot: slot}); err != nil {
			return i, err
		}
		i = p.skipWS(i)
		if i >= len(p.b) {
			return i, errShort
		}
		switch p.b[i] {
		case ',':
			i = p.skipWS(i + 1)
			if i >= len(p.b) {
				return i, errShort
			}
		case '}':
			if wide != nil {
				wide.MoveTo(m)
			}
			return i + 1, nil
		default:
			return i, p.syntax(i, "expected ',' or '}' in object, found %q", p.b[i])
		}
	}
}

// hintKey names where an object or array sits: under a member name
// (known by the interner's slot of the name), or as an element of an
// array under that name.
type hintKey struct {
	slot uint32
	elem bool
}

// sizeHints remembers how many members the objects and arrays found
// under each name had (lately: see shrink): records of a file have similar shapes, and a map
// or slice made at its size does not grow (and reallocate) member by
// member. Names that share a slot share a hint, which is only a hint.
type sizeHints struct {
	n [2][internSlots]uint8
}

func (h *sizeHints) get(k hintKey) int { return int(h.n[b2i(k.elem)][k.slot]) }

func (h *sizeHints) set(k hintKey, n int) {
	p := &h.n[b2i(k.elem)][k.slot]
	*p = uint8(min(shrink(int(*p), n), widemap.Threshold))
}

// shrink is the next size hint after one of old for a container of n
// members: n when larger (the next container is likely as large), else
// old less one member (from 8 members up; below, the largest size seen
// stays, at most 7 unused slots), so that a container of varying size
// is seldom made too small: growing it costs a second allocation of
// twice the size and a copy, more than a few unused slots.
func shrink(old, n int) int {
	if old >= 8 {
		old--
	}
	return max(n, old)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// array walks the elements of an array whose '[' ends just before i,
// building them into s unless s is the zero Slice.
func (p *parser) array(i int, s pcommon.Slice, hk hintKey) (int, error) {
	i, more, err := p.open(i, ']')
	if !more {
		return i, err
	}
	defer func() { p.depth-- }()
	build := s != pcommon.Slice{}
	for {
		var err error
		var v pcommon.Value
		if build {
			v = s.AppendEmpty()
		}
		if i, err = p.value(i, v, mapping.Key{}, hintKey{slot: hk.slot, elem: true}); err != nil {
			return i, err
		}
		i = p.skipWS(i)
		if i >= len(p.b) {
			return i, errShort
		}
		switch p.b[i] {
		case ',':
			i++
		case ']':
			return i + 1, nil
		default:
			return i, p.syntax(i, "expected ',' or ']' in array, found %q", p.b[i])
		}
	}
}

// hasEscape reports whether the raw bytes of a string hold an escape.
func hasEscape(raw []byte) bool { return bytes.IndexByte(raw, '\\') >= 0 }
