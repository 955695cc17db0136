package datadogeventsexporter

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
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

const apiKey = datadogtest.APIKey

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func startIntake(t *testing.T, clock time.Time) *devstack.Intake {
	return datadogtest.StartIntake(t, clock)
}

func testConfig(endpoint string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.API.Key = datadogtest.APIKey
	cfg.ClientConfig.Endpoint = endpoint
	cfg.ExtraTags = []string{"env:test"}
	return cfg
}

type testExporter struct {
	exp  *eventsExporter
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
}

func newTestExporter(t testing.TB, cfg *Config, clock time.Time) *testExporter {
	t.Helper()
	require.NoError(t, confmap.Validate(cfg))
	set, tel, logs := datadogtest.Settings(t, metadata.Type)
	set.ID = component.NewID(metadata.Type)
	exp, err := newEventsExporter(set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	exp.now = func() time.Time { return clock }
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return &testExporter{exp: exp, tel: tel, logs: logs}
}

func (te *testExporter) counter(name, key, value string) int64 {
	return devstack.Counter(te.tel, name, key, value)
}

type rec struct {
	name, service, priority, errorCode string
	readOnly                           bool
	at                                 time.Time
}

func logsOf(recs ...rec) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ctattr.ResourceAccountID, "123456789012")
	rl.Resource().Attributes().PutStr(ctattr.ResourceRegion, "eu-west-1")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i, r := range recs {
		lr := lrs.AppendEmpty()
		body := lr.Body().SetEmptyMap()
		body.PutStr("eventName", r.name)
		body.PutEmptyMap("requestParameters").PutStr("instanceId", "i-0123")
		a := lr.Attributes()
		a.PutStr(ctattr.AttrEventID, fmt.Sprintf("id-%d", i))
		a.PutStr(ctattr.AttrRPCMethod, r.name)
		a.PutStr(ctattr.AttrRPCService, r.service+".amazonaws.com")
		a.PutStr(ctattr.AttrService, r.service)
		a.PutStr(ctattr.AttrPriority, r.priority)
		a.PutBool(ctattr.AttrReadOnly, r.readOnly)
		a.PutStr(ctattr.AttrUserName, "alice")
		a.PutStr(ctattr.AttrPrincipalType, "IAMUser")
		if r.errorCode != "" {
			a.PutStr(ctattr.AttrErrorCode, r.errorCode)
			a.PutStr(ctattr.AttrErrorMessage, "not authorized")
		}
		at := r.at
		if at.IsZero() {
			at = now.Add(-time.Hour)
		}
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
	}
	return ld
}

func TestCloudTrailGolden(t *testing.T) {
	// The samples are from 2014-2020: the clocks are set just after them.
	clock := time.Date(2020, 9, 10, 10, 0, 0, 0, time.UTC)
	in := startIntake(t, clock)
	cfg := testConfig(in.URL)
	cfg.IncludeReadOnly = true
	te := newTestExporter(t, cfg, clock)
	ld := datadogtest.Logs(t, false)
	require.NoError(t, te.exp.pushLogs(context.Background(), ld))

	events := in.Events()
	require.Len(t, events, 1, "only the Insight record is younger than 18 hours")
	assert.Equal(t, map[string]int{"otelcol-cloudtrail/latest": 1}, in.Origins(), "DD-EVP-ORIGIN and DD-EVP-ORIGIN-VERSION (the build version)")
	assert.Equal(t, int64(5), te.counter("otelcol_exporter_datadogevents_events_skipped", "reason", skipTooOld))

	// With a clock next to each record, every record makes an event.
	var all []devstack.Event
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				at := lr.Timestamp().AsTime().Add(time.Minute)
				in2 := startIntake(t, at)
				cfg2 := testConfig(in2.URL)
				cfg2.IncludeReadOnly = true
				one := plog.NewLogs()
				orl := one.ResourceLogs().AppendEmpty()
				rl.Resource().CopyTo(orl.Resource())
				lr.CopyTo(orl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
				require.NoError(t, newTestExporter(t, cfg2, at).exp.pushLogs(context.Background(), one))
				all = append(all, in2.Events()...)
			}
		}
	}
	require.Len(t, all, 6)
	sort.Slice(all, func(i, j int) bool { return all[i].Title < all[j].Title })
	for _, ev := range all {
		assert.LessOrEqual(t, len([]rune(ev.Title)), maxTitle)
		assert.LessOrEqual(t, len([]rune(ev.Text)), maxText)
		assert.Contains(t, ev.Tags, "cloudtrail")
		assert.Equal(t, "amazon cloudtrail", ev.SourceTypeName)
	}
	golden.AssertJSON(t, filepath.Join("testdata", "golden_cloudtrail_events.json"), all)
}

