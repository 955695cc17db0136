package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

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

// appendEntry appends the entry of the record members raw (spliced as
// they are), fields and meta. The keys of meta are the exporter's own
// (plain ASCII: written without escaping); those of fields are escaped.
func appendEntry(dst, raw []byte, fields, meta []field) []byte {
	dst = append(dst, '{')
	n := 0
	if len(raw) > 0 {
		dst = append(dst, raw...)
		n++
	}
	for _, f := range fields {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = datadog.AppendString(dst, f.key)
		dst = append(dst, ':')
		dst = append(dst, f.value...)
	}
	for _, f := range meta {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(append(append(dst, '"'), f.key...), '"', ':')
		dst = append(dst, f.value...)
	}
	return append(dst, '}')
}

func entrySize(raw []byte, fields, meta []field) int {
	n := 2 + len(raw) + 1
	for _, list := range [2][]field{fields, meta} {
		for _, f := range list {
			n += len(f.key) + len(f.value) + 4
		}
	}
	return n
}
