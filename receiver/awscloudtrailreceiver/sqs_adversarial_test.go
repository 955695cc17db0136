package awscloudtrailreceiver

// Adversarial tests of the SQS mode's delivery guarantees (issue #9):
// nothing lost, nothing sent twice, nothing deadlocked, state bounded.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
)

// slowSink accepts every batch after a delay (outside the sink's lock, so
// that workers are slowed down in parallel, not serialized).
type slowSink struct {
	*sink
	delay time.Duration
}

func (s *slowSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.delay):
	}
	return s.sink.ConsumeLogs(ctx, ld)
}

// s3Records is one S3 event notification holding several records, each an
// (eventName, key) pair of testBucket.
func s3Records(events ...[2]string) string {
	var recs []any
	for _, e := range events {
		recs = append(recs, map[string]any{
			"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": e[0], "awsRegion": "us-east-1",
			"s3": map[string]any{"bucket": map[string]any{"name": testBucket}, "object": map[string]any{"key": url.QueryEscape(e[1])}},
		})
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return string(b)
}

// trailSNS is the trail's own SNS notification naming keys, in an SNS envelope.
func trailSNS(keys ...string) string {
	b, _ := json.Marshal(map[string]any{"s3Bucket": testBucket, "s3ObjectKey": keys})
	return snsEnvelope(string(b))
}

// handled is how many received messages a collector finished with (deleted,
// failed, or whose DeleteMessage failed).
func (h *harness) handled(t testing.TB) int64 {
	return h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "deleted") +
		h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "failed") +
		int64(h.logs.FilterMessageSnippet("DeleteMessage on").Len())
}

// TestSQSAdversarialBatchWaitsWithoutHeartbeat: with workers=2 a collector
// receives a second batch of 2 messages while both workers are busy. The
// first message of that batch gets its heartbeat and waits for a worker;
// the second has no heartbeat yet (the receive loop starts it only after
// handing the first over), so its visibility timeout runs out while it
// waits in the collector. Another collector then receives it and reads its
// object, and the first collector reads it again later with its stale
// receipt handle. The README promises that a received message stays hidden
// (heartbeat) while a collector holds it and that only a failed delete or a
// crash sends a message's objects to two collectors.
func TestSQSAdversarialBatchWaitsWithoutHeartbeat(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	const visibility = 2 * time.Second
	queueURL, _ := createQueue(t, qc, "cloudtrail", visibility, 5)
	keys, want := putObjects(t, s3srv, 4, 200, 21000)
	var bodies []string
	for _, k := range keys {
		bodies = append(bodies, s3Notification(testBucket, k))
	}
	sendMessages(t, qc, queueURL, bodies)

	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.VisibilityTimeout = visibility
	cfg.Workers = 2
	cfg.MaxBatchRecords = 20
	// 10 batches of 400 ms: each object takes 4 s, two visibility timeouts.
	first := &slowSink{sink: newSink(), delay: 400 * time.Millisecond}
	h1 := startReceiver(t, cfg, first, nil)
	// The first collector took all 4 messages: 2 being read, 2 waiting.
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Received == 4 }, 20*time.Second, 5*time.Millisecond)

	// A second collector (its own storage) may only get a message whose
	// visibility was not kept.
	other := newSink()
	h2 := startReceiver(t, cfg, other, nil)
	require.Eventually(t, func() bool {
		st := s3srv.SQS().Stats("cloudtrail")
		return st.Visible+st.InFlight == 0 && h1.handled(t) >= h1.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "received")
	}, 60*time.Second, 10*time.Millisecond)
	require.NoError(t, h1.stop())
	require.NoError(t, h2.stop())
	dups := assertUnion(t, first.sink, other, want)
	st := s3srv.SQS().Stats("cloudtrail")
	t.Logf("queue %+v; second collector read %d records; GETs %d %d %d %d; duplicates %d", st, other.count(),
		s3srv.Gets(testBucket, keys[0]), s3srv.Gets(testBucket, keys[1]), s3srv.Gets(testBucket, keys[2]), s3srv.Gets(testBucket, keys[3]), dups)
	assert.Zero(t, dups, "no record delivered twice")
	assert.Equal(t, 4, st.Received, "no message became visible while a collector held it")
	for _, k := range keys {
		assert.Equal(t, 1, s3srv.Gets(testBucket, k), k)
	}
}

