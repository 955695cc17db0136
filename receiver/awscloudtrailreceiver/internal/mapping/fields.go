package mapping

import (
	"unsafe"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Fields: what the mapping captured from one record.

type scalar struct {
	set bool // a string or a boolean was seen
	isB bool
	b   bool
	str string
}

// Fields holds what the mapping reads from one record, captured while the
// record is parsed (or from its body map, see CaptureMap). As in a map
// built from the record, the last of repeated members wins.
type Fields struct {
	vals [numFields]scalar
	// payload holds the payload values; owned ones were built for the
	// fields alone and are moved into the attributes, the others belong
	// to the body and are copied.
	payload     [numPayloads]pcommon.Value
	owned       [numPayloads]bool
	WantPayload bool
	// Bucket and Key, when set, are put as aws.s3.bucket and aws.s3.key.
	Bucket, Key string

	attrs     []attrValue
	templates map[uint64]pcommon.Map
}

// attrValue is an attribute's value for Apply.
type attrValue struct {
	str    string
	isBool bool
	b      bool
}

// The mask bits of the attributes that are not fields.
const (
	bitService = 60 + iota
	bitPriority
	bitBucket
	bitKey
)

// maxTemplates bounds the templates a Fields keeps: records of one trail
// come in a few shapes; odd ones may make more, then the cache starts over.
const maxTemplates = 256

// template returns a map of the attribute keys of mask, in order, with
// empty values.
func (f *Fields) template(mask uint64) pcommon.Map {
	if t, ok := f.templates[mask]; ok {
		return t
	}
	if f.templates == nil || len(f.templates) >= maxTemplates {
		f.templates = make(map[uint64]pcommon.Map)
	}
	t := pcommon.NewMap()
	for bit := range 64 {
		if mask&(1<<bit) == 0 {
			continue
		}
		switch bit {
		case bitService:
			t.PutEmpty(ctattr.AttrService)
		case bitPriority:
			t.PutEmpty(ctattr.AttrPriority)
		case bitBucket:
			t.PutEmpty(ctattr.AttrS3Bucket)
		case bitKey:
			t.PutEmpty(ctattr.AttrS3Key)
		default:
			t.PutEmpty(fields[bit].attr)
		}
	}
	f.templates[mask] = t
	return t
}

// Reset clears f for the next record.
func (f *Fields) Reset() {
	f.vals = [numFields]scalar{}
	f.payload = [numPayloads]pcommon.Value{}
	f.owned = [numPayloads]bool{}
}

// ResetGroup clears the fields of a group, at a new occurrence of it.
func (f *Fields) ResetGroup(g Group) {
	for _, i := range groupFields[g] {
		f.vals[i] = scalar{}
	}
}

// SetStr captures a string member.
func (f *Fields) SetStr(k Key, s string) {
	if k.field > 0 {
		f.vals[k.field-1] = scalar{set: true, str: s}
	}
}

// SetBool captures a boolean member.
func (f *Fields) SetBool(k Key, b bool) {
	if k.field > 0 {
		f.vals[k.field-1] = scalar{set: true, isB: true, b: b}
	}
}

// SetOther captures a member of another type (number, null, object, array).
func (f *Fields) SetOther(k Key) {
	if k.field > 0 {
		f.vals[k.field-1] = scalar{}
	}
}

// SetPayload captures the value of a payload member, which belongs to the body.
func (f *Fields) SetPayload(p Payload, v pcommon.Value) {
	f.payload[p], f.owned[p] = v, false
}

// NewPayload returns an empty value to build a payload member into, when
// the body does not hold it; Apply moves it into the attributes.
func (f *Fields) NewPayload(p Payload) pcommon.Value {
	v := pcommon.NewValueEmpty()
	f.payload[p], f.owned[p] = v, true
	return v
}

// PayloadsFrom captures the payload members of a record's body map.
func (f *Fields) PayloadsFrom(body pcommon.Map) {
	for p := PayloadRequestParameters; p < numPayloads; p++ {
		if v, ok := body.Get(payloads[p].key); ok {
			f.payload[p], f.owned[p] = v, false
		}
	}
}

func (f *Fields) str(i int) string {
	if v := f.vals[i]; v.set && !v.isB {
		return v.str
	}
	return ""
}

func (f *Fields) boolean(i int) (bool, bool) {
	v := f.vals[i]
	switch {
	case !v.set:
	case v.isB:
		return v.b, true
	case v.str == "true":
		return true, true
	case v.str == "false":
		return false, true
	}
	return false, false
}

// CaptureMap captures the fields of a record held as a map.
func CaptureMap(body pcommon.Map, f *Fields) {
	captureMap(body, GroupRecord, f)
}

func captureMap(m pcommon.Map, g Group, f *Fields) {
	for k, v := range m.All() {
		key := Lookup(g, k)
		if key.IsZero() {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeStr:
			f.SetStr(key, v.Str())
		case pcommon.ValueTypeBool:
			f.SetBool(key, v.Bool())
		default:
			f.SetOther(key)
		}
		if key.Group != GroupNone {
			f.ResetGroup(key.Group)
			if v.Type() == pcommon.ValueTypeMap {
				captureMap(v.Map(), key.Group, f)
			}
		}
		if key.Payload != PayloadNone {
			f.SetPayload(key.Payload, v)
		}
	}
}

// Rebase makes the captured strings that are views of old (see
// recordstream.Reader.ReadText) substrings of s, a copy of old: they then
// share its memory, without a copy of their own.
func (f *Fields) Rebase(old []byte, s string) {
	if len(old) == 0 {
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(old)))
	for i := range f.vals {
		v := &f.vals[i]
		if off, ok := viewOffset(v, base, len(old)); ok {
			v.str = s[off : off+len(v.str)]
		}
	}
}

// viewOffset returns where v's string lies in the n bytes at base, when it
// is a non-empty view of them.
func viewOffset(v *scalar, base uintptr, n int) (int, bool) {
	if !v.set || v.isB || v.str == "" {
		return 0, false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(v.str)))
	if p < base || p-base+uintptr(len(v.str)) > uintptr(n) {
		return 0, false
	}
	return int(p - base), true
}
