package awscloudtrailreceiver

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

func TestSQSThreeReceivers(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 5, 500, 4, 1000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	var bodies []string
	for i, k := range keys {
		switch i % 10 {
		case 0:
			bodies = append(bodies, snsEnvelope(s3Notification(testBucket, k)))
		case 1:
			bodies = append(bodies, eventBridge(testBucket, k))
		case 2:
			bodies = append(bodies, snsEnvelope(fmt.Sprintf(`{"s3Bucket":%q,"s3ObjectKey":[%q]}`, testBucket, k)))
		default:
			bodies = append(bodies, s3Notification(testBucket, k))
		}
	}
	bodies = append(bodies, `{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"trail-bucket"}`,
		s3Notification(testBucket, "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/11/20/111111111111_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T100000Z.json.gz"),
		s3Notification(testBucket, "unrelated/report.csv"))
	e.send(t, bodies)

	sk := newSink()
	var hs []*harness
	// Each receiver's first batch waits until all three have one, so that
	// all three take part whatever the scheduling (the first started could
	// otherwise take every message before the others poll).
	var mu sync.Mutex
	started := map[int]bool{}
	allStarted := make(chan struct{})
	for i := range 3 {
		next := consumerFunc(func(ctx context.Context, ld plog.Logs) error {
			mu.Lock()
			if !started[i] {
				started[i] = true
				if len(started) == 3 {
					close(allStarted)
				}
			}
			mu.Unlock()
			select {
			case <-allStarted:
			case <-ctx.Done():
				return ctx.Err()
			}
			return sk.ConsumeLogs(ctx, ld)
		})
		hs = append(hs, startReceiver(t, e.config(), next, nil))
	}
	require.Eventually(t, func() bool {
		return sk.count() >= len(want) && s3srv.SQS().Stats("cloudtrail") == devstack.QueueStats{Deleted: len(bodies), Received: s3srv.SQS().Stats("cloudtrail").Received}
	},
		60*time.Second, 20*time.Millisecond)
	var perReceiver []int64
	for _, h := range hs {
		perReceiver = append(perReceiver, h.counter(t, "otelcol_receiver_awscloudtrail_records", "", ""))
		require.NoError(t, h.stop())
	}
	assertExactlyOnce(t, sk, want)
	st := s3srv.SQS().Stats("cloudtrail")
	assert.Equal(t, 0, st.Visible+st.InFlight, "every message deleted")
	assert.Equal(t, len(bodies), st.Deleted)
	for i, n := range perReceiver {
		assert.Positive(t, n, "receiver %d shared the work", i)
	}
	t.Logf("records per receiver: %v", perReceiver)
}

func (consumerFunc) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func TestSQSCollectorStoppedMidObject(t *testing.T) {
	t.Run("separate storage", func(t *testing.T) {
		// The other collector does not know what the stopped one delivered
		// (progress is per collector): those 300 records come twice.
		first, second, want := stopMidObject(t, 2000, nil, nil, "map")
		assert.Equal(t, 300, assertUnion(t, first, second, want))
		assert.Equal(t, len(want), second.count())
	})
	t.Run("restarted on its file storage", func(t *testing.T) {
		// The restarted collector skips the records delivered, whatever
		// its body mode.
		forBodyModes(t, func(t *testing.T, body string) {
			host, storageID := devstack.FileStorageHost(t, t.TempDir())
			first, second, want := stopMidObject(t, 3000, &storageID, host, body)
			assert.Zero(t, assertUnion(t, first, second, want))
			assert.Equal(t, 700, second.count())
		})
	})
	t.Run("shared storage backend", func(t *testing.T) {
		// Collectors sharing a storage backend (as db_storage on one
		// database) share the progress inside objects.
		shared := memstorage.NewShared(component.MustNewID("db_storage"))
		host, storageID := shared.Host(), shared.ID()
		first, second, want := stopMidObject(t, 4000, &storageID, host, "map")
		assert.Zero(t, assertUnion(t, first, second, want))
		assert.Equal(t, 700, second.count())
	})
}

func TestSQSGracefulStopFinishesObjects(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 5, 4, 2000, 4000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	bodies := notifications(keys)
	e.send(t, bodies)
	cfg := e.config()
	cfg.MaxBatchRecords = 50
	first := newSink()
	h1 := startReceiver(t, cfg, first, nil)
	// The objects in progress (2000 records each) must finish within the
	// drain: 15 s by default, which a loaded machine under the race
	// detector should not be asked to meet (a drain that runs out gives
	// the messages back and the other collector, with its own progress,
	// sends their records again).
	h1.rcv.drain = waitFor
	require.Eventually(t, func() bool { return first.count() >= 100 }, waitFor, 5*time.Millisecond)
	require.NoError(t, h1.stop()) // the objects being read are finished first
	second := newSink()
	h2 := startReceiver(t, cfg, second, nil)
	// Every message deleted: every object was read to the end and nothing
	// is in flight any more (no sleeping to let duplicates show).
	require.Eventually(t, func() bool {
		return s3srv.SQS().Stats("cloudtrail") == devstack.QueueStats{Deleted: len(keys), Received: s3srv.SQS().Stats("cloudtrail").Received}
	}, 60*time.Second, 10*time.Millisecond)
	require.NoError(t, h2.stop())
	assert.Zero(t, assertUnion(t, first, second, want))
}

