package datadogeventsexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// multiResourceLogs returns records spread over resources (accounts) and
// scope logs; every record makes an event whose title names its call.
// Every readOnlyEvery-th record (if > 0) is read-only and makes no event.
func multiResourceLogs(resources, scopes, records, readOnlyEvery int) plog.Logs {
	return datadogtest.MultiResource(resources, scopes, records, "eu-west-1", func(n, _, _ int, lr plog.LogRecord) {
		one := logsOf(rec{name: fmt.Sprintf("Call%05d", n), service: "ec2", priority: "normal",
			readOnly: readOnlyEvery > 0 && n%readOnlyEvery == readOnlyEvery-1})
		one.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).CopyTo(lr)
	})
}

// calls returns the event names of ld's records that make an event.
func calls(ld plog.Logs) map[string]int {
	return datadogtest.CountBy(ld, func(lr plog.LogRecord) (string, bool) {
		if ro, _ := lr.Attributes().Get(ctattr.AttrReadOnly); ro.Bool() {
			return "", false
		}
		v, _ := lr.Attributes().Get(ctattr.AttrRPCMethod)
		return v.Str(), true
	})
}

// eventCalls counts the accepted events by the call in their title.
func eventCalls(in *devstack.Intake) map[string]int {
	out := map[string]int{}
	for _, ev := range in.Events() {
		var call string
		_, _ = fmt.Sscanf(ev.Title, "ec2 %s", &call)
		out[call]++
	}
	return out
}

var partialShapes = []struct {
	name                                     string
	resources, scopes, records, readOnlyEach int
}{
	{name: "2 resources x 6 records", resources: 2, scopes: 1, records: 6},
	{name: "3 resources x 2 scopes x 2 records, some read-only", resources: 3, scopes: 2, records: 2, readOnlyEach: 3},
}

// TestPartialFailureAcrossResources: wherever a rate-limited post falls in
// a batch of several resources and scopes, pushLogs returns exactly the
// records whose events were not accepted, and their retry completes the set.
func TestPartialFailureAcrossResources(t *testing.T) {
	for _, tt := range partialShapes {
		for _, concurrency := range []int{1, 4} {
			want := calls(multiResourceLogs(tt.resources, tt.scopes, tt.records, tt.readOnlyEach))
			for fail := 0; fail < len(want); fail++ {
				t.Run(fmt.Sprintf("%s/concurrency %d/post %d fails", tt.name, concurrency, fail+1), func(t *testing.T) {
					in := startIntake(t, now)
					in.Fail(devstack.IntakeFault{Path: "/api/v1/events", Status: 429, After: fail, Times: 1})
					cfg := testConfig(in.URL)
					cfg.Concurrency = concurrency
					te := newTestExporter(t, cfg, now)
					ld := multiResourceLogs(tt.resources, tt.scopes, tt.records, tt.readOnlyEach)

					err := te.exp.pushLogs(context.Background(), ld)
					rest := datadogtest.AssertSplit(t, err, eventCalls(in), calls, want)
					require.NoError(t, te.exp.pushLogs(context.Background(), rest))
					assertExactlyOnce(t, in, want)
				})
			}
		}
	}
}

// TestOneEventTooLargeIsSkipped: a 413 concerns one event (like a 400):
// the others of the batch are sent, and the batch is not dropped.
func TestOneEventTooLargeIsSkipped(t *testing.T) {
	in := startIntake(t, now)
	in.Fail(devstack.IntakeFault{Path: "/api/v1/events", Status: 413, After: 2, Times: 1})
	cfg := testConfig(in.URL)
	cfg.Concurrency = 1
	te := newTestExporter(t, cfg, now)
	ld := multiResourceLogs(2, 1, 4, 0)
	require.NoError(t, te.exp.pushLogs(context.Background(), ld))
	assert.Len(t, in.Events(), 7)
	assert.Equal(t, int64(1), te.counter("otelcol_exporter_datadogevents_events_skipped", "reason", skipRejected))
}

// TestPartialFailureThroughExporterHelper: the same with the collector's
// retry (no queue: ConsumeLogs returns once everything was accepted).
func TestPartialFailureThroughExporterHelper(t *testing.T) {
	for _, tt := range partialShapes {
		want := calls(multiResourceLogs(tt.resources, tt.scopes, tt.records, tt.readOnlyEach))
		for fail := 0; fail < len(want); fail++ {
			t.Run(fmt.Sprintf("%s/post %d fails", tt.name, fail+1), func(t *testing.T) {
				in := startIntake(t, time.Now())
				in.Fail(devstack.IntakeFault{Path: "/api/v1/events", Status: 503, After: fail, Times: 1})
				cfg := testConfig(in.URL)
				cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
				cfg.RetryConfig.InitialInterval = time.Millisecond
				cfg.RetryConfig.MaxInterval = 5 * time.Millisecond
				exp := createExporter(t, cfg)
				require.NoError(t, exp.ConsumeLogs(context.Background(), recent(multiResourceLogs(tt.resources, tt.scopes, tt.records, tt.readOnlyEach))))
				assertExactlyOnce(t, in, want)
				assert.Equal(t, 1, in.Rejected(503))
			})
		}
	}
}

// recent dates ld's records an hour ago (the exporter made by the factory
// reads the real clock).
func recent(ld plog.Logs) plog.Logs {
	ts := pcommon.NewTimestampFromTime(time.Now().Add(-time.Hour))
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				lr.SetTimestamp(ts)
			}
		}
	}
	return ld
}

func createExporter(t *testing.T, cfg *Config) exporter.Logs {
	t.Helper()
	set := exportertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

func assertExactlyOnce(t *testing.T, in *devstack.Intake, want map[string]int) {
	t.Helper()
	datadogtest.AssertExactlyOnce(t, eventCalls(in), want)
}