// TestSQSAdversarialDuplicateNamesInOneBatch: every way one object can be
// named twice, received in the same ReceiveMessage batch by 4 workers: two
// trail SNS messages naming A,B and B,A (crossed claims), one S3 event with
// C twice in its Records, the trail SNS naming D twice, EventBridge and S3
// events naming A and C again. Each object is read once, no deadlock, every
// message deleted after one receive.
func TestSQSAdversarialDuplicateNamesInOneBatch(t *testing.T) {
	for _, workers := range []int{2, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			s3srv := startS3(t)
			qc := queueClient(s3srv.URL)
			queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
			keys, want := putObjects(t, s3srv, 4, 300, 22000)
			a, b, c, d := keys[0], keys[1], keys[2], keys[3]
			bodies := []string{
				trailSNS(a, b),
				trailSNS(b, a),
				s3Records([2]string{"ObjectCreated:Put", c}, [2]string{"ObjectCreated:Put", c}),
				trailSNS(d, d),
				eventBridge(testBucket, a),
				s3Notification(testBucket, c),
				trailSNS(d, c, b, a),
			}
			sendMessages(t, qc, queueURL, bodies)
			cfg := sqsConfig(s3srv.URL, queueURL)
			cfg.Workers = workers
			cfg.MaxBatchRecords = 30
			sk := &slowSink{sink: newSink(), delay: 20 * time.Millisecond}
			h := startReceiver(t, cfg, sk, nil)
			require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == len(bodies) }, 30*time.Second, 10*time.Millisecond)
			require.NoError(t, h.stop())
			assertExactlyOnce(t, sk.sink, want)
			for _, k := range keys {
				assert.Equal(t, 1, s3srv.Gets(testBucket, k), k)
			}
			assert.Equal(t, devstack.QueueStats{Deleted: len(bodies), Received: len(bodies)}, s3srv.SQS().Stats("cloudtrail"))
		})
	}
}

// TestSQSAdversarialMixedCreatedAndRemoved: one S3 event notification whose
// Records mix removals, lifecycle events and creations: the created objects
// are read, the others ignored, the message deleted once.
func TestSQSAdversarialMixedCreatedAndRemoved(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 2)
	keys, want := putObjects(t, s3srv, 3, 5, 23000)
	gone := strings.Replace(keys[0], "q0", "gone", 1)
	body := s3Records(
		[2]string{"ObjectRemoved:Delete", gone},
		[2]string{"ObjectCreated:Put", keys[0]},
		[2]string{"LifecycleExpiration:Delete", keys[1]},
		[2]string{"ObjectCreated:CompleteMultipartUpload", keys[1]},
		[2]string{"ObjectRestore:Completed", keys[2]},
		[2]string{"ObjectCreated:Copy", keys[2]},
	)
	sendMessages(t, qc, queueURL, []string{body, snsEnvelope(body)})
	sk := newSink()
	h := startReceiver(t, sqsConfig(s3srv.URL, queueURL), sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 2 }, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, want)
	assert.Zero(t, s3srv.Gets(testBucket, gone))
	assert.Equal(t, devstack.QueueStats{Deleted: 2, Received: 2}, s3srv.SQS().Stats("cloudtrail"))
	assert.Equal(t, devstack.QueueStats{}, s3srv.SQS().Stats("cloudtrail-dlq"))
}

// TestSQSAdversarialAccessDeniedInMultiObjectMessage: a trail SNS message
// names A, B and C; GetObject of B is always denied. A and C are read once
// (not again on each retry of the message); the message is retried and ends
// in the dead-letter queue with an error line naming B, the objects-failed
// counter and the failed-messages counter.
func TestSQSAdversarialAccessDeniedInMultiObjectMessage(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", time.Second, 3)
	keys, ids := putObjects(t, s3srv, 3, 50, 24000)
	s3srv.FailGet(testBucket, keys[1], devstack.Fault{Status: 403, Code: "AccessDenied"})
	sendMessages(t, qc, queueURL, []string{trailSNS(keys...)})
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.VisibilityTimeout = time.Second
	cfg.SQS.MaxReceiveCount = 3
	sk := newSink()
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail-dlq").Visible == 1 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, append(append([]string{}, ids[:50]...), ids[100:]...))
	assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]))
	assert.Equal(t, 1, s3srv.Gets(testBucket, keys[2]))
	assert.Equal(t, 3, s3srv.Gets(testBucket, keys[1]), "B tried once per receive")
	assert.NotEmpty(t, h.logsWith("key", keys[1]))
	assert.Positive(t, h.logs.FilterMessageSnippet("GetObject on s3://"+testBucket+"/"+keys[1]+" was denied").Len())
	assert.Equal(t, int64(3), h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "failed"))
	assert.Zero(t, h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "deleted"))
	assert.Equal(t, int64(3), h.counter(t, "otelcol_receiver_awscloudtrail_objects_failed", "reason", reasonAccessDenied))
}

