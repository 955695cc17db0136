package datadoglogsexporter

// Adversarial tests of the exporter's delivery guarantees (issue #9).

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// TestAdv413SplitThenFailure: the intake answers 413 to the first
// request(s) (the exporter splits them in halves, recursively), then 503
// to one of the split requests, at every position. Through exporterhelper's
// retry every record of a multi-resource batch is accepted exactly once,
// and pushLogs alone returns exactly the records not accepted.
func TestAdv413SplitThenFailure(t *testing.T) {
	s := shape{resources: 3, scopes: 2, records: 7} // 42 records, one request
	for too := 1; too <= 3; too++ {
		for fail := 0; fail < 6; fail++ {
			for _, mode := range bodyModes {
				t.Run(fmt.Sprintf("413x%d/503 after %d/%s body", too, fail, mode), func(t *testing.T) {
					in := startIntake(t)
					in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 413, Times: too})
					in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, After: fail, Times: 1})
					cfg := testConfig(in.URL)
					cfg.MaxEntries = 100
					te := newTestExporter(t, cfg)
					ld := inBodyMode(mode, multiResourceLogs(s))
					all := eventIDs(ld)
					err := te.exp.pushLogs(context.Background(), ld)
					if err != nil {
						assert.False(t, consumererror.IsPermanent(err))
						var le consumererror.Logs
						require.ErrorAs(t, err, &le)
						accepted, rest := idCounts(in), eventIDs(le.Data())
						for id := range all {
							assert.Equal(t, 1, accepted[id]+rest[id], "%s: accepted %d, returned %d", id, accepted[id], rest[id])
						}
						require.NoError(t, te.exp.pushLogs(context.Background(), le.Data()))
					}
					assertExactlyOnce(t, in, all)
				})
			}
		}
	}
}

// TestAdvOversizeEntriesWithFailure: truncated (oversize) entries spread
// over a multi-resource batch, with a 503 on each request in turn: every
// record accepted exactly once, every oversize one flagged dd_truncated.
func TestAdvOversizeEntriesWithFailure(t *testing.T) {
	big := strings.Repeat(`{"Effect":"Allow","Action":"s3:*"}`, 40_000) // ~1.4 MB
	for fail := 0; fail < 4; fail++ {
		t.Run(fmt.Sprintf("503 after %d", fail), func(t *testing.T) {
			in := startIntake(t)
			in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, After: fail, Times: 1})
			cfg := testConfig(in.URL)
			cfg.MaxEntries = 3
			cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
			cfg.RetryConfig.InitialInterval = time.Millisecond
			cfg.RetryConfig.MaxInterval = 5 * time.Millisecond
			exp := createExporter(t, cfg, nil)
			ld := multiResourceLogs(shape{resources: 2, scopes: 1, records: 5})
			n := 0
			for _, rl := range ld.ResourceLogs().All() {
				for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
					if n%3 == 1 {
						lr.Body().Map().PutEmptyMap("requestParameters").PutStr("policyDocument", big)
					}
					n++
				}
			}
			all := eventIDs(ld)
			require.NoError(t, exp.ConsumeLogs(context.Background(), ld))
			assertExactlyOnce(t, in, all)
			truncated := 0
			for _, e := range in.Logs() {
				if e["dd_truncated"] == true {
					truncated++
				}
			}
			assert.Equal(t, 3, truncated, "records 1, 4, 7 are oversize")
		})
	}
}

// TestAdvBlockedQueueHonoursCancelAndShutdown: with the default blocking
// queue and a logs intake that is down, a ConsumeLogs that waits for room
// returns an error (never nil: the records were not taken) when its
// context ends — as the receiver's consume context does at the end of its
// drain — and the exporter's Shutdown returns although its consumer is
// retrying forever (max_elapsed_time 0).
func TestAdvBlockedQueueHonoursCancelAndShutdown(t *testing.T) {
	in := startIntake(t)
	in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, Times: 1 << 30})
	cfg := testConfig(in.URL)
	cfg.QueueConfig = configoptional.Some(smallQueue(10))
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 50 * time.Millisecond
	exp := createExporter(t, cfg, nil)

	require.NoError(t, exp.ConsumeLogs(context.Background(), cloudTrailLogs(10, "")), "fills the queue")
	require.Eventually(t, func() bool { return in.Rejected(503) >= 1 }, time.Minute, 5*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- exp.ConsumeLogs(ctx, cloudTrailLogs(5, "")) }()
	select {
	case err := <-res:
		t.Fatalf("ConsumeLogs returned %v although the queue is full", err)
	case <-time.After(200 * time.Millisecond): // it waits for room (no assertion rests on this)
	}
	cancel()
	select {
	case err := <-res:
		assert.Error(t, err, "a blocked ConsumeLogs cut by its context reports the records as not taken")
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked ConsumeLogs does not return when its context ends")
	}
	done := make(chan error, 1)
	go func() { done <- exp.Shutdown(context.Background()) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown does not return while the intake is down")
	}
}

// TestAdvSplitForQueuePartlyQueuedThenRefused: a batch larger than the
// queue is queued in parts (SplitForQueue). With the logs intake down the
// queue fills after the first parts; the caller's context then ends (the
// receiver's drain ran out) and ConsumeLogs fails with a plain error, not
// consumererror.Logs naming the parts not queued. The receiver resends
// the whole batch: the parts already queued are sent twice once the intake
// is back.
func TestAdvSplitForQueuePartlyQueuedThenRefused(t *testing.T) {
	in := startIntake(t)
	// Down for 80 requests: at least 2 s at the retry intervals below (50 ms
	// ± 50 %), far longer than the 500 ms the caller waits.
	in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, Times: 80})
	cfg := testConfig(in.URL)
	cfg.QueueConfig = configoptional.Some(smallQueue(10))
	cfg.RetryConfig.InitialInterval = 50 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 50 * time.Millisecond
	exp := createExporter(t, cfg, nil)

	ld := multiResourceLogs(shape{resources: 5, scopes: 1, records: 5}) // 25 records: parts of 5
	all := eventIDs(ld)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	err := exp.ConsumeLogs(ctx, ld)
	cancel()
	require.Error(t, err, "the queue cannot take the whole batch while the intake is down")
	var le consumererror.Logs
	retry := ld
	if assert.ErrorAs(t, err, &le, "the error names the records not queued: %v", err) {
		retry = le.Data()
		assert.Less(t, retry.LogRecordCount(), 25)
	}
	// The intake comes back (the faults run out); the receiver sends again
	// what was refused: the whole batch for a plain error (the rest, for
	// consumererror.Logs — which the receiver does not honour either).
	require.NoError(t, exp.ConsumeLogs(context.Background(), retry))
	require.Eventually(t, func() bool { return len(idCounts(in)) >= len(all) }, time.Minute, 10*time.Millisecond)
	require.NoError(t, exp.Shutdown(context.Background()))
	assertExactlyOnce(t, in, all)
}

// smallQueue is the default queue holding size records, drained by one
// consumer without batching.
func smallQueue(size int) exporterhelper.QueueBatchConfig {
	q := datadog.NewQueueConfig()
	q.QueueSize = int64(size)
	q.NumConsumers = 1
	q.Batch = configoptional.None[exporterhelper.BatchConfig]()
	return q
}
