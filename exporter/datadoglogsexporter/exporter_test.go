package datadoglogsexporter

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/golden"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

const apiKey = "0123456789abcdef0123456789abcdef"

func startIntake(t *testing.T) *devstack.Intake {
	t.Helper()
	in, err := devstack.StartIntake("", apiKey)
	require.NoError(t, err)
	t.Cleanup(in.Close)
	return in
}

func testConfig(endpoint string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.API.Key = apiKey
	cfg.ClientConfig.Endpoint = endpoint
	cfg.Hostname = "collector-1"
	cfg.ExtraTags = []string{"env:test"}
	return cfg
}

type testExporter struct {
	exp  *logsExporter
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
}

// newTestExporter builds the exporter itself, without exporterhelper: the
// tests see every error pushLogs returns.
func newTestExporter(t testing.TB, cfg *Config) *testExporter {
	t.Helper()
	require.NoError(t, confmap.Validate(cfg))
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	core, logs := observer.New(zap.DebugLevel)
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	exp, err := newLogsExporter(set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return &testExporter{exp: exp, tel: tel, logs: logs}
}

func (te *testExporter) counter(name string) int64 {
	return devstack.Counter(te.tel, name, "", "")
}

// cloudTrailLogs returns n CloudTrail-shaped log records with distinct IDs.
func cloudTrailLogs(n int, params string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ctattr.ResourceAccountID, "123456789012")
	rl.Resource().Attributes().PutStr(ctattr.ResourceRegion, "us-east-1")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := 0; i < n; i++ {
		lr := lrs.AppendEmpty()
		id := fmt.Sprintf("event-%05d", i)
		body := lr.Body().SetEmptyMap()
		body.PutStr("eventID", id)
		body.PutStr("eventName", "RunInstances")
		body.PutStr("eventSource", "ec2.amazonaws.com")
		body.PutStr("eventTime", "2026-11-20T10:00:00Z")
		if params != "" {
			body.PutEmptyMap("requestParameters").PutStr("policyDocument", params)
		}
		lr.Attributes().PutStr(ctattr.AttrEventID, id)
		lr.Attributes().PutStr(ctattr.AttrRPCMethod, "RunInstances")
		lr.Attributes().PutStr(ctattr.AttrService, "ec2")
		lr.Attributes().PutStr(ctattr.AttrPriority, ctattr.PriorityNormal)
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
	}
	return ld
}

// idCounts counts the accepted entries by eventID.
func idCounts(in *devstack.Intake) map[string]int {
	out := map[string]int{}
	for _, e := range in.Logs() {
		id, _ := e["eventID"].(string)
		out[id]++
	}
	return out
}

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

// TestThroughExporterHelper runs the exporter as the collector does: with
// exporterhelper's retry and queue, through faults of the intake.
func TestThroughExporterHelper(t *testing.T) {
	in := startIntake(t)
	in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 429, Times: 2, RetryAfter: 1})
	in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 500, Times: 2})
	cfg := testConfig(in.URL)
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 50 * time.Millisecond
	exp := createExporter(t, cfg, nil)
	for i := 0; i < 5; i++ {
		ld := cloudTrailLogs(20, "")
		for _, lr := range ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
			id := fmt.Sprintf("b%d-%s", i, lr.Body().Map().AsRaw()["eventID"])
			lr.Body().Map().PutStr("eventID", id)
		}
		require.NoError(t, exp.ConsumeLogs(context.Background(), ld))
	}
	require.Eventually(t, func() bool { return len(in.Logs()) >= 100 }, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, exp.Shutdown(context.Background()))
	ids := idCounts(in)
	assert.Len(t, ids, 100)
	for id, n := range ids {
		assert.Equal(t, 1, n, id)
	}
	assert.Equal(t, 2, in.Rejected(429))
	assert.Equal(t, 2, in.Rejected(500))
}