func TestSQSPoisonMessagesEndInDeadLetterQueue(t *testing.T) {
	e := newSQSEnv(t, time.Second, 3, 3, 5, 5000)
	s3srv, qc, dlqURL, keys, want := e.s3srv, e.qc, e.dlqURL, e.keys, e.ids
	corruptKey := trailgen.Key("", "", "100000000000", "CloudTrail", "us-east-1", t0, "corrupt")
	corrupt := devstack.Gzip([]byte(`{"Records":[]}`))
	corrupt[10] = 0xff
	require.NoError(t, s3srv.Put(testBucket, corruptKey, corrupt))
	missingKey := trailgen.Key("", "", "100000000000", "CloudTrail", "us-east-1", t0, "missing")
	bodies := append([]string{s3Notification(testBucket, corruptKey), s3Notification(testBucket, missingKey), `this is not json`}, notifications(keys)...)
	e.send(t, bodies)

	cfg := e.config()
	cfg.SQS.GetOrInsertDefault().VisibilityTimeout = time.Second
	cfg.SQS.GetOrInsertDefault().MaxReceiveCount = 3
	sk := newSink()
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool {
		return s3srv.SQS().Stats("cloudtrail-dlq").Visible == 3 && s3srv.SQS().Stats("cloudtrail").Deleted == len(keys)
	}, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, want)
	st := s3srv.SQS().Stats("cloudtrail")
	assert.Equal(t, 0, st.Visible+st.InFlight)
	assert.Equal(t, len(keys), st.Deleted)
	dlq, err := qc.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10})
	require.NoError(t, err)
	var dead []string
	for _, m := range dlq.Messages {
		dead = append(dead, aws.ToString(m.Body))
	}
	assert.Contains(t, strings.Join(dead, "\n"), url.QueryEscape(corruptKey))
	assert.Contains(t, strings.Join(dead, "\n"), url.QueryEscape(missingKey))
	assert.Contains(t, dead, "this is not json")
	assert.Positive(t, h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "failed"))
	assert.Equal(t, int64(len(keys)), h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "deleted"))
}

func TestSQSHeartbeatKeepsMessageHidden(t *testing.T) {
	const visibility = 3 * time.Second
	e := newSQSEnv(t, visibility, 5, 1, 400, 6000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	e.send(t, []string{s3Notification(testBucket, keys[0])})
	cfg := e.config()
	cfg.SQS.GetOrInsertDefault().VisibilityTimeout = visibility
	cfg.MaxBatchRecords = 40
	// A slow downstream: the 10 batches of the object take about 3
	// visibility timeouts, so the message stays hidden only if the
	// heartbeat extends it.
	slow := newSink()
	slow.fail = func(int) error { time.Sleep(time.Second); return nil }
	h1 := startReceiver(t, cfg, slow, nil)
	// The second collector starts once the first one holds the message
	// (its first batch was accepted), so it can only get it if the
	// heartbeat fails.
	require.Eventually(t, func() bool { return slow.count() > 0 }, 30*time.Second, 10*time.Millisecond)
	other := newSink()
	h2 := startReceiver(t, cfg, other, nil)
	require.Eventually(t, func() bool { return slow.count()+other.count() >= len(want) }, 60*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 1 }, waitFor, 10*time.Millisecond)
	require.NoError(t, h1.stop())
	require.NoError(t, h2.stop())
	assert.Equal(t, 1, s3srv.SQS().Stats("cloudtrail").Received, "the heartbeat kept the message hidden from the other collector")
	assert.Zero(t, other.count())
	assert.Positive(t, s3srv.AWS().Calls("ChangeMessageVisibility"))
}

// TestSQSTrailsRestrictNotifications: with trails configured, only their
// objects are read; a notification naming another bucket or account is ignored.
func TestSQSTrailsRestrictNotifications(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 5, 5, 3, 9000) // accounts 100000000000 to 100000000004
	s3srv, keys, ids := e.s3srv, e.keys, e.ids
	require.NoError(t, s3srv.CreateBucket("other-bucket"))
	g := trailgen.New(9100, "100000000000", "us-east-1")
	otherKey := trailgen.Key("", "", "100000000000", "CloudTrail", "us-east-1", t0, "other")
	require.NoError(t, s3srv.Put("other-bucket", otherKey, trailgen.LogFile(genRecords(g, t0, 3), true)))
	bodies := notifications(keys)
	bodies = append(bodies, s3Notification("other-bucket", otherKey))
	e.send(t, bodies)

	cfg := e.config()
	cfg.Trails = []TrailConfig{{Bucket: testBucket, Accounts: []string{"100000000000", "100000000001"}}}
	sk := newSink()
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == len(bodies) }, waitFor, 10*time.Millisecond)
	require.NoError(t, h.stop())
	// Objects 0 and 1 (accounts …00 and …01) are the trail's: their 6 records.
	assertExactlyOnce(t, sk, ids[:6])
	assert.Zero(t, s3srv.Gets("other-bucket", otherKey))
	assert.NotEmpty(t, h.logsWith("bucket", "other-bucket"))
}
