package awscloudtrailreceiver

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// findingsRefuser passes records on but refuses every batch holding an
// integrity finding with err while refuse is set.
type findingsRefuser struct {
	next    consumer.Logs
	err     error
	refuse  atomic.Bool
	refused atomic.Int64
}

func (r *findingsRefuser) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if r.refuse.Load() && hasFinding(ld) {
		r.refused.Add(1)
		return r.err
	}
	return r.next.ConsumeLogs(ctx, ld)
}

func (*findingsRefuser) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// TestRevfSQSUnkeptFindingKeepsMessage: SQS mode. The `modified` finding
// of a log file is refused (retryably) until the receiver stops: its
// message must not be deleted, and after a restart, with no other message
// sent, it is read again: the finding is delivered once, the file's
// records are delivered once over both runs, and the queue ends empty.
func TestRevfSQSUnkeptFindingKeepsMessage(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	early, victim, modified := modifyFirstOfHour(t, s3srv, tree)
	ids := fileEventIDs(t, modified)

	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Integrity.Enabled = true
	cfg.Storage = &id

	sk := &findingSink{sink: newSink()}
	rf := &findingsRefuser{next: sk, err: errQueueFull}
	rf.refuse.Store(true)
	sendMessages(t, qc, queueURL, []string{s3Notification(signedBucket, early)})
	h := startReceiver(t, cfg, rf, host)
	require.Eventually(t, func() bool { return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == 1 },
		20*time.Second, 20*time.Millisecond)
	sendMessages(t, qc, queueURL, []string{s3Notification(signedBucket, victim)})
	require.Eventually(t, func() bool { return rf.refused.Load() >= 2 && sk.count() == len(ids) }, 20*time.Second, 20*time.Millisecond,
		"the finding was not refused (%d) or the records not delivered (%d of %d)", rf.refused.Load(), sk.count(), len(ids))
	require.NoError(t, h.stop())
	require.Empty(t, sk.got())
	q := s3srv.SQS().Stats("cloudtrail")
	require.Equal(t, 1, q.Visible+q.InFlight, "the message of the file whose finding was not delivered was deleted: %+v", q)

	rf.refuse.Store(false)
	h = startReceiver(t, cfg, rf, host)
	require.Eventually(t, func() bool {
		q := s3srv.SQS().Stats("cloudtrail")
		return len(sk.got()) > 0 && q.Visible+q.InFlight == 0
	}, 30*time.Second, 20*time.Millisecond, "after the restart: findings %v, queue %+v", sk.got(), s3srv.SQS().Stats("cloudtrail"))
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusModified + " " + victim}, sk.got())
	assert.Empty(t, sk.duplicates(), "records delivered twice")
	assert.Equal(t, len(ids), sk.count())
}

// TestRevfFindingRefusedPermanently: SQS mode, not stopping. A finding the
// next consumer rejects permanently is given up (logged), not retried for
// ever: the file is read once, its message deleted, its records delivered
// once, and the receiver stops promptly.
func TestRevfFindingRefusedPermanently(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	early, victim, modified := modifyFirstOfHour(t, s3srv, tree)
	ids := fileEventIDs(t, modified)

	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Integrity.Enabled = true
	sk := &findingSink{sink: newSink()}
	rf := &findingsRefuser{next: sk, err: consumererror.NewPermanent(errors.New("rejected"))}
	rf.refuse.Store(true)
	sendMessages(t, qc, queueURL, []string{s3Notification(signedBucket, early)})
	h := startReceiver(t, cfg, rf, nil)
	require.Eventually(t, func() bool { return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == 1 },
		20*time.Second, 20*time.Millisecond)
	sendMessages(t, qc, queueURL, []string{s3Notification(signedBucket, victim)})
	require.Eventually(t, func() bool {
		q := s3srv.SQS().Stats("cloudtrail")
		return rf.refused.Load() >= 1 && q.Visible+q.InFlight == 0 && h.counter(t, "otelcol_receiver_awscloudtrail_objects_read", "", "") == 1
	}, 20*time.Second, 20*time.Millisecond, "refused %d, queue %+v", rf.refused.Load(), s3srv.SQS().Stats("cloudtrail"))
	stopped := make(chan error, 1)
	go func() { stopped <- h.stop() }()
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown hangs")
	}
	assert.Equal(t, int64(1), rf.refused.Load(), "a permanently refused finding was sent again")
	assert.Equal(t, 1, s3srv.Gets(signedBucket, victim), "the file was read again")
	assert.Empty(t, sk.duplicates())
	assert.Equal(t, len(ids), sk.count())
	assert.Empty(t, sk.got())
}

