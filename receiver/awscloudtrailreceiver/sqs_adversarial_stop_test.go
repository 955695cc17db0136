package awscloudtrailreceiver

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// Adversarial SQS tests of stops, crashes and consumer errors.

// TestSQSAdversarialStopWhileWaitingOnClaim: a worker reads A (1000
// records) and hangs downstream after 300; a duplicate notification of A
// waits on its claim. Shutdown; a restart on the same file storage finishes
// A exactly once and deletes both messages.
func TestSQSAdversarialStopWhileWaitingOnClaim(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 5, 1, 1000, 26000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	e.send(t, []string{s3Notification(testBucket, keys[0]), trailSNS(keys[0])})
	host, storageID := devstack.FileStorageHost(t, t.TempDir())
	cfg := e.config()
	cfg.Workers = 2
	cfg.MaxBatchRecords = 100
	cfg.Storage = &storageID
	hung, h1 := startHung(t, cfg, host, 3)
	require.Eventually(t, func() bool {
		return hung.count() >= 300 && h1.logs.FilterMessageSnippet("being read by another worker").Len() > 0
	}, waitFor, 5*time.Millisecond)
	require.NoError(t, h1.stop())
	st := s3srv.SQS().Stats("cloudtrail")
	assert.Equal(t, 2, st.Visible, "both messages given back at once: %+v", st)
	assert.Zero(t, st.Deleted, "no message deleted before its object is done")

	second := newSink()
	h2 := startReceiver(t, cfg, second, host)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 2 }, waitFor, 10*time.Millisecond)
	require.NoError(t, h2.stop())
	assert.Equal(t, 300, hung.count())
	assert.Zero(t, assertUnion(t, hung.sink, second, want))
	assert.Equal(t, 700, second.count())
}

// TestSQSAdversarialCrashWithWorkersInFlight: two messages are read in
// parallel; the collector crashes (cut off, its storage files copied as
// they are) after a few batches. The restarted collector loses nothing and
// sends again at most workers × max_batch_records records.
func TestSQSAdversarialCrashWithWorkersInFlight(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 5, 3, 1000, 29000)
	s3srv, queueURL, keys, want := e.s3srv, e.queueURL, e.keys, e.ids
	e.send(t, []string{trailSNS(keys[0], keys[2]), s3Notification(testBucket, keys[1])})
	c := newRestartCase(t, s3srv, queueURL, 7)
	require.Eventually(t, func() bool { return c.first.frozen.Load() }, waitFor, 5*time.Millisecond)
	c.proxy.kill()
	host, _ := copyStorage(t, c.dir)
	cfg := *c.cfg
	cfg.Endpoint = s3srv.URL
	second := newSink()
	h2 := startReceiver(t, &cfg, second, host)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 2 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, h2.stop())
	dups := assertUnion(t, c.first.sink, second, want)
	t.Logf("first delivered %d, second %d, duplicates %d", c.first.count(), second.count(), dups)
	assert.LessOrEqual(t, dups, c.cfg.Workers*c.cfg.MaxBatchRecords)
}

// TestSQSAdversarialPermanentConsumerError: downstream accepts two batches
// of an object, then rejects the rest permanently. Nothing is sent twice on
// the retries of the message (each resumes after the accepted records), and
// what was not delivered is not lost silently: error lines naming the
// object, the objects-failed counter, failed messages, and the message in
// the dead-letter queue.
func TestSQSAdversarialPermanentConsumerError(t *testing.T) {
	e := newSQSEnv(t, time.Second, 3, 1, 100, 30000)
	s3srv, keys, ids := e.s3srv, e.keys, e.ids
	e.send(t, []string{s3Notification(testBucket, keys[0])})
	cfg := e.config()
	cfg.SQS.GetOrInsertDefault().VisibilityTimeout = time.Second
	cfg.SQS.GetOrInsertDefault().MaxReceiveCount = 3
	cfg.MaxBatchRecords = 10
	sk := newSink()
	sk.fail = func(accepted int) error {
		if accepted >= 2 {
			return consumererror.NewPermanent(errors.New("rejected by the test"))
		}
		return nil
	}
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail-dlq").Visible == 1 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, ids[:20])
	assert.Positive(t, h.logs.FilterMessageSnippet("rejected records of a CloudTrail object permanently").Len())
	assert.NotEmpty(t, h.logsWith("key", keys[0]))
	assert.Positive(t, h.counter(t, "otelcol_receiver_awscloudtrail_objects_failed", "reason", reasonConsumer))
	assert.Equal(t, int64(3), h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "failed"))
}

