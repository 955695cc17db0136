package datadoglogsexporter

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestGenericLogRecordMapping: records that are not CloudTrail's are
// mapped as contrib's Datadog exporter maps them: status from the severity
// text, else from the severity number (trace, debug, info, warn, error,
// fatal), else none; trace and span IDs as dd.trace_id / dd.span_id (the
// decimal of the low 64 bits) and otel.trace_id / otel.span_id (hex); env
// and version tags from the resource.
func TestGenericLogRecordMapping(t *testing.T) {
	traceID := pcommon.TraceID{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00}
	spanID := pcommon.SpanID{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff}
	tests := []struct {
		name   string
		set    func(res pcommon.Resource, lr plog.LogRecord)
		status any // nil: no status
		check  func(t *testing.T, e map[string]any)
	}{
		{name: "text wins over number", set: func(_ pcommon.Resource, lr plog.LogRecord) {
			lr.SetSeverityText("Warning")
			lr.SetSeverityNumber(plog.SeverityNumberError)
		}, status: "Warning"},
		{name: "trace", set: func(_ pcommon.Resource, lr plog.LogRecord) { lr.SetSeverityNumber(plog.SeverityNumberTrace2) }, status: "trace"},
		{name: "debug", set: func(_ pcommon.Resource, lr plog.LogRecord) { lr.SetSeverityNumber(plog.SeverityNumberDebug) }, status: "debug"},
		{name: "info", set: func(_ pcommon.Resource, lr plog.LogRecord) { lr.SetSeverityNumber(plog.SeverityNumberInfo4) }, status: "info"},
		{name: "warn", set: func(_ pcommon.Resource, lr plog.LogRecord) { lr.SetSeverityNumber(plog.SeverityNumberWarn) }, status: "warn"},
		{name: "error", set: func(_ pcommon.Resource, lr plog.LogRecord) { lr.SetSeverityNumber(plog.SeverityNumberError3) }, status: "error"},
		{name: "fatal", set: func(_ pcommon.Resource, lr plog.LogRecord) { lr.SetSeverityNumber(plog.SeverityNumberFatal) }, status: "fatal"},
		{name: "no severity: no status", set: func(pcommon.Resource, plog.LogRecord) {}, status: nil},
		{name: "trace and span IDs", set: func(_ pcommon.Resource, lr plog.LogRecord) {
			lr.SetTraceID(traceID)
			lr.SetSpanID(spanID)
			lr.Attributes().PutStr("dd.trace_id", "stale")
		}, check: func(t *testing.T, e map[string]any) {
			assert.Equal(t, "256", e["dd.trace_id"], "the low 64 bits, in decimal")
			assert.Equal(t, "255", e["dd.span_id"])
			assert.Equal(t, "01020304050607080000000000000100", e["otel.trace_id"])
			assert.Equal(t, "00000000000000ff", e["otel.span_id"])
		}},
		{name: "ID attributes without IDs stay", set: func(_ pcommon.Resource, lr plog.LogRecord) {
			lr.Attributes().PutStr("dd.trace_id", "12345")
		}, check: func(t *testing.T, e map[string]any) {
			assert.Equal(t, "12345", e["dd.trace_id"])
		}},
		{name: "no IDs", set: func(pcommon.Resource, plog.LogRecord) {}, check: func(t *testing.T, e map[string]any) {
			assert.NotContains(t, e, "dd.trace_id")
			assert.NotContains(t, e, "dd.span_id")
		}},
		{name: "env and version from the resource", set: func(res pcommon.Resource, _ plog.LogRecord) {
			res.Attributes().PutStr("deployment.environment.name", "prod")
			res.Attributes().PutStr("service.version", "1.2.3")
			res.Attributes().PutStr("k8s.pod.name", "web-0")
		}, check: func(t *testing.T, e map[string]any) {
			assert.Equal(t, "env:prod,version:1.2.3,env:test", e["ddtags"])
			assert.Equal(t, "web-0", e["k8s.pod.name"], "resource attributes are fields")
			assert.Equal(t, "prod", e["deployment.environment.name"])
		}},
		{name: "older deployment.environment", set: func(res pcommon.Resource, _ plog.LogRecord) {
			res.Attributes().PutStr("deployment.environment", "staging")
		}, check: func(t *testing.T, e map[string]any) {
			assert.Equal(t, "env:staging,env:test", e["ddtags"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := startIntake(t)
			te := newTestExporter(t, testConfig(in.URL))
			ld := plog.NewLogs()
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("service.name", "billing")
			lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			lr.Body().SetStr("hello")
			tt.set(rl.Resource(), lr)
			require.NoError(t, te.exp.pushLogs(context.Background(), ld))
			require.Len(t, in.Logs(), 1)
			e := in.Logs()[0]
			if tt.check == nil {
				assert.Equal(t, tt.status, e["status"])
			} else {
				tt.check(t, e)
			}
			assert.Equal(t, "billing", e["service"])
		})
	}
}

// TestTraceIDAttributeNotDuplicated: an attribute named like the IDs is not
// sent next to them (the entry would hold the key twice).
func TestTraceIDAttributeNotDuplicated(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTraceID(pcommon.TraceID{15: 1})
	lr.SetSpanID(pcommon.SpanID{7: 1})
	for _, k := range []string{"dd.trace_id", "otel.trace_id", "dd.span_id", "otel.span_id"} {
		lr.Attributes().PutStr(k, "stale")
	}
	enc := encoder{ddsource: "cloudtrail"}
	out, _ := enc.encode(nil, rl.Resource(), lr)
	for _, k := range []string{"dd.trace_id", "otel.trace_id", "dd.span_id", "otel.span_id"} {
		assert.Equal(t, 1, strings.Count(string(out), `"`+k+`"`), k)
	}
	assert.NotContains(t, string(out), "stale")
}
