package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// reserved are the entry keys the exporter sets itself; a record field of
// the same name is sent as "record.<name>".
var reserved = map[string]bool{
	"ddsource": true, "ddsourcecategory": true, "ddtags": true, "hostname": true, "service": true,
	"status": true, "timestamp": true, "message": true, "aws": true, "dd_truncated": true, "dd_truncated_fields": true,
}

// field is one key and its encoded JSON value.
type field struct {
	key   string
	value []byte
}

// encoder turns log records into Datadog log entries.
type encoder struct {
	ddsource  string
	hostname  string
	extraTags []string
	scratch   []field
}

// encode appends the entry of lr to dst. truncated reports that the entry
// was over the intake's 1 MB limit and was cut to fit.
func (e *encoder) encode(dst []byte, res pcommon.Resource, lr plog.LogRecord) (out []byte, truncated bool) {
	rec := datadog.ReadRecord(res, lr)
	fields := e.scratch[:0]
	if rec.CloudTrail {
		// As Datadog's Forwarder: the record's fields at the top level, plus
		// aws.s3.bucket/key.
		for k, v := range lr.Body().Map().All() {
			fields = append(fields, field{key: fieldName(k), value: datadog.AppendValue(nil, v)})
		}
		if rec.Bucket != "" {
			s3 := append([]byte(`{"s3":{"bucket":`), datadog.AppendString(nil, rec.Bucket)...)
			s3 = append(append(append(s3, `,"key":`...), datadog.AppendString(nil, rec.Key)...), "}}"...)
			fields = append(fields, field{key: "aws", value: s3})
		}
	} else {
		fields = append(fields, field{key: "message", value: datadog.AppendString(nil, message(lr.Body()))})
		add := func(k string, v pcommon.Value) {
			if !reserved[k] && k != "service.name" && k != "host.name" {
				fields = append(fields, field{key: k, value: datadog.AppendValue(nil, v)})
			}
		}
		datadog.Flatten("", res.Attributes(), add)
		datadog.Flatten("", lr.Attributes(), add)
	}
	meta := e.metadata(rec, lr)
	e.scratch = fields

	start := len(dst)
	dst = appendEntry(dst, fields, meta)
	if len(dst)-start <= maxEntryBytes {
		return dst, false
	}
	dst = dst[:start]
	names := truncate(fields, maxEntryBytes-(entrySize(nil, meta)+64))
	meta = append(meta, field{key: "dd_truncated", value: []byte("true")})
	list := []byte{'['}
	for i, n := range names {
		if i > 0 {
			list = append(list, ',')
		}
		list = datadog.AppendString(list, n)
	}
	meta = append(meta, field{key: "dd_truncated_fields", value: append(list, ']')})
	return appendEntry(dst, fields, meta), true
}

func fieldName(k string) string {
	if reserved[k] {
		return "record." + k
	}
	return k
}

// metadata returns the Datadog reserved fields of an entry.
func (e *encoder) metadata(rec datadog.Record, lr plog.LogRecord) []field {
	source := e.ddsource
	if !rec.CloudTrail {
		source = "otel"
		if v, ok := lr.Attributes().Get("ddsource"); ok {
			source = v.AsString()
		}
	}
	host := rec.Hostname
	if host == "" {
		host = e.hostname
	}
	service := rec.Service
	if service == "" && rec.CloudTrail {
		service = "cloudtrail"
	}
	meta := []field{{key: "ddsource", value: datadog.AppendString(nil, source)}}
	if rec.CloudTrail {
		meta = append(meta, field{key: "ddsourcecategory", value: []byte(`"aws"`)})
	}
	if service != "" {
		meta = append(meta, field{key: "service", value: datadog.AppendString(nil, service)})
	}
	if host != "" {
		meta = append(meta, field{key: "hostname", value: datadog.AppendString(nil, host)})
	}
	if tags := rec.Tags(e.extraTags); len(tags) > 0 {
		meta = append(meta, field{key: "ddtags", value: datadog.AppendString(nil, strings.Join(tags, ","))})
	}
	meta = append(meta, field{key: "status", value: datadog.AppendString(nil, datadog.Status(lr))})
	if !rec.Time.IsZero() {
		meta = append(meta, field{key: "timestamp", value: strconv.AppendInt(nil, rec.Time.UnixMilli(), 10)})
	}
	return meta
}

func message(body pcommon.Value) string {
	switch body.Type() {
	case pcommon.ValueTypeStr:
		return body.Str()
	case pcommon.ValueTypeMap, pcommon.ValueTypeSlice:
		return string(datadog.AppendValue(nil, body))
	case pcommon.ValueTypeEmpty:
		return ""
	default:
		return body.AsString()
	}
}

func appendEntry(dst []byte, fields, meta []field) []byte {
	dst = append(dst, '{')
	n := 0
	for _, list := range [2][]field{fields, meta} {
		for _, f := range list {
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = datadog.AppendString(dst, f.key)
			dst = append(dst, ':')
			dst = append(dst, f.value...)
		}
	}
	return append(dst, '}')
}

func entrySize(fields, meta []field) int {
	n := 2
	for _, list := range [2][]field{fields, meta} {
		for _, f := range list {
			n += len(f.key) + len(f.value) + 4
		}
	}
	return n
}

// truncate shrinks the largest fields, turning each into a string holding
// the beginning of its JSON, until all fields fit in budget bytes. It
// returns the names of the fields it cut.
func truncate(fields []field, budget int) []string {
	order := make([]int, len(fields))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return len(fields[order[a]].value) > len(fields[order[b]].value) })
	var cut []string
	for _, i := range order {
		over := entrySize(fields, nil) - budget
		if over <= 0 {
			break
		}
		f := &fields[i]
		keep := len(f.value) - over - 16
		for keep > 0 {
			s := f.value[:keep]
			// Do not cut a character in two.
			for len(s) > 0 {
				if r, size := utf8.DecodeLastRune(s); r != utf8.RuneError || size > 1 {
					break
				}
				s = s[:len(s)-1]
			}
			enc := datadog.AppendString(nil, string(s)+"…")
			if extra := len(enc) - (len(f.value) - over); extra <= 0 {
				f.value = enc
				break
			} else {
				keep -= extra
			}
		}
		if keep <= 0 {
			f.value = []byte(`""`)
		}
		cut = append(cut, f.key)
	}
	return cut
}