func TestEventFields(t *testing.T) {
	in := startIntake(t, now)
	te := newTestExporter(t, testConfig(in.URL), now)
	require.NoError(t, te.exp.pushLogs(context.Background(), logsOf(rec{name: "TerminateInstances", service: "ec2", priority: "normal", errorCode: "Client.UnauthorizedOperation"})))
	require.Len(t, in.Events(), 1)
	ev := in.Events()[0]
	assert.Equal(t, "ec2 TerminateInstances by alice (123456789012)", ev.Title)
	assert.Equal(t, "normal", ev.Priority)
	assert.Equal(t, "error", ev.AlertType)
	assert.Equal(t, "ec2:TerminateInstances", ev.AggregationKey)
	assert.Equal(t, now.Add(-time.Hour).Unix(), ev.DateHappened)
	assert.Equal(t, []string{"cloudtrail", "aws_account:123456789012", "region:eu-west-1", "aws_service:ec2", "event_name:TerminateInstances", "priority:normal", "env:test"}, ev.Tags,
		"the tag names of the datadoglogs entries")
	assert.Empty(t, ev.Host, "an IAM user's call has no host")
	for _, want := range []string{"%%% \n", "**alice** called **TerminateInstances**", "Client.UnauthorizedOperation", "not authorized", `"instanceId":"i-0123"`, "\n %%%"} {
		assert.Contains(t, ev.Text, want)
	}
}

// TestEventHost: the host of an event is the instance of an instance-role
// session (as the logs), else the resource's host.name.
func TestEventHost(t *testing.T) {
	tests := []struct {
		name, arn, resHost, want string
	}{
		{"instance role, 17 hex", "arn:aws:sts::123456789012:assumed-role/web/i-0123456789abcdef0", "", "i-0123456789abcdef0"},
		{"instance role, 8 hex", "arn:aws:sts::123456789012:assumed-role/web/i-0a1b2c3d", "collector-host", "i-0a1b2c3d"},
		{"user session", "arn:aws:sts::123456789012:assumed-role/admin/alice", "", ""},
		{"user session, resource host", "arn:aws:sts::123456789012:assumed-role/admin/alice", "collector-host", "collector-host"},
		{"service event", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := startIntake(t, now)
			te := newTestExporter(t, testConfig(in.URL), now)
			ld := logsOf(rec{name: "RunInstances", service: "ec2", priority: "normal"})
			rl := ld.ResourceLogs().At(0)
			if tt.resHost != "" {
				rl.Resource().Attributes().PutStr("host.name", tt.resHost)
			}
			if tt.arn != "" {
				rl.ScopeLogs().At(0).LogRecords().At(0).Attributes().PutStr(ctattr.AttrPrincipalARN, tt.arn)
			}
			require.NoError(t, te.exp.pushLogs(context.Background(), ld))
			require.Len(t, in.Events(), 1)
			assert.Equal(t, tt.want, in.Events()[0].Host)
		})
	}
}

