package datadoglogsexporter

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/golden"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

func TestCloudTrailGolden(t *testing.T) {
	in := startIntake(t)
	te := newTestExporter(t, testConfig(in.URL))
	ld := datadogtest.Logs(t, false)
	// An attribute added by a processor travels with the record.
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				lr.Attributes().PutStr("team", "security")
			}
		}
	}
	require.NoError(t, te.exp.pushLogs(context.Background(), ld))

	entries := in.Logs()
	require.Len(t, entries, 6)
	assert.Equal(t, map[string]int{"otelcol-cloudtrail/latest": 1}, in.Origins(), "DD-EVP-ORIGIN and DD-EVP-ORIGIN-VERSION (the build version)")
	sort.Slice(entries, func(i, j int) bool { return entries[i]["eventID"].(string) < entries[j]["eventID"].(string) })
	for _, e := range entries {
		// The record's own fields are at the top level, as the Forwarder sends them.
		assert.Contains(t, e, "eventVersion")
		assert.Contains(t, e, "awsRegion")
		assert.Equal(t, "cloudtrail", e["ddsource"])
		assert.Equal(t, map[string]any{"s3": map[string]any{"bucket": datadogtest.Bucket, "key": e["aws"].(map[string]any)["s3"].(map[string]any)["key"]}}, e["aws"])
		assert.Equal(t, "cloudtrail", e["service"], "as the Forwarder")
		assert.NotContains(t, e, "status", "as the Forwarder: Datadog's pipeline sets it")
		assert.Contains(t, e["ddtags"], "aws_account:")
		assert.Contains(t, e["ddtags"], "env:test")
		assert.Equal(t, "security", e["team"])
		assert.NotContains(t, e, "aws.cloudtrail.event_id", "the receiver's attributes repeat the record: not sent")
		// The host, as the Forwarder: the instance of an instance-role
		// session, else none (console sign-in, IAM user, service event, Insight).
		if e["eventName"] == "UpdateInstanceInformation" {
			assert.Equal(t, "i-0123456789abcdef0", e["hostname"])
		} else {
			assert.NotContains(t, e, "hostname", e["eventName"])
		}
	}
	golden.AssertJSON(t, filepath.Join("testdata", "golden_cloudtrail_logs.json"), entries)
}

func TestGenericLogRecord(t *testing.T) {
	in := startIntake(t)
	te := newTestExporter(t, testConfig(in.URL))
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "billing")
	rl.Resource().Attributes().PutStr("host.name", "web-1")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("payment failed")
	lr.Attributes().PutEmptyMap("http").PutInt("status", 502)
	lr.Attributes().PutStr("status", "shadowed")
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.UnixMilli(1700000000123)))
	require.NoError(t, te.exp.pushLogs(context.Background(), ld))
	require.Len(t, in.Logs(), 1)
	assert.Equal(t, map[string]any{
		"message": "payment failed", "http.status": 502.0, "ddsource": "otel", "service": "billing",
		"hostname": "web-1", "ddtags": "env:test", "status": "error", "timestamp": 1700000000123.0,
	}, in.Logs()[0])
}

func TestBatchLimits(t *testing.T) {
	tests := []struct {
		name         string
		records      int
		maxPayload   int
		maxEntries   int
		wantRequests int
	}{
		{name: "entries limit", records: 2500, maxPayload: maxPayloadBytes, maxEntries: 1000, wantRequests: 3},
		{name: "configured entries", records: 100, maxPayload: maxPayloadBytes, maxEntries: 30, wantRequests: 4},
		{name: "payload bytes", records: 100, maxPayload: 20_000, maxEntries: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := startIntake(t)
			cfg := testConfig(in.URL)
			cfg.MaxPayloadBytes, cfg.MaxEntries = tt.maxPayload, tt.maxEntries
			te := newTestExporter(t, cfg)
			require.NoError(t, te.exp.pushLogs(context.Background(), cloudTrailLogs(tt.records, strings.Repeat("x", 1500))))
			sizes := in.BodySizes("/api/v2/logs")
			total := 0
			for _, n := range sizes {
				assert.LessOrEqual(t, n, tt.maxPayload)
				total += n
			}
			if tt.wantRequests > 0 {
				assert.Len(t, sizes, tt.wantRequests)
			} else {
				assert.Len(t, sizes, (total+tt.maxPayload-1)/tt.maxPayload, "requests are filled up to the limit")
			}
			ids := idCounts(in)
			assert.Len(t, ids, tt.records)
			for id, n := range ids {
				assert.Equal(t, 1, n, id)
			}
			assert.Positive(t, te.counter("otelcol_exporter_datadoglogs_payload_bytes"))
		})
	}
}

