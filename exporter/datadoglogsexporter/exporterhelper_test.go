package datadoglogsexporter

import (
	"context"
	"fmt"
	"sync"
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

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

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
	require.Eventually(t, func() bool { return len(in.Logs()) >= 100 }, time.Minute, 20*time.Millisecond)
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
	require.Eventually(t, func() bool { return in.Rejected(503) > 0 }, time.Minute, 10*time.Millisecond)
	require.NoError(t, first.Shutdown(context.Background()))
	assert.Empty(t, in.Logs())

	in2 := startIntake(t)
	cfg.ClientConfig.Endpoint = in2.URL
	second := createExporter(t, cfg, host)
	require.Eventually(t, func() bool { return len(in2.Logs()) >= 30 }, time.Minute, 10*time.Millisecond)
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
	require.Eventually(t, func() bool { return in.Requests("/api/v2/logs") >= 2 }, time.Minute, 10*time.Millisecond, "the timed-out request is retried")
	assert.Empty(t, in.Logs())
	in.SetDelay(0)
	require.Eventually(t, func() bool { return len(in.Logs()) >= 10 }, time.Minute, 10*time.Millisecond)
	require.NoError(t, exp.Shutdown(context.Background()))
	ids := idCounts(in)
	assert.Len(t, ids, 10)
	for id, n := range ids {
		assert.Equal(t, 1, n, id)
	}
}