// TestPersistentQueueSurvivesRestart: records queued while the intake is
// down are kept in file storage and sent by the next exporter.
func TestPersistentQueueSurvivesRestart(t *testing.T) {
	in := startIntake(t)
	in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, Times: 1 << 30})
	dir := t.TempDir()
	host, storageID := devstack.FileStorageHost(t, dir)
	cfg := testConfig(in.URL)
	q := configoptional.Some(exporterhelperQueue(storageID))
	cfg.QueueConfig = q
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = time.Hour

	first := createExporter(t, cfg, host)
	require.NoError(t, first.ConsumeLogs(context.Background(), cloudTrailLogs(30, "")))
	require.Eventually(t, func() bool { return in.Rejected(503) > 0 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, first.Shutdown(context.Background()))
	assert.Empty(t, in.Logs())

	in2 := startIntake(t)
	cfg.ClientConfig.Endpoint = in2.URL
	second := createExporter(t, cfg, host)
	require.Eventually(t, func() bool { return len(in2.Logs()) >= 30 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, second.Shutdown(context.Background()))
	assert.Len(t, idCounts(in2), 30)
}

func createExporter(t *testing.T, cfg *Config, host component.Host) exporter.Logs {
	t.Helper()
	set := exportertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, exp.Start(context.Background(), host))
	once := &shutdownOnce{Logs: exp}
	t.Cleanup(func() { _ = once.Shutdown(context.Background()) })
	return once
}

// shutdownOnce lets a test shut an exporter down and the cleanup do it
// again harmlessly.
type shutdownOnce struct {
	exporter.Logs
	once sync.Once
	err  error
}

func (s *shutdownOnce) Shutdown(ctx context.Context) error {
	s.once.Do(func() { s.err = s.Logs.Shutdown(ctx) })
	return s.err
}

func exporterhelperQueue(storage component.ID) exporterhelper.QueueBatchConfig {
	q := exporterhelper.NewDefaultQueueConfig()
	q.StorageID = &storage
	q.NumConsumers = 1
	return q
}

func TestEntriesOutsideTheTimeWindowAreCounted(t *testing.T) {
	in := startIntake(t)
	te := newTestExporter(t, testConfig(in.URL))
	te.exp.now = func() time.Time { return time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC) } // records are of 2026-11-20 10:00
	require.NoError(t, te.exp.pushLogs(context.Background(), cloudTrailLogs(3, "")))
	assert.Len(t, in.Logs(), 3, "sent all the same: Datadog decides")
	assert.Equal(t, int64(3), te.counter("otelcol_exporter_datadoglogs_entries_outside_window"))
	te.exp.now = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	require.NoError(t, te.exp.pushLogs(context.Background(), cloudTrailLogs(3, "")))
	assert.Equal(t, int64(3), te.counter("otelcol_exporter_datadoglogs_entries_outside_window"), "recent entries are not counted")
}

// TestSlowIntakeTimesOut: a request slower than `timeout` fails and is
// retried, and nothing is lost once the intake answers in time again.
func TestSlowIntakeTimesOut(t *testing.T) {
	in := startIntake(t)
	in.SetDelay(2 * time.Second)
	cfg := testConfig(in.URL)
	cfg.ClientConfig.Timeout = 200 * time.Millisecond
	cfg.RetryConfig.InitialInterval = 50 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 100 * time.Millisecond
	exp := createExporter(t, cfg, nil)
	require.NoError(t, exp.ConsumeLogs(context.Background(), cloudTrailLogs(10, "")))
	require.Eventually(t, func() bool { return in.Requests("/api/v2/logs") >= 2 }, 10*time.Second, 10*time.Millisecond, "the timed-out request is retried")
	assert.Empty(t, in.Logs())
	in.SetDelay(0)
	require.Eventually(t, func() bool { return len(in.Logs()) >= 10 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, exp.Shutdown(context.Background()))
	ids := idCounts(in)
	assert.Len(t, ids, 10)
	for id, n := range ids {
		assert.Equal(t, 1, n, id)
	}
}
