package awscloudtrailreceiver

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestPollingObjectInFlightAtStop: with two workers, a newer object of a
// folder finishes while an older one is still being read. The receiver
// stops (gracefully, or crashes: restarted on its storage as last
// written) at each step of the older object's life. After the restart
// every record of both objects is delivered, exactly once.
func TestPollingObjectInFlightAtStop(t *testing.T) {
	for _, lookback := range []time.Duration{5 * time.Minute, 0} {
		for _, stage := range []string{"get", "batch", "eof"} {
			for _, crash := range []bool{false, true} {
				name := fmt.Sprintf("lookback=%s/stage=%s/crash=%v", lookback, stage, crash)
				t.Run(name, func(t *testing.T) { testInFlightAtStop(t, lookback, stage, crash) })
			}
		}
	}
}

func testInFlightAtStop(t *testing.T, lookback time.Duration, stage string, crash bool) {
	s3srv := startS3(t)
	const account, region = "555555555555", "us-east-1"
	g := trailgen.New(77, account, region)
	keyA, idsA := putGen(t, s3srv, g, t0, "a", 10)
	keyB, idsB := putGen(t, s3srv, g, t0.Add(10*time.Minute), "b", 10)

	mem := newMemStorage()
	cfg, host := memConfig(s3srv.URL, mem)
	cfg.Workers = 2
	cfg.MaxBatchRecords = 3
	cfg.Lookback = lookback

	held := make(chan struct{})
	gs := &gatedStore{holdGet: map[string]chan struct{}{}, holdEOF: map[string]chan struct{}{}}
	first := &holdingSink{sink: newSink(), held: make(chan struct{})}
	switch stage {
	case "get": // before GetObject returns
		gs.holdGet[keyA] = held
	case "batch": // between two batches: the first was accepted
		var batchesA atomic.Int32
		first.hold = func(ld plog.Logs) bool {
			if !slices.Contains(idsA, eventIDs(ld)[0]) {
				return false
			}
			return batchesA.Add(1) > 1
		}
		held = first.held
	case "eof": // every batch was accepted, the object is not finished
		gs.holdEOF[keyA] = held
	}
	h1 := startReceiverHooked(t, cfg, first, host, func(r *cloudtrailReceiver) {
		r.tune.wrapS3 = func(s objectStore) objectStore { gs.objectStore = s; return gs }
	})
	require.Eventually(t, func() bool {
		select {
		case <-held:
		default:
			return false
		}
		if stage == "eof" && !hasAll(first.sink, idsA) {
			return false
		}
		return mem.done(t, keyB)
	}, waitFor, 5*time.Millisecond, "the newer object finishes while the older one is held")

	restartOn := mem
	if crash {
		// The process dies: the storage stays as last written, h1 is abandoned.
		restartOn = mem.snapshot()
	} else {
		require.NoError(t, h1.stop())
	}
	before := first.ids()

	host2, _ := memStorageHost(restartOn)
	second := newSink()
	h2 := startReceiver(t, cfg, second, host2)
	all := append(slices.Clone(idsA), idsB...)
	require.Eventually(t, func() bool {
		got := second.ids()
		for _, id := range all {
			if before[id]+got[id] == 0 {
				return false
			}
		}
		return restartOn.pending(t) == 0
	}, waitFor, 5*time.Millisecond, "every record is delivered and nothing is pending after the restart")
	require.NoError(t, h2.stop())

	union := before
	for k, n := range second.ids() {
		union[k] += n
	}
	for _, id := range all {
		assert.Equal(t, 1, union[id], "record %s delivered once (first %d, second %d)", id, before[id], second.ids()[id])
	}
	assert.Len(t, union, len(idsA)+len(idsB))
}

// waitFor bounds the waits for a condition.
var waitFor = 60 * time.Second

func hasAll(s *sink, ids []string) bool {
	got := s.ids()
	for _, id := range ids {
		if got[id] == 0 {
			return false
		}
	}
	return true
}