// TestSQSAdversarialWaitingDuplicateStaysHidden: a duplicate notification
// waits on the claim of an object another worker reads for several
// visibility timeouts; its heartbeat must keep it hidden (no second receive
// of it, no second GET), and both messages are deleted.
func TestSQSAdversarialWaitingDuplicateStaysHidden(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	const visibility = time.Second
	queueURL, _ := createQueue(t, qc, "cloudtrail", visibility, 5)
	keys, want := putObjects(t, s3srv, 1, 200, 25000)
	sendMessages(t, qc, queueURL, []string{s3Notification(testBucket, keys[0]), trailSNS(keys[0])})
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.VisibilityTimeout = visibility
	cfg.Workers = 2
	cfg.MaxBatchRecords = 20
	sk := &slowSink{sink: newSink(), delay: 300 * time.Millisecond} // 3 s: 3 visibility timeouts
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 2 }, 30*time.Second, 10*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk.sink, want)
	assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]))
	assert.Equal(t, 2, s3srv.SQS().Stats("cloudtrail").Received, "the waiting message was kept hidden")
	assert.Positive(t, h.logs.FilterMessageSnippet("being read by another worker").Len(), "the duplicate really waited")
}

// TestSQSAdversarialStopWhileWaitingOnClaim: a worker reads A (1000
// records) and hangs downstream after 300; a duplicate notification of A
// waits on its claim. Shutdown; a restart on the same file storage finishes
// A exactly once and deletes both messages.
func TestSQSAdversarialStopWhileWaitingOnClaim(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	keys, want := putObjects(t, s3srv, 1, 1000, 26000)
	sendMessages(t, qc, queueURL, []string{s3Notification(testBucket, keys[0]), trailSNS(keys[0])})
	host, storageID := devstack.FileStorageHost(t, t.TempDir())
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Workers = 2
	cfg.MaxBatchRecords = 100
	cfg.Storage = &storageID
	hung := &blockingSink{sink: newSink(), limit: 3}
	h1 := startReceiver(t, cfg, hung, host)
	h1.rcv.drain = 200 * time.Millisecond
	require.Eventually(t, func() bool {
		return hung.count() >= 300 && h1.logs.FilterMessageSnippet("being read by another worker").Len() > 0
	}, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, h1.stop())
	st := s3srv.SQS().Stats("cloudtrail")
	assert.Equal(t, 2, st.Visible, "both messages given back at once: %+v", st)
	assert.Zero(t, st.Deleted, "no message deleted before its object is done")

	second := newSink()
	h2 := startReceiver(t, cfg, second, host)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 2 }, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, h2.stop())
	assert.Equal(t, 300, hung.count())
	assert.Zero(t, assertUnion(t, hung.sink, second, want))
	assert.Equal(t, 700, second.count())
}

// TestSQSAdversarialAbandonedProgressIsNeverExpired: a collector reading an
// object is stopped mid-object and another collector (its own storage)
// takes the message over and finishes it — the normal scale-out hand-over.
// The first collector's storage keeps the object's progress ("300") for
// ever: progress keys are not in the done-marker index, so ExpireDone never
// removes them, whatever the window. The README promises that storage holds
// only the markers of objects finished within done_window.
func TestSQSAdversarialAbandonedProgressIsNeverExpired(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	keys, want := putObjects(t, s3srv, 1, 1000, 27000)
	sendMessages(t, qc, queueURL, []string{s3Notification(testBucket, keys[0])})
	shared := memstorage.NewShared(component.MustNewID("db_storage"))
	host, storageID := shared.Host(), shared.ID()
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.MaxBatchRecords = 100
	cfg.SQS.DoneWindow = time.Second
	cfg1 := *cfg
	cfg1.Storage = &storageID
	hung := &blockingSink{sink: newSink(), limit: 3}
	h1 := startReceiver(t, &cfg1, hung, host)
	h1.rcv.drain = 200 * time.Millisecond
	require.Eventually(t, func() bool { return hung.count() >= 300 }, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, h1.stop())
	// Another collector, with its own storage, finishes the object.
	other := newSink()
	h2 := startReceiver(t, cfg, other, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 1 }, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, h2.stop())
	assertUnion(t, hung.sink, other, want)

	// Expire everything finished before a year from now: nothing about any
	// object may be left.
	st := checkpoint.NewStore(shared.Client(""))
	require.NoError(t, st.ExpireDone(context.Background(), time.Now().Add(365*24*time.Hour)))
	var left []string
	for k, v := range shared.Data() {
		if strings.HasPrefix(k, "object/") {
			left = append(left, k+"="+string(v))
		}
	}
	assert.Empty(t, left, "state about objects outlives every window")
}