func TestSelection(t *testing.T) {
	recs := []rec{
		{name: "RunInstances", service: "ec2", priority: "normal"},
		{name: "Decrypt", service: "kms", priority: "low"},
		{name: "DescribeInstances", service: "ec2", priority: "normal", readOnly: true},
		{name: "CreateUser", service: "iam", priority: "normal", at: now.Add(-19 * time.Hour)},
	}
	tests := []struct {
		name        string
		minPriority string
		readOnly    bool
		want        []string
		skipped     map[string]int64
	}{
		{name: "defaults", minPriority: "low", want: []string{"Decrypt", "RunInstances"},
			skipped: map[string]int64{skipReadOnly: 1, skipTooOld: 1}},
		{name: "normal only", minPriority: "normal", want: []string{"RunInstances"},
			skipped: map[string]int64{skipBelowPriority: 1, skipReadOnly: 1, skipTooOld: 1}},
		{name: "read-only included", minPriority: "low", readOnly: true, want: []string{"Decrypt", "DescribeInstances", "RunInstances"},
			skipped: map[string]int64{skipTooOld: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := startIntake(t, now)
			cfg := testConfig(in.URL)
			cfg.MinPriority, cfg.IncludeReadOnly = tt.minPriority, tt.readOnly
			te := newTestExporter(t, cfg, now)
			require.NoError(t, te.exp.pushLogs(context.Background(), logsOf(recs...)))
			var got []string
			for _, ev := range in.Events() {
				got = append(got, strings.Fields(ev.Title)[1])
			}
			sort.Strings(got)
			assert.Equal(t, tt.want, got)
			for reason, n := range tt.skipped {
				assert.Equal(t, n, te.counter("otelcol_exporter_datadogevents_events_skipped", "reason", reason), reason)
			}
		})
	}
}

func TestRateLimitReturnsOnlyUnsent(t *testing.T) {
	in := startIntake(t, now)
	in.Fail(devstack.IntakeFault{Path: "/api/v1/events", Status: 429, After: 5, Times: 1, RateLimitReset: 2})
	cfg := testConfig(in.URL)
	cfg.Concurrency = 1
	te := newTestExporter(t, cfg, now)
	var recs []rec
	for i := 0; i < 12; i++ {
		recs = append(recs, rec{name: fmt.Sprintf("Call%02d", i), service: "ec2", priority: "normal"})
	}
	err := te.exp.pushLogs(context.Background(), logsOf(recs...))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "429")
	var le consumererror.Logs
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 7, le.Data().LogRecordCount())
	require.NoError(t, te.exp.pushLogs(context.Background(), le.Data()))
	titles := map[string]int{}
	for _, ev := range in.Events() {
		titles[ev.Title]++
	}
	assert.Len(t, titles, 12)
	for title, n := range titles {
		assert.Equal(t, 1, n, title)
	}
}

func TestForbiddenIsPermanentAndHidesKey(t *testing.T) {
	in := startIntake(t, now)
	cfg := testConfig(in.URL)
	cfg.API.Key = "ffffffffffffffffffffffffffffffff"
	te := newTestExporter(t, cfg, now)
	err := te.exp.pushLogs(context.Background(), logsOf(rec{name: "RunInstances", service: "ec2", priority: "normal"}))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "403")
	assert.NotContains(t, err.Error(), string(cfg.API.Key))
	for _, e := range te.logs.All() {
		assert.NotContains(t, fmt.Sprint(e.Message, e.ContextMap()), string(cfg.API.Key))
	}
}

func TestLongFieldsAreCut(t *testing.T) {
	in := startIntake(t, now)
	te := newTestExporter(t, testConfig(in.URL), now)
	ld := logsOf(rec{name: strings.Repeat("VeryLongOperationName", 10), service: "ec2", priority: "normal"})
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	lr.Body().Map().PutEmptyMap("requestParameters").PutStr("policy", strings.Repeat("é|`x", 3000))
	require.NoError(t, te.exp.pushLogs(context.Background(), ld))
	require.Len(t, in.Events(), 1, "the intake accepts the event: every limit is respected")
	ev := in.Events()[0]
	assert.Len(t, []rune(ev.Title), maxTitle)
	assert.LessOrEqual(t, len([]rune(ev.Text)), maxText)
	assert.LessOrEqual(t, len([]rune(ev.AggregationKey)), maxAggKey)
	assert.True(t, strings.HasSuffix(ev.Text, "\n %%%"))
}

func TestGenericLogRecord(t *testing.T) {
	in := startIntake(t, now)
	te := newTestExporter(t, testConfig(in.URL), now)
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("disk full on /var\nused 100%")
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(now))
	require.NoError(t, te.exp.pushLogs(context.Background(), ld))
	require.Len(t, in.Events(), 1)
	ev := in.Events()[0]
	assert.Equal(t, "disk full on /var", ev.Title)
	assert.Equal(t, "error", ev.AlertType)
	assert.Equal(t, "low", ev.Priority)
	assert.Equal(t, []string{"env:test"}, ev.Tags)
}
