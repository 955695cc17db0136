package datadogeventsexporter

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// fanOut calls every exporter in turn with the same data and fails if any
// fails, as the collector's fan-out consumer does for a pipeline with
// several exporters.
func fanOut(exps ...exporter.Logs) func(context.Context, plog.Logs) error {
	return func(ctx context.Context, ld plog.Logs) error {
		var errs []error
		for _, e := range exps {
			errs = append(errs, e.ConsumeLogs(ctx, ld))
		}
		return errors.Join(errs...)
	}
}

// TestFanOutEventsFailureDuplicatesNoLog: the shipped pipeline (receiver →
// datadoglogs + datadogevents) while the Events API is rate-limited or
// down long enough to fill the events queue. The fan-out never fails, so
// the receiver never sends a batch twice: every log arrives exactly once,
// and every record either makes one event or is counted as shed.
func TestFanOutEventsFailureDuplicatesNoLog(t *testing.T) {
	tests := []struct {
		name  string
		fault devstack.IntakeFault
		// block sets the events queue's block_on_overflow (default false: shed).
		block bool
		// shedAfter is how long a batch waits for room before it is shed.
		shedAfter time.Duration
		// slow delays every answer of the intake (a backfill, where the
		// events queue is full because the Events API takes one event per call).
		slow time.Duration
		// noShed: every record must make its event.
		noShed bool
	}{
		{name: "events rate-limited", fault: devstack.IntakeFault{Path: "/api/v1/events", Status: 429, Times: 300}, shedAfter: 100 * time.Millisecond},
		{name: "events down", fault: devstack.IntakeFault{Path: "/api/v1/events", Status: 503, Times: 300}, shedAfter: 100 * time.Millisecond},
		{name: "events down, blocking queue", fault: devstack.IntakeFault{Path: "/api/v1/events", Status: 503, Times: 300}, block: true, noShed: true},
		{name: "events slow, queue full for a while", slow: 20 * time.Millisecond, shedAfter: DefaultShedAfter, noShed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := startIntake(t, time.Now())
			if tt.fault.Path != "" {
				in.Fail(tt.fault)
			}
			in.SetDelay(tt.slow)

			logsCfg := datadoglogsexporter.NewFactory().CreateDefaultConfig().(*datadoglogsexporter.Config)
			logsCfg.API.Key, logsCfg.ClientConfig.Endpoint = apiKey, in.URL
			logsCfg.RetryConfig.InitialInterval, logsCfg.RetryConfig.MaxInterval = time.Millisecond, 10*time.Millisecond
			logsSet := exportertest.NewNopSettings(component.MustNewType("datadoglogs"))
			logsExp, err := datadoglogsexporter.NewFactory().CreateLogs(context.Background(), logsSet, logsCfg)
			require.NoError(t, err)

			evCfg := testConfig(in.URL)
			evCfg.RetryConfig.InitialInterval, evCfg.RetryConfig.MaxInterval = time.Millisecond, 10*time.Millisecond
			q := evCfg.QueueConfig.Get()
			q.Sizer, q.QueueSize, q.NumConsumers, q.BlockOnOverflow = exporterhelper.RequestSizerTypeItems, 100, 2, tt.block
			evCfg.ShedAfter = tt.shedAfter
			tel := componenttest.NewTelemetry()
			t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
			evSet := exportertest.NewNopSettings(metadata.Type)
			evSet.TelemetrySettings = tel.NewTelemetrySettings()
			logCore, logged := observer.New(zap.InfoLevel)
			evSet.Logger = zap.New(logCore)
			evExp, err := NewFactory().CreateLogs(context.Background(), evSet, evCfg)
			require.NoError(t, err)
			for _, e := range []exporter.Logs{logsExp, evExp} {
				require.NoError(t, e.Start(context.Background(), componenttest.NewNopHost()))
			}
			pipeline := fanOut(logsExp, evExp)

			// The receiver: each batch is retried until the pipeline accepts it.
			const batches, perBatch = 20, 50
			refusals := 0
			want := map[string]int{}
			for b := 0; b < batches; b++ {
				ld := recent(multiResourceLogs(2, 1, perBatch/2, 0))
				renameCalls(ld, fmt.Sprintf("B%02d", b))
				for call := range calls(ld) {
					want[call] = 1
				}
				for {
					err := pipeline(context.Background(), ld)
					if err == nil {
						break
					}
					require.False(t, consumererror.IsPermanent(err), err)
					refusals++
					time.Sleep(10 * time.Millisecond)
				}
			}
			assert.Zero(t, refusals, "the pipeline never refuses a batch while both exporters run")

			shed := func() int64 {
				return devstack.Counter(tel, "otelcol_exporter_datadogevents_events_skipped", "reason", skipQueueFull)
			}
			require.Eventually(t, func() bool { return len(in.Logs()) >= len(want) }, time.Minute, 10*time.Millisecond)
			require.Eventually(t, func() bool { return int64(len(in.Events()))+shed() >= int64(len(want)) }, time.Minute, 10*time.Millisecond)
			require.NoError(t, logsExp.Shutdown(context.Background()))
			require.NoError(t, evExp.Shutdown(context.Background()))

			logs := map[string]int{}
			for _, e := range in.Logs() {
				name, _ := e["eventName"].(string)
				logs[name]++
			}
			dups := 0
			for call := range want {
				if logs[call] != 1 {
					dups++
				}
			}
			assert.Zero(t, dups, "records not sent exactly once as logs (of %d)", len(want))
			assert.Len(t, logs, len(want))
			events := eventCalls(in)
			for call, n := range events {
				assert.Equal(t, 1, n, "event %s sent %d times", call, n)
			}
			assert.Equal(t, int64(len(want)), int64(len(events))+shed(), "every record makes an event or is counted as shed")
			if tt.noShed {
				assert.Zero(t, shed(), "nothing is shed")
			}
			// A full queue is the shedding's business: exporterhelper's
			// error line for each attempt would flood the log in a backfill.
			assert.Zero(t, logged.FilterMessageSnippet("Rejecting data").Len(), "queue-full rejections logged as errors")
			if shed() > 0 {
				assert.Positive(t, logged.FilterMessageSnippet("stayed full for shed_after").Len())
			}
		})
	}
}

// renameCalls prefixes the call (eventName) of every record, so that the
// records of different batches are told apart.
func renameCalls(ld plog.Logs, prefix string) {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				v, _ := lr.Attributes().Get("rpc.method")
				name := prefix + v.Str()
				lr.Attributes().PutStr("rpc.method", name)
				lr.Body().Map().PutStr("eventName", name)
			}
		}
	}
}

// TestBatchLargerThanQueue: a batch of more records than the queue holds
// is queued in parts instead of being refused; every event is sent once.
func TestBatchLargerThanQueue(t *testing.T) {
	in := startIntake(t, time.Now())
	cfg := testConfig(in.URL)
	q := cfg.QueueConfig.Get()
	q.QueueSize, q.NumConsumers, q.BlockOnOverflow = 40, 2, true
	exp := createExporter(t, cfg)
	ld := recent(multiResourceLogs(2, 1, 50, 0))
	want := calls(ld)
	require.NoError(t, exp.ConsumeLogs(context.Background(), ld))
	require.Eventually(t, func() bool { return len(in.Events()) >= len(want) }, time.Minute, 10*time.Millisecond)
	assertExactlyOnce(t, in, want)
}
