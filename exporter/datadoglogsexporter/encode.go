package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// reserved are the entry keys the exporter sets itself; a record field of
// the same name is sent as "record.<name>".
var reserved = map[string]bool{
	"ddsource": true, "ddsourcecategory": true, "ddtags": true, "hostname": true, "service": true,
	"status": true, "timestamp": true, "message": true, "aws": true, "dd_truncated": true, "dd_truncated_fields": true,
	"dd_truncated_shortened": true, "dd_truncated_dropped": true,
}

// field is one key and its encoded JSON value.
type field struct {
	key   string
	value []byte
}

// encoder turns log records into Datadog log entries. It reuses its
// buffers from one record to the next; it is not safe for concurrent use.
type encoder struct {
	ddsource  string
	hostname  string
	ct        CloudTrailConfig
	extraTags []string
	fields    []field
	meta      []field // the reserved fields
	tags      []byte
	buf       []byte // the encoded values of fields and meta
	// raw is the members of a JSON-text record, spliced as they are
	// before fields (nil when the record's members are in fields).
	raw   []byte
	spans []datadog.Span // the members of text, the record raw is part of
	text  []byte
	// unscanned: spans are not those of text yet (addBuilt).
	unscanned bool
	recBuf    []byte // a record rebuilt from attributes
	// textFields is how many of the first fields are members of text.
	textFields int
	// malformed counts JSON-text bodies that were not a JSON object.
	malformed int
}

// maxKeptBuffer bounds what release keeps of a buffer for the next batch.
const maxKeptBuffer = 1 << 20

// release drops the encoder's references to the records it encoded (it
// is kept in a pool between batches) and its buffers grown by an
// outsized record.
func (e *encoder) release() {
	clear(e.fields[:cap(e.fields)])
	clear(e.meta[:cap(e.meta)])
	e.fields, e.meta, e.raw, e.text = e.fields[:0], e.meta[:0], nil, nil
	for _, b := range []*[]byte{&e.buf, &e.recBuf, &e.tags} {
		if cap(*b) > maxKeptBuffer {
			*b = nil
		}
	}
}

// addField encodes v after the values already in e.buf.
func (e *encoder) addField(key string, v pcommon.Value) {
	start := len(e.buf)
	e.buf = datadog.AppendValue(e.buf, v)
	e.fields = append(e.fields, field{key: key, value: e.buf[start:len(e.buf):len(e.buf)]})
}

// encode appends the entry of lr to dst. When the entry was over the
// intake's 1 MB limit and was cut to fit, cut says what was cut (else it
// is nil).
func (e *encoder) encode(dst []byte, res pcommon.Resource, lr plog.LogRecord) (out []byte, cut *truncation) {
	rec := datadog.ReadRecord(res, lr)
	// Values are appended to e.buf, which grows as needed (earlier
	// fields keep the old array) and is kept from record to record.
	e.fields, e.buf, e.raw, e.textFields, e.unscanned = e.fields[:0], e.buf[:0], nil, 0, false
	if rec.CloudTrail {
		// As Datadog's Forwarder: the record's fields at the top level, plus
		// aws.s3.bucket/key.
		switch rec.Mode {
		case datadog.BodyMap:
			for k, v := range lr.Body().Map().All() {
				e.addField(fieldName(k), v)
			}
		case datadog.BodyJSON:
			// The record's JSON text, spliced without decoding it.
			text := lr.Body().Str()
			if !e.addRaw(unsafe.Slice(unsafe.StringData(text), len(text))) {
				// Not a JSON object: the record the attributes carry, and
				// the text as the message, so that the entry is valid JSON.
				e.malformed++
				e.recBuf = datadog.AppendRecordFromAttributes(e.recBuf[:0], res, lr)
				e.addRaw(e.recBuf)
				e.addField("message", lr.Body())
			}
		case datadog.BodyNone:
			e.recBuf = datadog.AppendRecordFromAttributes(e.recBuf[:0], res, lr)
			e.addBuilt(e.recBuf)
		}
		if rec.Bucket != "" {
			start := len(e.buf)
			e.buf = append(e.buf, `{"s3":{"bucket":`...)
			e.buf = datadog.AppendString(e.buf, rec.Bucket)
			e.buf = append(e.buf, `,"key":`...)
			e.buf = datadog.AppendString(e.buf, rec.Key)
			e.buf = append(e.buf, "}}"...)
			e.fields = append(e.fields, field{key: "aws", value: e.buf[start:len(e.buf):len(e.buf)]})
		}
		// Attributes added by processors (transform, attributes…) are sent
		// too; those of the receiver repeat the record and are not.
		if rec.Extra {
			datadog.Flatten("", lr.Attributes(), func(k string, v pcommon.Value) {
				if !ctattr.IsContract(k) && !reserved[k] {
					e.addField(k, v)
				}
			})
		}
	} else {
		e.addField("message", pcommon.NewValueStr(message(lr.Body())))
		hasTrace, hasSpan := !lr.TraceID().IsEmpty(), !lr.SpanID().IsEmpty()
		add := func(k string, v pcommon.Value) {
			// The record's own IDs win over attributes of their names.
			if (hasTrace && (k == "dd.trace_id" || k == "otel.trace_id")) || (hasSpan && (k == "dd.span_id" || k == "otel.span_id")) {
				return
			}
			if !reserved[k] && k != "service.name" && k != "host.name" {
				e.addField(k, v)
			}
		}
		datadog.Flatten("", res.Attributes(), add)
		datadog.Flatten("", lr.Attributes(), add)
		// As contrib's Datadog exporter: the low 64 bits of the trace ID in
		// decimal (Datadog's trace ID) and the OpenTelemetry IDs in hex.
		if id := lr.TraceID(); !id.IsEmpty() {
			e.addField("dd.trace_id", pcommon.NewValueStr(strconv.FormatUint(binary.BigEndian.Uint64(id[8:]), 10)))
			e.addField("otel.trace_id", pcommon.NewValueStr(hex.EncodeToString(id[:])))
		}
		if id := lr.SpanID(); !id.IsEmpty() {
			e.addField("dd.span_id", pcommon.NewValueStr(strconv.FormatUint(binary.BigEndian.Uint64(id[:]), 10)))
			e.addField("otel.span_id", pcommon.NewValueStr(hex.EncodeToString(id[:])))
		}
	}
	fields := e.fields
	meta := e.metadata(rec, res, lr)

	start := len(dst)
	if dst == nil {
		dst = make([]byte, 0, entrySize(e.raw, fields, meta))
	}
	dst = appendEntry(dst, e.raw, fields, meta)
	if len(dst)-start <= maxEntryBytes {
		return dst, nil
	}
	return e.truncateEntry(dst[:start], fields, meta)
}