// hungFindings passes records on but, while hang is set, holds every batch
// holding an integrity finding until the call's context ends (a hung
// exporter that honours only its context).
type hungFindings struct {
	next consumer.Logs
	hang atomic.Bool
	held atomic.Int64
}

func (r *hungFindings) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if r.hang.Load() && hasFinding(ld) {
		r.held.Add(1)
		<-ctx.Done()
		return ctx.Err()
	}
	return r.next.ConsumeLogs(ctx, ld)
}

func (*hungFindings) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// TestRevfHungFindingShutdownPolling: polling mode. The next consumer hangs
// on the `modified` finding (until its context ends), made either by the
// digest loop (the file was read before its digest) or by the reader (the
// file's records wait until every digest was checked). Shutdown must end
// after the drain (not hang on the reader holding the folder nor on the
// digest loop waiting for it), and after a restart the finding is
// delivered once and the file's records were delivered once over both runs.
func TestRevfHungFindingShutdownPolling(t *testing.T) {
	for _, byReader := range []bool{false, true} {
		t.Run(map[bool]string{false: "digest loop", true: "reader"}[byReader], func(t *testing.T) {
			s3srv := startS3(t)
			tree := signedTree(t, s3srv)
			_, victim, modified := modifyFirstOfHour(t, s3srv, tree)

			st := newMemStorage()
			host, id := memStorageHost(st)
			cfg := integrityConfig(s3srv.URL)
			cfg.Storage = &id

			sk := &findingSink{sink: newSink()}
			gate := &gatedRecords{next: sk, held: map[string]bool{}, open: make(chan struct{})}
			if byReader {
				gate.held = fileEventIDs(t, modified)
			} else {
				close(gate.open)
			}
			hf := &hungFindings{next: gate}
			hf.hang.Store(true)
			h := startReceiver(t, cfg, hf, host)
			h.rcv.drain = 200 * time.Millisecond
			if byReader {
				require.Eventually(t, func() bool {
					return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == int64(len(tree.Digests))
				}, 20*time.Second, 20*time.Millisecond)
				close(gate.open)
			}
			require.Eventually(t, func() bool { return hf.held.Load() >= 1 }, 30*time.Second, 20*time.Millisecond, "the finding never reached the consumer")
			stopped := make(chan error, 1)
			go func() { stopped <- h.stop() }()
			select {
			case err := <-stopped:
				require.NoError(t, err)
			case <-time.After(10 * time.Second):
				t.Fatal("Shutdown hangs on a finding held downstream")
			}
			require.Empty(t, sk.got())

			hf.hang.Store(false)
			h = startReceiver(t, cfg, hf, host)
			assert.Eventually(t, func() bool { return len(sk.got()) > 0 && sk.count() >= len(tree.IDs) }, 30*time.Second, 20*time.Millisecond,
				"after the restart: findings %v, records %d of %d", sk.got(), sk.count(), len(tree.IDs))
			require.NoError(t, h.stop())
			assert.Equal(t, []string{integrity.StatusModified + " " + victim}, sk.got())
			assert.Empty(t, sk.duplicates(), "records delivered twice")
			assert.Equal(t, len(tree.IDs), sk.count())
		})
	}
}

// TestRevfFindingRefusedThenAccepted: polling mode, not stopping. The
// `modified` finding is refused (retryably) a few times, then accepted:
// the retry ends, the finding is delivered once and every record of the
// trail once, without a restart.
func TestRevfFindingRefusedThenAccepted(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	_, victim, _ := modifyFirstOfHour(t, s3srv, tree)

	sk := &findingSink{sink: newSink()}
	rf := &findingsRefuser{next: sk, err: errQueueFull}
	rf.refuse.Store(true)
	h := startReceiver(t, integrityConfig(s3srv.URL), rf, nil)
	require.Eventually(t, func() bool { return rf.refused.Load() >= 3 }, 30*time.Second, 20*time.Millisecond, "the finding was not refused")
	rf.refuse.Store(false)
	require.Eventually(t, func() bool { return len(sk.got()) > 0 && sk.count() >= len(tree.IDs) }, 30*time.Second, 20*time.Millisecond,
		"findings %v, records %d of %d", sk.got(), sk.count(), len(tree.IDs))
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusModified + " " + victim}, sk.got())
	assert.Empty(t, sk.duplicates(), "records delivered twice")
	assert.Equal(t, len(tree.IDs), sk.count())
}