func TestSplitOn413(t *testing.T) {
	for _, mode := range bodyModes {
		t.Run(mode, func(t *testing.T) {
			in := startIntake(t)
			in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 413, Times: 2})
			te := newTestExporter(t, testConfig(in.URL))
			require.NoError(t, te.exp.pushLogs(context.Background(), inBodyMode(mode, cloudTrailLogs(40, ""))))
			ids := idCounts(in)
			assert.Len(t, ids, 40)
			for id, n := range ids {
				assert.Equal(t, 1, n, id)
			}
			assert.Equal(t, 2, in.Rejected(413))
		})
	}
}

// TestSingleEntry413Counted: an entry the intake refuses alone with a 413
// (a proxy's limit below Datadog's 1 MB: entries are truncated to that)
// cannot be sent in any request; it is dropped, but counted by reason and
// logged with its eventID, and the batch's other records are delivered.
func TestSingleEntry413Counted(t *testing.T) {
	for _, mode := range bodyModes {
		t.Run(mode, func(t *testing.T) {
			in := startIntake(t)
			// 3 records: the request, its halves (1 and 2 entries), then
			// the lone first entry is refused; the rest goes through.
			in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 413, Times: 2})
			te := newTestExporter(t, testConfig(in.URL))
			_, err := te.tel.GetMetric("otelcol_exporter_datadoglogs_entries_dropped")
			require.NoError(t, err, "the counter exists at 0 from the start")
			require.NoError(t, te.exp.pushLogs(context.Background(), inBodyMode(mode, cloudTrailLogs(3, ""))))
			ids := idCounts(in)
			assert.Len(t, ids, 2)
			assert.NotContains(t, ids, "event-00000")
			assert.Equal(t, int64(1), devstack.Counter(te.tel, "otelcol_exporter_datadoglogs_entries_dropped", "reason", "too_large"))
			dropped := te.logs.FilterMessageSnippet("single entry").All()
			require.Len(t, dropped, 1)
			assert.Equal(t, "event-00000", dropped[0].ContextMap()["event_id"])
		})
	}
}

func TestRetryableFailureReturnsOnlyUnsent(t *testing.T) {
	in := startIntake(t)
	cfg := testConfig(in.URL)
	cfg.MaxEntries = 10
	in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, After: 2, Times: 1, RetryAfter: 3})
	te := newTestExporter(t, cfg)
	ld := cloudTrailLogs(35, "")
	err := te.exp.pushLogs(context.Background(), ld)
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	var le consumererror.Logs
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 15, le.Data().LogRecordCount(), "the 20 accepted records are not returned")
	assert.Contains(t, err.Error(), "503")
	// The retry sends the rest; nothing twice.
	require.NoError(t, te.exp.pushLogs(context.Background(), le.Data()))
	ids := idCounts(in)
	assert.Len(t, ids, 35)
	for id, n := range ids {
		assert.Equal(t, 1, n, id)
	}
}

func TestPermanentErrorHidesKey(t *testing.T) {
	in := startIntake(t)
	cfg := testConfig(in.URL)
	cfg.API.Key = "ffffffffffffffffffffffffffffffff"
	te := newTestExporter(t, cfg)
	err := te.exp.pushLogs(context.Background(), cloudTrailLogs(3, ""))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "403")
	assert.NotContains(t, err.Error(), string(cfg.API.Key))
	for _, e := range te.logs.All() {
		assert.NotContains(t, fmt.Sprint(e.Message, e.ContextMap()), string(cfg.API.Key))
	}
	assert.NotContains(t, fmt.Sprintf("%+v", cfg), string(cfg.API.Key), "configopaque hides the key when printed")
}

func TestOversizedEntryIsTruncated(t *testing.T) {
	for _, mode := range bodyModes {
		t.Run(mode, func(t *testing.T) {
			in := startIntake(t)
			te := newTestExporter(t, testConfig(in.URL))
			big := strings.Repeat(`{"Effect":"Allow","Action":"s3:*"}`, 60_000) // ~2 MB, quotes to escape
			ld := cloudTrailLogs(2, big)
			ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr("team", "security")
			require.NoError(t, te.exp.pushLogs(context.Background(), inBodyMode(mode, ld)))
			entries := in.Logs()
			require.Len(t, entries, 2)
			for _, e := range entries {
				assert.Equal(t, true, e["dd_truncated"])
				assert.Equal(t, []any{"requestParameters"}, e["dd_truncated_fields"])
				s, _ := e["requestParameters"].(string)
				assert.True(t, strings.HasPrefix(s, `{"policyDocument":"{\"Effect\"`), s[:40])
				assert.True(t, strings.HasSuffix(s, "…"))
				assert.Equal(t, "RunInstances", e["eventName"], "the other fields are kept whole")
				assert.Equal(t, "2026-11-20T10:00:00Z", e["eventTime"])
			}
			assert.Equal(t, "security", entries[0]["team"], "a processor's attribute stays")
			assert.Equal(t, int64(2), te.counter("otelcol_exporter_datadoglogs_entries_truncated"))
		})
	}
}
