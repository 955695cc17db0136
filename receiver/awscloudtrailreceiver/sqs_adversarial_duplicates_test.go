package awscloudtrailreceiver

// Adversarial tests of the SQS mode's delivery guarantees (issue #9):
// nothing lost, nothing sent twice, nothing deadlocked, state bounded.
// This file: duplicate notifications, claims, heartbeats and the state of
// objects; sqs_adversarial_stop_test.go: stops, crashes, consumer errors.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
)

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
	e, cfg := heartbeatGap(t, 21000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	// 10 batches of 600 ms: each object takes 6 s, two visibility timeouts.
	first := &slowSink{sink: newSink(), delay: 600 * time.Millisecond}
	h1 := startReceiver(t, cfg, first, nil)
	// The first collector took all 4 messages: 2 being read, 2 waiting.
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Received == 4 }, waitFor, 5*time.Millisecond)

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
			e := newSQSEnv(t, 30*time.Second, 5, 4, 300, 22000)
			s3srv, keys, want := e.s3srv, e.keys, e.ids
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
			e.send(t, bodies)
			cfg := e.config()
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
	e := newSQSEnv(t, 30*time.Second, 2, 3, 5, 23000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	gone := strings.Replace(keys[0], "q0", "gone", 1)
	body := s3Records(
		[2]string{"ObjectRemoved:Delete", gone},
		[2]string{"ObjectCreated:Put", keys[0]},
		[2]string{"LifecycleExpiration:Delete", keys[1]},
		[2]string{"ObjectCreated:CompleteMultipartUpload", keys[1]},
		[2]string{"ObjectRestore:Completed", keys[2]},
		[2]string{"ObjectCreated:Copy", keys[2]},
	)
	e.send(t, []string{body, snsEnvelope(body)})
	sk := newSink()
	h := startReceiver(t, e.config(), sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 2 }, waitFor, 10*time.Millisecond)
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
	e := newSQSEnv(t, time.Second, 3, 3, 50, 24000)
	s3srv, keys, ids := e.s3srv, e.keys, e.ids
	s3srv.FailGet(testBucket, keys[1], devstack.Fault{Status: 403, Code: "AccessDenied"})
	e.send(t, []string{trailSNS(keys...)})
	cfg := e.config()
	cfg.SQS.GetOrInsertDefault().VisibilityTimeout = time.Second
	cfg.SQS.GetOrInsertDefault().MaxReceiveCount = 3
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
	// The emulator's visibility timeout runs on the wall clock: the
	// heartbeat (every third of it) has two thirds of it to land, 2 s
	// here, which a loaded machine needs (with 1 s it had 0.67 s and
	// failed under load).
	const visibility = 3 * time.Second
	e := newSQSEnv(t, visibility, 5, 1, 200, 25000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	e.send(t, []string{s3Notification(testBucket, keys[0]), trailSNS(keys[0])})
	cfg := e.config()
	cfg.SQS.GetOrInsertDefault().VisibilityTimeout = visibility
	cfg.Workers = 2
	cfg.MaxBatchRecords = 20
	sk := &slowSink{sink: newSink(), delay: 900 * time.Millisecond} // 9 s: 3 visibility timeouts
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 2 }, waitFor, 10*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk.sink, want)
	assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]))
	assert.Equal(t, 2, s3srv.SQS().Stats("cloudtrail").Received, "the waiting message was kept hidden")
	assert.Positive(t, h.logs.FilterMessageSnippet("being read by another worker").Len(), "the duplicate really waited")
}

// TestSQSAdversarialAbandonedProgressIsNeverExpired: a collector reading an
// object is stopped mid-object and another collector (its own storage)
// takes the message over and finishes it — the normal scale-out hand-over.
// The first collector's storage keeps the object's progress ("300") for
// ever: progress keys are not in the done-marker index, so ExpireDone never
// removes them, whatever the window. The README promises that storage holds
// only the markers of objects finished within done_window.
func TestSQSAdversarialAbandonedProgressIsNeverExpired(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 5, 1, 1000, 27000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	e.send(t, []string{s3Notification(testBucket, keys[0])})
	shared := memstorage.NewShared(component.MustNewID("db_storage"))
	host, storageID := shared.Host(), shared.ID()
	cfg := e.config()
	cfg.MaxBatchRecords = 100
	cfg.SQS.GetOrInsertDefault().DoneWindow = time.Second
	cfg1 := *cfg
	cfg1.Storage = &storageID
	hung, h1 := startHung(t, &cfg1, host, 3)
	require.Eventually(t, func() bool { return hung.count() >= 300 }, waitFor, 10*time.Millisecond)
	require.NoError(t, h1.stop())
	// Another collector, with its own storage, finishes the object.
	other := newSink()
	h2 := startReceiver(t, cfg, other, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 1 }, waitFor, 10*time.Millisecond)
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
	// The heartbeat ticks every third of the visibility timeout and tries
	// a failed extension again half a tick later: with 4 s the retry lands
	// 2 s before the message would become visible (with 2 s, 1 s: too
	// little on a loaded machine, where the test failed).
	const visibility = 4 * time.Second
	e := newSQSEnv(t, visibility, 5, 1, 200, 28000)
	s3srv, queueURL, keys, want := e.s3srv, e.queueURL, e.keys, e.ids
	e.send(t, []string{s3Notification(testBucket, keys[0])})
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
	cfg.SQS.GetOrInsertDefault().VisibilityTimeout = visibility
	cfg.MaxBatchRecords = 20
	first := &slowSink{sink: newSink(), delay: 800 * time.Millisecond} // 8 s: two visibility timeouts
	h1 := startReceiver(t, cfg, first, nil)
	require.Eventually(t, func() bool { return first.count() > 0 }, waitFor, 5*time.Millisecond)
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

// TestSQSAdversarialRedeliveredCopyInOneCollector: the single-collector
// face of TestSQSAdversarialBatchWaitsWithoutHeartbeat. The message that
// waited without heartbeat becomes visible, and the same collector receives
// it a second time while its first copy (stale receipt handle) is handed to
// a worker: the two copies of one message are processed at the same time.
// The claims keep the object from being read twice; but the message was
// received again although the collector held it all along, and the stale
// copy's DeleteMessage fails with an error line.
func TestSQSAdversarialRedeliveredCopyInOneCollector(t *testing.T) {
	e, cfg := heartbeatGap(t, 33000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	sk := &slowSink{sink: newSink(), delay: 600 * time.Millisecond}
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

// heartbeatGap is the setup of the tests of a message that waits in a
// batch without heartbeat: 4 objects of 200 records announced one message
// each on a queue with a 3 s visibility timeout, and a configuration of 2
// workers and batches of 20 records.
func heartbeatGap(t *testing.T, seed uint64) (*sqsEnv, *Config) {
	// 3 s: the heartbeat (every second) has 2 s to land on a loaded machine.
	const visibility = 3 * time.Second
	e := newSQSEnv(t, visibility, 5, 4, 200, seed)
	e.send(t, notifications(e.keys))
	cfg := e.config()
	cfg.SQS.GetOrInsertDefault().VisibilityTimeout = visibility
	cfg.Workers = 2
	cfg.MaxBatchRecords = 20
	return e, cfg
}
