// Package widemap builds pcommon maps with many members in linear time.
package widemap

import (
	"encoding/binary"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Threshold is the number of members beyond which an object is best built
// through a Builder rather than with pcommon.Map.PutEmpty, which searches
// the map for the key: n members cost n²/2 key comparisons.
const Threshold = 128

// Builder collects the members of an object with many keys: keys and
// values are appended (to a []string and a pcommon.Slice, which does not
// search), then MoveTo makes the pcommon.Map in one go, in linear time.
type Builder struct {
	keys []string
	vals pcommon.Slice
}

// New returns a Builder that takes over the members already in m.
func New(m pcommon.Map) *Builder {
	n := 2 * m.Len()
	w := &Builder{keys: make([]string, 0, n), vals: pcommon.NewSlice()}
	w.vals.EnsureCapacity(n)
	for k, v := range m.All() {
		Move(v, w.Put(k))
	}
	return w
}

// Put appends the member k and returns its (empty) value.
func (w *Builder) Put(k string) pcommon.Value {
	w.keys = append(w.keys, k)
	return w.vals.AppendEmpty()
}

// MoveTo replaces the members of m with those of w, in their order. A
// repeated key keeps its first place and takes its last value, as with
// pcommon.Map.PutEmpty.
func (w *Builder) MoveTo(m pcommon.Map) {
	// first maps each key to its first place: filled from the end, one
	// insertion per member into a map of the right size.
	first := make(map[string]int, len(w.keys))
	for i := len(w.keys) - 1; i >= 0; i-- {
		first[w.keys[i]] = i
	}
	keys, at := w.keys, []int(nil)
	if len(first) < len(w.keys) {
		keys, at = make([]string, 0, len(first)), make([]int, 0, len(first))
		for i, k := range w.keys {
			j := first[k]
			if j == i {
				keys = append(keys, k)
				at = append(at, i)
				continue
			}
			dst := w.vals.At(j)
			pcommon.NewValueEmpty().CopyTo(dst)
			Move(w.vals.At(i), dst)
		}
	}
	val := func(i int) pcommon.Value {
		if at != nil {
			i = at[i]
		}
		return w.vals.At(i)
	}
	dst, ok := mapWithKeys(keys)
	if !ok {
		// Not expected; correct, but quadratic.
		m.Clear()
		for i, k := range keys {
			Move(val(i), m.PutEmpty(k))
		}
		return
	}
	i := 0
	for _, v := range dst.All() {
		Move(val(i), v)
		i++
	}
	dst.MoveTo(m)
}

// mapWithKeys returns a map of the given distinct keys, in order, with
// empty values. pdata has no way to add keys known to be distinct without
// searching the map for each, but decoding OTLP does so: the keys are
// encoded as the body of a log record (OTLP protobuf, a stable format)
// and decoded with plog.ProtoUnmarshaler, in linear time.
func mapWithKeys(keys []string) (pcommon.Map, bool) {
	// KeyValueList: repeated KeyValue values = 1; KeyValue: string key = 1.
	kvLen := func(k string) int { return 1 + uvarintLen(len(k)) + len(k) }
	list := 0
	for _, k := range keys {
		list += 1 + uvarintLen(kvLen(k)) + kvLen(k)
	}
	// The envelopes, inside out: AnyValue.kvlist_value = 6,
	// LogRecord.body = 5, ScopeLogs.log_records = 2,
	// ResourceLogs.scope_logs = 2, LogsData.resource_logs = 1.
	tags := [...]byte{6<<3 | 2, 5<<3 | 2, 2<<3 | 2, 2<<3 | 2, 1<<3 | 2}
	var lens [len(tags)]int
	size := list
	for j := range tags {
		lens[j] = size
		size += 1 + uvarintLen(size)
	}
	buf := make([]byte, 0, size)
	for j := len(tags) - 1; j >= 0; j-- {
		buf = append(buf, tags[j])
		buf = binary.AppendUvarint(buf, uint64(lens[j]))
	}
	for _, k := range keys {
		buf = append(buf, 1<<3|2)
		buf = binary.AppendUvarint(buf, uint64(kvLen(k)))
		buf = append(buf, 1<<3|2)
		buf = binary.AppendUvarint(buf, uint64(len(k)))
		buf = append(buf, k...)
	}
	logs, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(buf)
	if err != nil || logs.LogRecordCount() != 1 {
		return pcommon.Map{}, false
	}
	body := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body()
	if body.Type() != pcommon.ValueTypeMap || body.Map().Len() != len(keys) {
		return pcommon.Map{}, false
	}
	return body.Map(), true
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// Move moves the content of src into dst, which must be empty, in
// constant time: maps and slices change owner and are not copied.
func Move(src, dst pcommon.Value) {
	switch src.Type() {
	case pcommon.ValueTypeStr:
		dst.SetStr(src.Str())
	case pcommon.ValueTypeInt:
		dst.SetInt(src.Int())
	case pcommon.ValueTypeDouble:
		dst.SetDouble(src.Double())
	case pcommon.ValueTypeBool:
		dst.SetBool(src.Bool())
	case pcommon.ValueTypeMap:
		src.Map().MoveTo(dst.SetEmptyMap())
	case pcommon.ValueTypeSlice:
		src.Slice().MoveAndAppendTo(dst.SetEmptySlice())
	case pcommon.ValueTypeBytes:
		src.Bytes().MoveTo(dst.SetEmptyBytes())
	case pcommon.ValueTypeEmpty:
	}
}
