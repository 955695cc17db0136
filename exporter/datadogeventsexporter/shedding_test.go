package datadogeventsexporter

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// scriptedQueue answers ConsumeLogs with the queue-full error while full
// says so, and counts what it took.
type scriptedQueue struct {
	exporter.Logs
	mu    sync.Mutex
	full  func(call int) bool
	calls int
	taken int
}

func (q *scriptedQueue) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	if q.full(q.calls) {
		return exporterhelper.ErrQueueIsFull
	}
	q.taken += ld.LogRecordCount()
	return nil
}

func TestSheddingWaitsThenShedsUntilTheQueueTakesABatch(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	exp, err := newEventsExporter(set, testConfig("http://127.0.0.1:9"))
	require.NoError(t, err)
	shed := func() int64 {
		return devstack.Counter(tel, "otelcol_exporter_datadogevents_events_skipped", "reason", skipQueueFull)
	}
	batch := multiResourceLogs(1, 1, 10, 0)

	tests := []struct {
		name      string
		full      func(call int) bool
		after     time.Duration
		batches   int
		wantTaken int
		wantShed  int64
	}{
		{name: "full for a moment: waits, nothing shed", full: func(c int) bool { return c <= 3 }, after: time.Minute, batches: 2, wantTaken: 20},
		{name: "full for ever: the first waits, then all are shed", full: func(int) bool { return true }, after: 50 * time.Millisecond, batches: 3, wantShed: 30},
		{name: "shed at once with shed_after 0", full: func(c int) bool { return c == 1 }, after: 0, batches: 2, wantTaken: 10, wantShed: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &scriptedQueue{full: tt.full}
			s := &shedding{Logs: q, exp: exp, after: tt.after}
			before := shed()
			for range tt.batches {
				require.NoError(t, s.ConsumeLogs(context.Background(), batch))
			}
			assert.Equal(t, tt.wantTaken, q.taken)
			assert.Equal(t, tt.wantShed, shed()-before)
			if tt.wantShed == 30 {
				// The first batch waited and retried; the next were shed at once.
				assert.Greater(t, q.calls, 3)
				calls := q.calls
				require.NoError(t, s.ConsumeLogs(context.Background(), batch))
				assert.Equal(t, calls+1, q.calls, "shed at once while the queue stays full")
			}
		})
	}
}
