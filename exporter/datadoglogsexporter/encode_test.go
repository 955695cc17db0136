package datadoglogsexporter

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// TestMetaKeysPlain: appendEntry writes the keys of the exporter's own
// fields without escaping them; each must need none. fieldName renames
// each of them (isReserved lists the same names as reserved).
func TestMetaKeysPlain(t *testing.T) {
	for k := range reserved {
		assert.Equal(t, `"`+k+`"`, string(datadog.AppendString(nil, k)))
		assert.True(t, isReserved([]byte(k)), "isReserved and reserved differ on %s", k)
		assert.Equal(t, "record."+k, fieldName(k))
	}
	for _, f := range (&truncation{}).markers() {
		assert.True(t, reserved[f.key], f.key)
	}
}

// TestEncoderReusedAcrossBatches: the encoder kept with a pooled batch
// carries nothing from one batch to the next. Hostile JSON-text bodies
// (a member renamed, an escaped key, a text that is not an object, an
// entry over 1 MB) go first, then the public samples in each body mode,
// whose entries must be those a fresh exporter sends.
func TestEncoderReusedAcrossBatches(t *testing.T) {
	samples := datadogtest.Logs(t, false)
	texts := datadogtest.Records(t)
	hostile := cloudTrailLogs(4, "")
	for i, text := range []string{`{"service":"s","eventID":"event-00000"}`, `{"event\u0049D":"event-00001"}`, `[1]`,
		`{"eventID":"event-00003","big":"` + strings.Repeat("x", 1<<20) + `"}`} {
		hostile.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(i).Body().SetStr(text)
	}
	for _, mode := range datadogtest.Modes {
		t.Run(mode, func(t *testing.T) {
			ld := datadogtest.InMode(t, samples, mode, texts)
			in := startIntake(t)
			te := newTestExporter(t, testConfig(in.URL))
			for range 3 {
				require.NoError(t, te.exp.pushLogs(context.Background(), hostile))
			}
			before := len(in.Logs())
			require.NoError(t, te.exp.pushLogs(context.Background(), ld))
			reused := map[string]map[string]any{}
			for _, e := range in.Logs()[before:] {
				reused[e["eventID"].(string)] = e
			}
			assert.Equal(t, entriesOf(t, ld), reused)
		})
	}
}

// TestBuiltRecordNeedsNoScan: addBuilt splices the record the attributes
// carry without scanning it, which holds only while that record is one
// valid JSON object without a key the exporter renames (as addRaw would
// find). Checked on the samples, with their payload attributes, and on
// attributes holding what needs escaping.
func TestBuiltRecordNeedsNoScan(t *testing.T) {
	ld := datadogtest.InMode(t, datadogtest.Logs(t, true), datadogtest.ModeNone, nil)
	hostile := cloudTrailLogs(1, "")
	a := hostile.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	a.PutStr(ctattr.AttrUserAgent, "bad \xff utf-8, \"quotes\\\" and \x01")
	a.PutEmptyMap(ctattr.AttrRequestParameters).PutDouble("nan", math.NaN())
	hostile.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
	n := 0
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				b := datadog.AppendRecordFromAttributes(nil, rl.Resource(), lr)
				sc, ok := datadog.ScanObject(b, nil)
				require.True(t, ok, "%s", b)
				assert.False(t, sc.BadUTF8, "%s", b)
				for _, m := range sc.Members {
					assert.False(t, m.Escaped || isReserved(b[m.KeyStart+1:m.KeyEnd-1]), "%s", b[m.KeyStart:m.KeyEnd])
				}
				n++
			}
		}
	}
	assert.Equal(t, 7, n)
}

// TestTruncateBodyNone: an entry of a `body: none` record over 1 MB (a
// payload attribute of 1.5 MB) is truncated as the others, on the
// members of the record its attributes carry.
func TestTruncateBodyNone(t *testing.T) {
	lr := plog.NewLogRecord() // an empty body: `body: none`
	lr.Attributes().PutStr(ctattr.AttrEventID, "e")
	lr.Attributes().PutStr(ctattr.AttrPriority, ctattr.PriorityLow)
	lr.Attributes().PutStr(ctattr.AttrRPCService, "ec2.amazonaws.com")
	lr.Attributes().PutEmptyMap(ctattr.AttrRequestParameters).PutStr("p", strings.Repeat("x", 1_500_000))
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)))
	res := pcommon.NewResource()
	res.Attributes().PutStr(ctattr.ResourceAccountID, "123456789012")
	entry, cut := newEncoder().encode(nil, res, lr)
	require.NotNil(t, cut)
	require.LessOrEqual(t, len(entry), maxEntryBytes)
	var e map[string]any
	require.NoError(t, json.Unmarshal(entry, &e))
	assert.Equal(t, []any{"requestParameters"}, e["dd_truncated_fields"])
	assert.Equal(t, "e", e["eventID"])
	assert.Equal(t, "ec2.amazonaws.com", e["eventSource"])
	assert.Equal(t, "2026-11-20T10:00:00Z", e["eventTime"])
	assert.Equal(t, "123456789012", e["recipientAccountId"])
}

// TestRecordFromAttributesAllocates: rebuilding a record from its
// attributes into a buffer with room allocates nothing (its writer stayed
// on the heap and grew a slice per nested object: two allocations per
// record of `body: none`).
func TestRecordFromAttributesAllocates(t *testing.T) {
	ld := datadogtest.Logs(t, true)
	for _, rl := range ld.ResourceLogs().All() {
		for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
			buf := make([]byte, 0, 1<<16)
			allocs := testing.AllocsPerRun(20, func() {
				buf = datadog.AppendRecordFromAttributes(buf[:0], rl.Resource(), lr)
			})
			assert.Zero(t, allocs, "%s", buf)
		}
	}
}