// TestSQSAdversarialOneMissedHeartbeat: a single ChangeMessageVisibility of
// the heartbeat fails (a network blip the SDK did not retry). The heartbeat
// extends the visibility every visibility_timeout/2 to visibility_timeout,
// so the next tick comes exactly when the message becomes visible: one
// missed extension is enough for another collector to receive the message
// and read the object again, although the first is still reading it.
func TestSQSAdversarialOneMissedHeartbeat(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	const visibility = 2 * time.Second
	queueURL, _ := createQueue(t, qc, "cloudtrail", visibility, 5)
	keys, want := putObjects(t, s3srv, 1, 200, 28000)
	sendMessages(t, qc, queueURL, []string{s3Notification(testBucket, keys[0])})
	proxy := newFaultProxy(t, s3srv.URL)
	proxy.mu.Lock()
	proxy.failOp["ChangeMessageVisibility"] = true
	proxy.onFail = func(op string) { // only the first heartbeat fails
		if op == "ChangeMessageVisibility" {
			proxy.mu.Lock()
			proxy.failOp["ChangeMessageVisibility"] = false
			proxy.mu.Unlock()
		}
	}
	proxy.mu.Unlock()
	cfg := sqsConfig(proxy.URL, queueURL)
	cfg.SQS.VisibilityTimeout = visibility
	cfg.MaxBatchRecords = 20
	first := &slowSink{sink: newSink(), delay: 400 * time.Millisecond} // 4 s: two visibility timeouts
	h1 := startReceiver(t, cfg, first, nil)
	require.Eventually(t, func() bool { return first.count() > 0 }, 20*time.Second, 5*time.Millisecond)
	// The first collector receives nothing more, so that it cannot win the
	// message back itself (its second copy would wait on the claim): only
	// the other collector polls the queue.
	proxy.fail("ReceiveMessage")
	cfg2 := *cfg
	cfg2.Endpoint = s3srv.URL
	other := newSink()
	h2 := startReceiver(t, &cfg2, other, nil)
	require.Eventually(t, func() bool {
		st := s3srv.SQS().Stats("cloudtrail")
		return st.Visible+st.InFlight == 0 && h1.handled(t) >= 1
	}, 60*time.Second, 10*time.Millisecond)
	require.NoError(t, h1.stop())
	require.NoError(t, h2.stop())
	assert.Equal(t, 1, proxy.failures("ChangeMessageVisibility"))
	assert.Zero(t, assertUnion(t, first.sink, other, want), "no record delivered twice after one failed heartbeat")
	assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]))
}

// TestSQSAdversarialCrashWithWorkersInFlight: two messages are read in
// parallel; the collector crashes (cut off, its storage files copied as
// they are) after a few batches. The restarted collector loses nothing and
// sends again at most workers × max_batch_records records.
func TestSQSAdversarialCrashWithWorkersInFlight(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	keys, want := putObjects(t, s3srv, 3, 1000, 29000)
	sendMessages(t, qc, queueURL, []string{trailSNS(keys[0], keys[2]), s3Notification(testBucket, keys[1])})
	c := newRestartCase(t, s3srv, queueURL, 7)
	require.Eventually(t, func() bool { return c.first.frozen.Load() }, 20*time.Second, 5*time.Millisecond)
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
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", time.Second, 3)
	keys, ids := putObjects(t, s3srv, 1, 100, 30000)
	sendMessages(t, qc, queueURL, []string{s3Notification(testBucket, keys[0])})
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.VisibilityTimeout = time.Second
	cfg.SQS.MaxReceiveCount = 3
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

// lastBatchOutlivesStop accepts every batch; the one of index last waits
// until the receiver's context ends (Shutdown's drain ran out) and is then
// accepted all the same (it had reached the exporter's queue): the object
// is finished exactly as the collector stops processing.
type lastBatchOutlivesStop struct {
	*sink
	last int
	mu   sync.Mutex
	n    int
}

func (s *lastBatchOutlivesStop) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	s.mu.Lock()
	i := s.n
	s.n++
	s.mu.Unlock()
	if i == s.last {
		<-ctx.Done()
	}
	return s.sink.ConsumeLogs(context.Background(), ld)
}

