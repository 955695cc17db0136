package datadoglogsexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// TestBatchLargerThanQueue: a batch of more records than the sending queue
// holds (a batch processor configured for large batches) is accepted in
// parts, instead of being refused forever ("element size too large"), and
// every record arrives once.
func TestBatchLargerThanQueue(t *testing.T) {
	tests := []struct {
		name           string
		queue, records int
	}{
		{name: "2.5 times the queue", queue: 100, records: 250},
		{name: "exactly the queue", queue: 100, records: 100},
		{name: "one more than the queue", queue: 100, records: 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := startIntake(t)
			cfg := testConfig(in.URL)
			q := cfg.QueueConfig.Get()
			q.Sizer, q.QueueSize, q.NumConsumers = exporterhelper.RequestSizerTypeItems, int64(tt.queue), 2
			exp := createExporter(t, cfg, nil)
			ld := multiResourceLogs(shape{resources: 1, scopes: 1, records: tt.records})
			all := eventIDs(ld)
			require.NoError(t, exp.ConsumeLogs(context.Background(), ld))
			require.Eventually(t, func() bool { return len(in.Logs()) >= tt.records }, time.Minute, 10*time.Millisecond)
			require.NoError(t, exp.Shutdown(context.Background()))
			assertExactlyOnce(t, in, all)
			assert.Len(t, in.Logs(), tt.records)
		})
	}
}