// TestSQSAdversarialObjectFinishedAtStop: a graceful Shutdown whose drain
// runs out just as the last batch of the object is accepted. The object is
// done (marked so), but DeleteMessage is sent with the processing context
// that Shutdown has just cancelled: it fails, the message is neither
// deleted nor given back, comes back after the visibility timeout, and
// another collector (its own storage) reads the whole object again.
func TestSQSAdversarialObjectFinishedAtStop(t *testing.T) {
	const visibility = 2 * time.Second
	e := newSQSEnv(t, visibility, 5, 1, 100, 31000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	e.send(t, []string{s3Notification(testBucket, keys[0])})
	cfg := e.config()
	cfg.SQS.GetOrInsertDefault().VisibilityTimeout = visibility
	cfg.MaxBatchRecords = 10
	first := &lastBatchOutlivesStop{sink: newSink(), last: 9}
	h1 := startReceiver(t, cfg, first, nil)
	h1.rcv.drain = 200 * time.Millisecond
	require.Eventually(t, func() bool { return first.count() == 90 }, waitFor, 5*time.Millisecond)
	require.NoError(t, h1.stop())
	require.Equal(t, 100, first.count(), "the object was delivered in full")
	assert.Equal(t, 1, s3srv.SQS().Stats("cloudtrail").Deleted, "a message whose objects are done is deleted")
	assert.Zero(t, h1.logs.FilterMessageSnippet("DeleteMessage on").Len())

	other := newSink()
	h2 := startReceiver(t, cfg, other, nil)
	require.Eventually(t, func() bool {
		st := s3srv.SQS().Stats("cloudtrail")
		return st.Visible+st.InFlight == 0
	}, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, h2.stop())
	assert.Zero(t, assertUnion(t, first.sink, other, want), "no record delivered twice")
}

// TestSQSAdversarialGracefulRestartManyInFlight: four workers are each in
// the middle of an object (one message naming two objects, one naming
// another twice, a duplicate notification of the first) when downstream
// hangs and the collector is stopped; the restart on the same file storage
// delivers every record exactly once and deletes every message.
func TestSQSAdversarialGracefulRestartManyInFlight(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 5, 5, 500, 32000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	bodies := []string{
		trailSNS(keys[0], keys[1]),
		s3Records([2]string{"ObjectCreated:Put", keys[2]}, [2]string{"ObjectCreated:Put", keys[2]}),
		s3Notification(testBucket, keys[3]),
		eventBridge(testBucket, keys[0]),
		trailSNS(keys[4], keys[3]),
	}
	e.send(t, bodies)
	host, storageID := devstack.FileStorageHost(t, t.TempDir())
	cfg := e.config()
	cfg.Workers = 4
	cfg.MaxBatchRecords = 50
	cfg.Storage = &storageID
	hung, h1 := startHung(t, cfg, host, 9)
	require.Eventually(t, func() bool { return hung.count() >= 450 }, waitFor, 5*time.Millisecond)
	require.NoError(t, h1.stop())
	assert.Zero(t, s3srv.SQS().Stats("cloudtrail").Deleted)
	second := newSink()
	h2 := startReceiver(t, cfg, second, host)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == len(bodies) }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, h2.stop())
	assert.Equal(t, 450, hung.count())
	assert.Zero(t, assertUnion(t, hung.sink, second, want))
	assert.Equal(t, len(want)-450, second.count())
}

// TestSQSAdversarialConsumerRefusesThenAccepts: downstream refuses every
// other call (a transient error) while two workers read a message naming
// A and B and duplicates naming B and A: every record once, each object
// read once, every message deleted after one receive.
func TestSQSAdversarialConsumerRefusesThenAccepts(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 5, 2, 200, 34000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	bodies := []string{trailSNS(keys[0], keys[1]), s3Notification(testBucket, keys[1]), eventBridge(testBucket, keys[0])}
	e.send(t, bodies)
	cfg := e.config()
	cfg.Workers = 2
	cfg.MaxBatchRecords = 50
	sk := newSink()
	calls := 0
	sk.fail = func(int) error { // under the sink's lock
		calls++
		if calls%2 == 1 {
			return errors.New("downstream busy")
		}
		return nil
	}
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == len(bodies) }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, want)
	assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]))
	assert.Equal(t, 1, s3srv.Gets(testBucket, keys[1]))
	assert.Equal(t, devstack.QueueStats{Deleted: len(bodies), Received: len(bodies)}, s3srv.SQS().Stats("cloudtrail"))
	assert.Positive(t, h.logs.FilterMessageSnippet("Next consumer refused CloudTrail records; retrying").Len())
}
