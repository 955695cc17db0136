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
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
)

// crashingStorage is a storage extension that crashes (memstorage.Crash:
// every write from then on is discarded) when its clients are about to
// make their crashAt-th write.
type crashingStorage struct {
	*memstorage.Storage
	crashAt int64
	writes  atomic.Int64
}

func (s *crashingStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	c, err := s.Storage.GetClient(ctx, kind, id, name)
	return &crashingClient{Client: c, s: s}, err
}

type crashingClient struct {
	storage.Client
	s *crashingStorage
}

func (c *crashingClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		if op.Type != storage.Get {
			if c.s.writes.Add(1) == c.s.crashAt {
				c.s.Crash()
			}
			break
		}
	}
	return c.Client.Batch(ctx, ops...)
}

// TestPersistentQueueCrashDuringRestore: the collector is killed while
// requests are being sent (the intake is down), then killed again while
// the next start restores them into the queue, at every write of that
// restore in turn. The start after that sends every record: the
// persistent queue deletes the requests it restores before it writes them
// back, which alone would lose those not written back yet
// (datadog.CrashSafeQueue).
func TestPersistentQueueCrashDuringRestore(t *testing.T) {
	down := startIntake(t)
	down.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, Times: 1 << 30})
	st := memstorage.New()
	cfg := testConfig(down.URL)
	q := exporterhelperQueue(st.ID())
	q.NumConsumers = 4
	cfg.QueueConfig = configoptional.Some(q)
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = time.Hour

	const batches, perBatch = 6, 10
	first := createExporter(t, cfg, st.Host())
	for i := range batches {
		ld := cloudTrailLogs(perBatch, "")
		for _, lr := range ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().All() {
			lr.Body().Map().PutStr("eventID", fmt.Sprintf("b%d-%s", i, lr.Body().Map().AsRaw()["eventID"]))
		}
		require.NoError(t, first.ConsumeLogs(context.Background(), ld))
	}
	require.Eventually(t, func() bool { return down.Requests("/api/v2/logs") >= 8 }, 10*time.Second, 10*time.Millisecond, "the consumers are sending")
	st.Crash() // the first kill: requests are being sent
	require.NoError(t, first.Shutdown(context.Background()))
	killed := st.Snapshot()

	for crashAt := int64(1); crashAt <= 8; crashAt++ {
		t.Run(fmt.Sprintf("killed at write %d of the restore", crashAt), func(t *testing.T) {
			cs := &crashingStorage{Storage: killed.Snapshot(), crashAt: crashAt}
			host := &memstorage.Host{Host: cs.Host(), Extensions: map[component.ID]component.Component{cs.ID(): cs}}
			restoring := createExporter(t, cfg, host)
			require.NoError(t, restoring.Shutdown(context.Background()))
			if cs.writes.Load() < crashAt {
				cs.Crash() // the restore made fewer writes: killed after it
			}

			up := startIntake(t)
			upCfg := *cfg
			upCfg.ClientConfig.Endpoint = up.URL
			last := createExporter(t, &upCfg, cs.Storage.Host())
			if !assert.Eventually(t, func() bool { return len(idCounts(up)) >= batches*perBatch }, 10*time.Second, 10*time.Millisecond) {
				t.Errorf("records sent after the restart: %d of %d", len(idCounts(up)), batches*perBatch)
			}
			// The copies sent twice drain too, and no item is left behind.
			items := func() []string {
				var keys []string
				for k := range cs.Storage.Data() {
					if _, err := strconv.ParseUint(k, 10, 64); err == nil {
						keys = append(keys, k)
					}
				}
				return keys
			}
			if !assert.Eventually(t, func() bool { return len(items()) == 0 }, 10*time.Second, 10*time.Millisecond) {
				t.Errorf("queue items left: %v", items())
			}
			require.NoError(t, last.Shutdown(context.Background()))
		})
	}
}