// TestSQSAdversarialObjectFinishedAtStop: a graceful Shutdown whose drain
// runs out just as the last batch of the object is accepted. The object is
// done (marked so), but DeleteMessage is sent with the processing context
// that Shutdown has just cancelled: it fails, the message is neither
// deleted nor given back, comes back after the visibility timeout, and
// another collector (its own storage) reads the whole object again.
func TestSQSAdversarialObjectFinishedAtStop(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	const visibility = 2 * time.Second
	queueURL, _ := createQueue(t, qc, "cloudtrail", visibility, 5)
	keys, want := putObjects(t, s3srv, 1, 100, 31000)
	sendMessages(t, qc, queueURL, []string{s3Notification(testBucket, keys[0])})
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.VisibilityTimeout = visibility
	cfg.MaxBatchRecords = 10
	first := &lastBatchOutlivesStop{sink: newSink(), last: 9}
	h1 := startReceiver(t, cfg, first, nil)
	h1.rcv.drain = 200 * time.Millisecond
	require.Eventually(t, func() bool { return first.count() == 90 }, 20*time.Second, 5*time.Millisecond)
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
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	keys, want := putObjects(t, s3srv, 5, 500, 32000)
	bodies := []string{
		trailSNS(keys[0], keys[1]),
		s3Records([2]string{"ObjectCreated:Put", keys[2]}, [2]string{"ObjectCreated:Put", keys[2]}),
		s3Notification(testBucket, keys[3]),
		eventBridge(testBucket, keys[0]),
		trailSNS(keys[4], keys[3]),
	}
	sendMessages(t, qc, queueURL, bodies)
	host, storageID := devstack.FileStorageHost(t, t.TempDir())
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Workers = 4
	cfg.MaxBatchRecords = 50
	cfg.Storage = &storageID
	hung := &blockingSink{sink: newSink(), limit: 9}
	h1 := startReceiver(t, cfg, hung, host)
	h1.rcv.drain = 200 * time.Millisecond
	require.Eventually(t, func() bool { return hung.count() >= 450 }, 20*time.Second, 5*time.Millisecond)
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

// TestSQSAdversarialRedeliveredCopyInOneCollector: the single-collector
// face of TestSQSAdversarialBatchWaitsWithoutHeartbeat. The message that
// waited without heartbeat becomes visible, and the same collector receives
// it a second time while its first copy (stale receipt handle) is handed to
// a worker: the two copies of one message are processed at the same time.
// The claims keep the object from being read twice; but the message was
// received again although the collector held it all along, and the stale
// copy's DeleteMessage fails with an error line.
func TestSQSAdversarialRedeliveredCopyInOneCollector(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	const visibility = 2 * time.Second
	queueURL, _ := createQueue(t, qc, "cloudtrail", visibility, 5)
	keys, want := putObjects(t, s3srv, 4, 200, 33000)
	var bodies []string
	for _, k := range keys {
		bodies = append(bodies, s3Notification(testBucket, k))
	}
	sendMessages(t, qc, queueURL, bodies)
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.VisibilityTimeout = visibility
	cfg.Workers = 2
	cfg.MaxBatchRecords = 20
	sk := &slowSink{sink: newSink(), delay: 400 * time.Millisecond}
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool {
		st := s3srv.SQS().Stats("cloudtrail")
		return st.Visible+st.InFlight == 0 && h.handled(t) >= h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "received")
	}, 60*time.Second, 10*time.Millisecond)
	require.NoError(t, h.stop())
	// Safety holds within one collector.
	assertExactlyOnce(t, sk.sink, want)
	for _, k := range keys {
		assert.Equal(t, 1, s3srv.Gets(testBucket, k), k)
	}
	// The heartbeat promise does not.
	assert.Equal(t, 4, s3srv.SQS().Stats("cloudtrail").Received, "a message the collector held was received again")
	assert.Zero(t, h.logs.FilterMessageSnippet("DeleteMessage on").Len())
}

// TestSQSAdversarialConsumerRefusesThenAccepts: downstream refuses every
// other call (a transient error) while two workers read a message naming
// A and B and duplicates naming B and A: every record once, each object
// read once, every message deleted after one receive.
func TestSQSAdversarialConsumerRefusesThenAccepts(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	keys, want := putObjects(t, s3srv, 2, 200, 34000)
	bodies := []string{trailSNS(keys[0], keys[1]), s3Notification(testBucket, keys[1]), eventBridge(testBucket, keys[0])}
	sendMessages(t, qc, queueURL, bodies)
	cfg := sqsConfig(s3srv.URL, queueURL)
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
