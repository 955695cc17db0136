package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// An entry over the intake's 1 MB limit is truncated, never dropped.
const (
	// minCut: a value of at most this many bytes is never shortened
	// (cutting it would save almost nothing).
	minCut = 64
	// maxListed bounds the JSON of dd_truncated_fields.
	maxListed = 4096
	// maxListedName: a longer field name is listed cut to its beginning.
	maxListedName = 200
	// maxMetaValue bounds each Datadog field (ddtags, hostname…) of a
	// truncated entry.
	maxMetaValue = 4096
	// markerBytes is the room kept for the dd_truncated* fields.
	markerBytes = maxListed + 256
)

// Reasons an entry was truncated (the reason attribute of
// otelcol_exporter_datadoglogs_entries_truncated).
const (
	// reasonShortened: values were shortened, every member is there.
	reasonShortened = "values_shortened"
	// reasonDropped: members were removed whole (their keys alone were
	// over the limit); values may be shortened too.
	reasonDropped = "members_dropped"
)

// protectedKeys are the members of a CloudTrail record that truncation
// never removes (their first occurrence; a long value is shortened).
var protectedKeys = map[string]bool{
	"aws": true, "eventVersion": true, "eventID": true, "eventTime": true, "eventSource": true,
	"eventName": true, "eventType": true, "eventCategory": true, "awsRegion": true,
	"recipientAccountId": true, "userIdentity": true, "sourceIPAddress": true, "userAgent": true,
	"errorCode": true, "errorMessage": true, "requestID": true, "readOnly": true, "managementEvent": true,
}

// truncation says what truncate did.
type truncation struct {
	// list is the JSON array of the names of the shortened fields, as
	// many as fit in maxListed bytes.
	list      []byte
	shortened int // fields whose value was shortened
	dropped   int // fields removed whole
	// work counts the fields visited (for the linearity test).
	work int
}

// reason returns why the entry was truncated.
func (t *truncation) reason() string {
	if t.dropped > 0 {
		return reasonDropped
	}
	return reasonShortened
}

// markers returns the fields that say an entry was truncated: dd_truncated,
// dd_truncated_fields (the names of the shortened fields, up to 4 KB of
// them), dd_truncated_shortened and dd_truncated_dropped (how many fields
// were shortened, and removed whole). They take at most markerBytes.
func (t *truncation) markers() []field {
	return []field{
		{key: "dd_truncated", value: []byte("true")},
		{key: "dd_truncated_fields", value: append(t.list, ']')},
		{key: "dd_truncated_shortened", value: strconv.AppendInt(nil, int64(t.shortened), 10)},
		{key: "dd_truncated_dropped", value: strconv.AppendInt(nil, int64(t.dropped), 10)},
	}
}

// note records that the field named key was shortened.
func (t *truncation) note(key string) {
	t.shortened++
	if len(t.list) == 0 {
		t.list = append(t.list, '[')
	}
	if len(key) > maxListedName {
		key = cutUTF8(key[:maxListedName]) + "…"
	}
	start := len(t.list)
	if start > 1 {
		t.list = append(t.list, ',')
	}
	t.list = datadog.AppendString(t.list, key)
	if len(t.list)+1 > maxListed {
		t.list = t.list[:start] // the list is full
	}
}

