package awscloudtrailreceiver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// slowAcceptor stands for an exporter without a sending queue that sends a
// batch in several requests: on batch number `at` it has already handed
// the records to the intake (they are in the sink) when the call is still
// running; it returns an error if its context ends before `release` is
// closed, as an exporter cut between two requests would. Every later call
// is refused (retryable, nothing taken), so that what it accepted does not
// depend on how soon the stop begins.
type slowAcceptor struct {
	*sink
	at      int
	inCall  chan struct{}
	release chan struct{}
	once    sync.Once
	mu      sync.Mutex
	calls   int
}

func (s *slowAcceptor) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	s.mu.Lock()
	n := s.calls
	s.calls++
	s.mu.Unlock()
	if n > s.at {
		return errors.New("downstream busy")
	}
	if err := s.sink.ConsumeLogs(ctx, ld); err != nil || n != s.at {
		return err
	}
	s.once.Do(func() { close(s.inCall) })
	select {
	case <-ctx.Done():
		return fmt.Errorf("cut between two requests: %w", ctx.Err())
	case <-s.release:
		return nil
	}
}

var _ consumer.Logs = (*slowAcceptor)(nil)

// TestPollingStopLetsTheBatchInHandFinish: a graceful stop while a batch is
// being accepted downstream lets that call finish (within the drain) and
// saves its progress, so the restart sends none of it again.
func TestPollingStopLetsTheBatchInHandFinish(t *testing.T) {
	s3srv := startS3(t)
	g := trailgen.New(4242, "555555555555", "us-east-1")
	var want []string
	for f := 0; f < 3; f++ {
		at := t0.Add(time.Duration(f) * time.Minute)
		want = append(want, putFile(t, s3srv, trailgen.Key("", "", "555555555555", "CloudTrail", "us-east-1", at, fmt.Sprintf("d%d", f)), genRecords(g, at, 30))...)
	}
	host, storageID := devstack.FileStorageHost(t, t.TempDir())
	cfg := testConfig(s3srv.URL)
	cfg.Storage = &storageID
	cfg.Workers = 1
	cfg.MaxBatchRecords = 10

	first := &slowAcceptor{sink: newSink(), at: 2, inCall: make(chan struct{}), release: make(chan struct{})}
	h1 := startReceiver(t, cfg, first, host)
	h1.rcv.drain = 30 * time.Second // far longer than the release below takes, even on a slow machine
	<-first.inCall
	stopped := make(chan error, 1)
	go func() { stopped <- h1.stop() }()
	// The stop has begun (or is about to); the call in hand is still
	// running. Release it a little later: a receiver that cancels the call
	// at stop makes it fail before then. No assertion rests on this pause:
	// should the stop begin only after the release, the later batches are
	// refused all the same and the first collector has accepted 3 batches.
	time.Sleep(300 * time.Millisecond)
	close(first.release)
	require.NoError(t, <-stopped)
	require.Equal(t, 30, first.count(), "the stop lands in the middle of the backfill: 3 batches of 10 accepted")

	second := newSink()
	h2 := startReceiver(t, cfg, second, host)
	require.Eventually(t, func() bool { return first.count()+second.count() >= len(want) }, waitFor, 10*time.Millisecond)
	waitPolls(t, s3srv, testBucket, "AWSLogs/555555555555/CloudTrail/us-east-1/")
	require.NoError(t, h2.stop())

	union := first.ids()
	for id, n := range second.ids() {
		union[id] += n
	}
	assert.Len(t, union, len(want))
	for _, id := range want {
		assert.Equal(t, 1, union[id], "record %s", id)
	}
}
