package datadoglogsexporter

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
)

// crashAtWrite makes st crash (memstorage.Crash: every write from then on
// is discarded) when its clients are about to make their at-th write; it
// returns the count of writes.
func crashAtWrite(st *memstorage.Storage, at int64) *atomic.Int64 {
	writes := &atomic.Int64{}
	st.Fault = func(ops []*storage.Operation) error {
		for _, op := range ops {
			if op.Type != storage.Get {
				if writes.Add(1) == at {
					st.Crash()
				}
				break
			}
		}
		return nil
	}
	return writes
}

// TestPersistentQueueCrashDuringRestore: the collector is killed while
// requests are being sent (the intake is down), then killed again while
// the next start restores them into the queue, at every write of that
// restore in turn. The start after that sends every record: the
// persistent queue deletes the requests it restores before it writes them
// back, which alone would lose those not written back yet
// (datadog.CrashSafeQueue).
func TestPersistentQueueCrashDuringRestore(t *testing.T) {
	killed, cfg := killedWhileSending(t)
	for crashAt := int64(1); crashAt <= 8; crashAt++ {
		t.Run(fmt.Sprintf("killed at write %d of the restore", crashAt), func(t *testing.T) { restartKilledAt(t, killed, cfg, crashAt) })
	}
}

const advBatches, advPerBatch = 6, 10

// killedWhileSending returns the storage a collector left when it was
// killed while its consumers were sending (the intake down), and the
// configuration it ran with.
func killedWhileSending(t *testing.T, mods ...func(*exporterhelper.QueueBatchConfig)) (*memstorage.Storage, *Config) {
	t.Helper()
	down := startIntake(t)
	down.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, Times: 1 << 30})
	st := memstorage.New()
	cfg := testConfig(down.URL)
	q := exporterhelperQueue(st.ID())
	q.NumConsumers = 4
	for _, m := range mods {
		m(&q)
	}
	cfg.QueueConfig = configoptional.Some(q)
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = time.Hour
	first := createExporter(t, cfg, st.Host())
	for i := range advBatches {
		ld := cloudTrailLogs(advPerBatch, "")
		for _, lr := range ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
			lr.Body().Map().PutStr("eventID", fmt.Sprintf("b%d-%s", i, lr.Body().Map().AsRaw()["eventID"]))
		}
		require.NoError(t, first.ConsumeLogs(context.Background(), ld))
	}
	require.Eventually(t, func() bool { return down.Requests("/api/v2/logs") >= 8 }, 10*time.Second, 10*time.Millisecond)
	st.Crash()
	require.NoError(t, first.Shutdown(context.Background()))
	return st.Snapshot(), cfg
}

// restartKilledAt starts the exporter on a copy of killed, kills it at
// the crashAt-th write of its storage (after its start if it makes fewer),
// then starts it again with the intake up: every record is sent and no
// queue item is left once the queue drains.
func restartKilledAt(t *testing.T, killed *memstorage.Storage, cfg *Config, crashAt int64) {
	cs := killed.Snapshot()
	writes := crashAtWrite(cs, crashAt)
	restoring := createExporter(t, cfg, cs.Host())
	require.NoError(t, restoring.Shutdown(context.Background()))
	cs.Fault = nil
	if writes.Load() < crashAt {
		cs.Crash() // the restore made fewer writes: killed after it
	}
	up := startIntake(t)
	upCfg := *cfg
	upCfg.ClientConfig.Endpoint = up.URL
	last := createExporter(t, &upCfg, cs.Host())
	if !assert.Eventually(t, func() bool { return len(idCounts(up)) >= advBatches*advPerBatch }, 10*time.Second, 10*time.Millisecond) {
		t.Errorf("records sent: %d of %d", len(idCounts(up)), advBatches*advPerBatch)
	}
	items := func() (keys []string) {
		for k := range cs.Data() {
			if isItemKey(k) {
				keys = append(keys, k)
			}
		}
		return keys
	}
	if !assert.Eventually(t, func() bool { return len(items()) == 0 }, 10*time.Second, 10*time.Millisecond) {
		t.Errorf("queue items left: %v", items())
	}
	require.NoError(t, last.Shutdown(context.Background()))
}

func isItemKey(k string) bool {
	_, err := strconv.ParseUint(k, 10, 64)
	return err == nil
}