// addRaw adds the members of the JSON object text b: spliced as they are
// (e.raw), or as fields when a member must be renamed (a key the exporter
// sets itself). It reports false, adding nothing, when b is not one JSON
// object. Invalid UTF-8 in its strings becomes U+FFFD, as in map bodies.
func (e *encoder) addRaw(b []byte) bool {
	sc, ok := datadog.ScanObject(b, e.spans)
	e.spans = sc.Members
	if !ok {
		return false
	}
	if sc.BadUTF8 {
		b = datadog.AppendRepairedUTF8(nil, b)
		sc, _ = datadog.ScanObject(b, e.spans)
		e.spans = sc.Members
	}
	e.text = b
	if len(sc.Members) == 0 {
		return true
	}
	raw := b[sc.Members[0].KeyStart:sc.Members[len(sc.Members)-1].ValueEnd]
	for _, m := range sc.Members {
		if m.Escaped || isReserved(b[m.KeyStart+1:m.KeyEnd-1]) {
			// addRaw is called before any other field is added.
			e.fields = append(e.fields, e.membersAsFields()...)
			e.textFields = len(e.fields)
			return true
		}
	}
	e.raw = raw
	return true
}

// addBuilt adds the members of the JSON object b that this exporter
// encoded itself (AppendRecordFromAttributes): valid JSON and no
// reserved key by construction, so it is spliced without the scan of
// addRaw; its members are scanned only if the entry must be truncated.
func (e *encoder) addBuilt(b []byte) {
	e.text, e.unscanned = b, true
	if len(b) > 2 {
		e.raw = b[1 : len(b)-1]
	}
}

// members returns the spans of the members of e.text.
func (e *encoder) members() []datadog.Span {
	if e.unscanned {
		sc, _ := datadog.ScanObject(e.text, e.spans)
		e.spans, e.unscanned = sc.Members, false
	}
	return e.spans
}

// membersAsFields returns the members of the last record addRaw
// scanned as fields.
func (e *encoder) membersAsFields() []field {
	spans := e.members()
	out := make([]field, 0, len(spans))
	for _, m := range spans {
		out = append(out, field{key: fieldName(m.Key(e.text)), value: e.text[m.ValueStart:m.ValueEnd]})
	}
	return out
}

// isReserved reports whether a member's key (unescaped) is one the
// exporter sets itself, without converting it to a string.
func isReserved(k []byte) bool {
	switch string(k) {
	case "ddsource", "ddsourcecategory", "ddtags", "hostname", "service", "status", "timestamp",
		"message", "aws", "dd_truncated", "dd_truncated_fields", "dd_truncated_shortened", "dd_truncated_dropped":
		return true
	}
	return false
}

func fieldName(k string) string {
	if isReserved(unsafe.Slice(unsafe.StringData(k), len(k))) {
		return "record." + k
	}
	return k
}
