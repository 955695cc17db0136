package objectreader

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

const advAPIKey = "0123456789abcdef0123456789abcdef"

// advExport sends ld through both exporters (no queue, no retry) and
// returns what the intake accepted.
func advExport(t *testing.T, ld, recent plog.Logs) ([]map[string]any, []devstack.Event) {
	t.Helper()
	in, err := devstack.StartIntake("", advAPIKey)
	require.NoError(t, err)
	t.Cleanup(in.Close)
	ctx := context.Background()
	lf := datadoglogsexporter.NewFactory()
	lcfg := lf.CreateDefaultConfig().(*datadoglogsexporter.Config)
	lcfg.API.Key = advAPIKey
	lcfg.ClientConfig.Endpoint = in.URL
	lcfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	lcfg.RetryConfig.Enabled = false
	ef := datadogeventsexporter.NewFactory()
	ecfg := ef.CreateDefaultConfig().(*datadogeventsexporter.Config)
	ecfg.API.Key = advAPIKey
	ecfg.ClientConfig.Endpoint = in.URL
	ecfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	ecfg.RetryConfig.Enabled = false
	ecfg.MinPriority = "low"
	ecfg.IncludeReadOnly = true
	ecfg.Concurrency = 1
	for _, c := range []struct {
		f   exporter.Factory
		cfg any
		ld  plog.Logs
	}{{lf, lcfg, ld}, {ef, ecfg, recent}} {
		exp, err := c.f.CreateLogs(ctx, exportertest.NewNopSettings(c.f.Type()), c.cfg)
		require.NoError(t, err)
		require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
		in := plog.NewLogs()
		c.ld.CopyTo(in)
		require.NoError(t, exp.ConsumeLogs(ctx, in))
		require.NoError(t, exp.Shutdown(ctx))
	}
	evs := in.Events()
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Text < evs[j].Text })
	return in.Logs(), evs
}

// TestAdvPipelineSameAcrossModes: odd records read by the receiver in
// each body mode (copy_payload_attributes on) make the same Datadog log
// entries (map and json: identical; none: one valid entry per record) and
// the same Datadog events (all three modes).
func TestAdvPipelineSameAcrossModes(t *testing.T) {
	files := map[string][]byte{"odd": sampleFiles(t)["odd"]}
	for name, c := range advFiles(t) {
		if name != "10MB" && name != "buffer_boundaries" && name != "gzip" {
			files[name] = c.file
		}
	}
	now := pcommon.NewTimestampFromTime(time.Now().Add(-time.Minute))
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			entries := map[BodyMode][]map[string]any{}
			events := map[BodyMode][]devstack.Event{}
			n := 0
			for _, mode := range bodyModes {
				ld, recent := plog.NewLogs(), plog.NewLogs()
				for _, rec := range advReadFile(t, file, mode, 0, 1000).recs {
					lr := ld.ResourceLogs().AppendEmpty()
					rec.resource.CopyTo(lr.Resource().Attributes())
					rec.lr.CopyTo(lr.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
				}
				ld.CopyTo(recent)
				for _, rl := range recent.ResourceLogs().All() {
					rl.ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(now) // events are for recent records only
				}
				n = ld.LogRecordCount()
				entries[mode], events[mode] = advExport(t, ld, recent)
				require.Len(t, entries[mode], n, mode.String())
				require.Len(t, events[mode], n, "%s: an event per record", mode)
			}
			for i := range entries[BodyMap] {
				assert.Equal(t, entries[BodyMap][i], entries[BodyJSON][i], "entry %d: map vs json", i)
				if name == "odd" {
					// Its members of the wrong type are typed in the
					// attributes (readOnly "true", recipientAccountId 5,
					// resources holding a number, eventTime in +02:00),
					// and its record without eventID is not a CloudTrail
					// entry: none mode rebuilds what the attributes hold.
					continue
				}
				// none: what the attributes carry is what the record holds.
				for k, v := range entries[BodyNone][i] {
					if _, ok := entries[BodyMap][i][k]; !ok && (k == "eventTime" || k == "recipientAccountId" || k == "awsRegion") {
						continue // from the timestamp and the resource (README)
					}
					assert.Equal(t, entries[BodyMap][i][k], v, "entry %d: field %s, map vs none", i, k)
				}
			}
			for _, mode := range []BodyMode{BodyJSON, BodyNone} {
				if mode == BodyNone && name == "odd" {
					continue // see above
				}
				require.Len(t, events[mode], len(events[BodyMap]), mode.String())
				for i := range events[BodyMap] {
					assert.Equal(t, events[BodyMap][i], events[mode][i], fmt.Sprintf("event %d: map vs %s", i, mode))
				}
			}
		})
	}
}

// TestAdvRecordWithoutEventIDIsCloudTrail: a record the receiver read
// without eventID is still a CloudTrail record for the exporters, in every
// body mode: a CloudTrail log entry and a CloudTrail event.
func TestAdvRecordWithoutEventIDIsCloudTrail(t *testing.T) {
	file := []byte(`{"Records":[{"eventName":"RunInstances","eventSource":"ec2.amazonaws.com","recipientAccountId":"111111111111"}]}`)
	now := pcommon.NewTimestampFromTime(time.Now().Add(-time.Minute))
	for _, mode := range bodyModes {
		ld := plog.NewLogs()
		for _, rec := range advReadFile(t, file, mode, 0, 1000).recs {
			lr := ld.ResourceLogs().AppendEmpty()
			rec.resource.CopyTo(lr.Resource().Attributes())
			rec.lr.CopyTo(lr.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
		}
		recent := plog.NewLogs()
		ld.CopyTo(recent)
		recent.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(now)
		entries, events := advExport(t, ld, recent)
		require.Len(t, entries, 1)
		assert.Equal(t, "cloudtrail", entries[0]["ddsource"], mode.String())
		assert.Equal(t, "RunInstances", entries[0]["eventName"], mode.String())
		assert.Equal(t, "ec2.amazonaws.com", entries[0]["eventSource"], mode.String())
		require.Len(t, events, 1)
		assert.Contains(t, events[0].Title, "RunInstances", mode.String())
		assert.Contains(t, events[0].Tags, "cloudtrail", mode.String())
	}
}