// truncate makes fields fit in budget bytes of an entry (the bytes
// appendEntry writes for them) and returns the fields kept. When even
// with every value over minCut shortened the fields would not fit (their
// keys alone are too large), members are removed whole, from the last one
// back (processors' attributes, then the record's last members), keeping
// the first of each protected key. Then the largest values are shortened,
// each to a string holding the beginning of its JSON, until the fields
// fit. Work is linear in the number and size of the fields (plus a sort
// of the values over minCut).
func truncate(fields []field, budget int) ([]field, truncation) {
	var t truncation
	t.list = append(make([]byte, 0, 256), '[')
	keyLen := make([]int, len(fields)) // encoded key, colon and comma
	var scratch []byte
	total, floor := 0, 0 // the size now, and with every value over minCut as ""
	for i, f := range fields {
		scratch = datadog.AppendString(scratch[:0], f.key)
		keyLen[i] = len(scratch) + 2
		total += keyLen[i] + len(f.value)
		floor += keyLen[i] + minLen(f.value)
	}
	t.work += len(fields)
	if floor > budget {
		first := map[string]int{}
		for i, f := range fields {
			if _, ok := first[f.key]; !ok && protectedKeys[f.key] {
				first[f.key] = i
			}
		}
		t.work += len(fields)
		drop := make([]bool, len(fields))
		for i := len(fields) - 1; i >= 0 && floor > budget; i-- {
			t.work++
			if j, ok := first[fields[i].key]; ok && j == i {
				continue
			}
			drop[i] = true
			t.dropped++
			floor -= keyLen[i] + minLen(fields[i].value)
			total -= keyLen[i] + len(fields[i].value)
		}
		kept := fields[:0]
		for i, f := range fields {
			if !drop[i] {
				kept = append(kept, f)
			}
		}
		fields = kept
		t.work += len(drop)
	}
	// The values over minCut, the largest first.
	var order []int
	for i, f := range fields {
		if len(f.value) > minCut {
			order = append(order, i)
		}
	}
	t.work += len(fields)
	slices.SortStableFunc(order, func(a, b int) int { return len(fields[b].value) - len(fields[a].value) })
	for _, i := range order {
		t.work++
		over := total - budget
		if over <= 0 {
			break
		}
		f := &fields[i]
		old := len(f.value)
		f.value = shorten(f.value, old-over)
		total -= old - len(f.value)
		t.note(f.key)
	}
	return fields, t
}

// minLen is the size of v when shortened as far as truncate goes.
func minLen(v []byte) int {
	if len(v) > minCut {
		return 2 // ""
	}
	return len(v)
}

// shorten returns a JSON string of at most max bytes holding the
// beginning of the JSON text v and "…", or "" when max is too small.
func shorten(v []byte, max int) []byte {
	keep := max - 16
	for keep > 0 {
		enc := appendCut(make([]byte, 0, keep+8), cutUTF8(string(v[:keep])))
		extra := len(enc) - max
		if extra <= 0 {
			return enc
		}
		keep -= extra
	}
	return []byte(`""`)
}

// shortenString returns the JSON string v (as AppendString writes it) cut
// to at most max bytes, ending in "…"; v unchanged when it is short enough
// or not a string.
func shortenString(v []byte, max int) []byte {
	if len(v) <= max {
		return v
	}
	s, err := strconv.Unquote(string(v))
	if err != nil {
		return shorten(v, max)
	}
	keep := max - 16
	for keep > 0 {
		enc := appendCut(nil, cutUTF8(s[:min(keep, len(s))]))
		extra := len(enc) - max
		if extra <= 0 {
			return enc
		}
		keep -= extra
	}
	return []byte(`""`)
}

// appendCut appends s and "…" as a JSON string.
func appendCut(dst []byte, s string) []byte {
	dst = datadog.AppendString(dst, s)
	return append(dst[:len(dst)-1], "…\""...)
}

// cutUTF8 drops an incomplete UTF-8 character at the end of s (one that
// a cut split).
func cutUTF8(s string) string {
	for i := 0; i < utf8.UTFMax && len(s) > 0; i++ {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// truncateEntry appends the entry of fields and meta (over the 1 MB limit)
// to dst, truncated to fit. The members of a JSON-text record are cut as
// those of a map body are: on their compact re-encoding (the text's white
// space and number spellings normalised), so that the entry is the same
// in both body modes.
func (e *encoder) truncateEntry(dst []byte, fields, meta []field) ([]byte, *truncation) {
	if e.raw != nil {
		fields = append(e.membersAsFields(), fields...)
		e.raw = nil
		e.textFields = len(e.members())
	}
	for i := range fields[:e.textFields] {
		fields[i].value = normalised(fields[i].value)
	}
	for i := range meta {
		meta[i].value = shortenString(meta[i].value, maxMetaValue)
	}
	fields, t := truncate(fields, maxEntryBytes-entrySize(nil, nil, meta)-markerBytes)
	meta = append(meta, t.markers()...)
	return appendEntry(dst, nil, fields, meta), &t
}
