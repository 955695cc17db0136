package awscloudtrailreceiver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// queueClient is the real SDK client the tests send notifications with.
func queueClient(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
}

// createQueue creates a queue with a dead-letter queue after maxReceive receives.
func createQueue(t testing.TB, c *sqs.Client, name string, visibility time.Duration, maxReceive int) (queueURL, dlqURL string) {
	t.Helper()
	ctx := context.Background()
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	require.NoError(t, err)
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:" + name + "-dlq", "maxReceiveCount": fmt.Sprint(maxReceive)})
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": fmt.Sprint(int(visibility.Seconds())), "RedrivePolicy": string(redrive),
	}})
	require.NoError(t, err)
	return aws.ToString(q.QueueUrl), aws.ToString(dlq.QueueUrl)
}

func sendMessages(t testing.TB, c *sqs.Client, queueURL string, bodies []string) {
	t.Helper()
	for len(bodies) > 0 {
		n := min(10, len(bodies))
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i, b := range bodies[:n] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(b)})
		}
		_, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		require.NoError(t, err)
		bodies = bodies[n:]
	}
}

func s3Notification(bucket, key string) string {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "us-east-1",
		"s3": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": url.QueryEscape(key), "size": 1}},
	}}})
	return string(b)
}

func snsEnvelope(inner string) string {
	b, _ := json.Marshal(map[string]any{"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": inner})
	return string(b)
}

func eventBridge(bucket, key string) string {
	b, _ := json.Marshal(map[string]any{"version": "0", "detail-type": "Object Created", "source": "aws.s3",
		"detail": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": key}}})
	return string(b)
}

// putObjects stores n files of per records each and returns their keys and eventIDs.
func putObjects(t testing.TB, s3srv *devstack.S3Server, n, per int, seed uint64) (keys, ids []string) {
	t.Helper()
	for i := 0; i < n; i++ {
		acct := fmt.Sprintf("%012d", 100000000000+i%5)
		g := trailgen.New(seed+uint64(i), acct, "us-east-1")
		at := t0.Add(time.Duration(i) * time.Minute)
		key := trailgen.Key("", "", acct, "CloudTrail", "us-east-1", at, fmt.Sprintf("q%d", i))
		recs := genRecords(g, at, per)
		require.NoError(t, s3srv.Put(testBucket, key, trailgen.LogFile(recs, true)))
		keys = append(keys, key)
		for _, r := range recs {
			ids = append(ids, r["eventID"].(string))
		}
	}
	return keys, ids
}

func sqsConfig(endpoint, queueURL string) *Config {
	cfg := testConfig(endpoint)
	cfg.Trails = nil
	cfg.SQS.QueueURL = queueURL
	cfg.SQS.WaitTime = time.Second
	cfg.SQS.VisibilityTimeout = 30 * time.Second
	return cfg
}

func TestSQSThreeReceivers(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	keys, want := putObjects(t, s3srv, 500, 4, 1000)
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
	sendMessages(t, qc, queueURL, bodies)

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
		hs = append(hs, startReceiver(t, sqsConfig(s3srv.URL, queueURL), next, nil))
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

// consumerFunc is a logs consumer made of a function.
type consumerFunc func(context.Context, plog.Logs) error

func (f consumerFunc) ConsumeLogs(ctx context.Context, ld plog.Logs) error { return f(ctx, ld) }

func (consumerFunc) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// blockingSink accepts batches until its limit, then blocks until the
// receiver gives up (a collector hung downstream, then stopped).
type blockingSink struct {
	*sink
	limit int
	mu    sync.Mutex
	n     int
}

func (b *blockingSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	b.mu.Lock()
	b.n++
	blocked := b.n > b.limit
	b.mu.Unlock()
	if blocked {
		<-ctx.Done()
		return ctx.Err()
	}
	return b.sink.ConsumeLogs(ctx, ld)
}

// stopMidObject announces one object of 1000 records; a first collector
// delivers 300 of them, hangs, and is stopped; a second one, with the same
// configuration and storage, takes the message over. It returns what each
// delivered and the object's eventIDs.
func stopMidObject(t *testing.T, seed uint64, storageID *component.ID, host component.Host, body string) (first, second *sink, want []string) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	keys, want := putObjects(t, s3srv, 1, 1000, seed)
	sendMessages(t, qc, queueURL, []string{s3Notification(testBucket, keys[0])})
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.MaxBatchRecords = 100
	cfg.Storage = storageID
	cfg.Body = body

	hung := &blockingSink{sink: newSink(), limit: 3}
	h1 := startReceiver(t, cfg, hung, host)
	h1.rcv.drain = 200 * time.Millisecond
	require.Eventually(t, func() bool { return hung.count() >= 300 }, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, h1.stop())

	// Its message comes back at once and the other collector finishes the object.
	second = newSink()
	h2 := startReceiver(t, cfg, second, host)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 1 }, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, h2.stop())
	require.Equal(t, 300, hung.count())
	return hung.sink, second, want
}

// assertUnion checks that two collectors together delivered want, and
// returns how many records they delivered twice.
func assertUnion(t *testing.T, a, b *sink, want []string) (duplicates int) {
	union := a.ids()
	for id, n := range b.ids() {
		union[id] += n
	}
	assert.Len(t, union, len(want), "nothing lost")
	for _, id := range want {
		require.GreaterOrEqual(t, union[id], 1, id)
		duplicates += union[id] - 1
	}
	return duplicates
}

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
		storageID := component.MustNewID("db_storage")
		host := &extHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{storageID: &sharedStorage{data: map[string][]byte{}}}}
		first, second, want := stopMidObject(t, 4000, &storageID, host, "map")
		assert.Zero(t, assertUnion(t, first, second, want))
		assert.Equal(t, 700, second.count())
	})
}

func TestSQSGracefulStopFinishesObjects(t *testing.T) {
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	keys, want := putObjects(t, s3srv, 4, 2000, 4000)
	var bodies []string
	for _, k := range keys {
		bodies = append(bodies, s3Notification(testBucket, k))
	}
	sendMessages(t, qc, queueURL, bodies)
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.MaxBatchRecords = 50
	first := newSink()
	h1 := startReceiver(t, cfg, first, nil)
	require.Eventually(t, func() bool { return first.count() >= 100 }, 20*time.Second, 5*time.Millisecond)
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
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	queueURL, dlqURL := createQueue(t, qc, "cloudtrail", time.Second, 3)
	keys, want := putObjects(t, s3srv, 3, 5, 5000)
	corruptKey := trailgen.Key("", "", "100000000000", "CloudTrail", "us-east-1", t0, "corrupt")
	corrupt := devstack.Gzip([]byte(`{"Records":[]}`))
	corrupt[10] = 0xff
	require.NoError(t, s3srv.Put(testBucket, corruptKey, corrupt))
	missingKey := trailgen.Key("", "", "100000000000", "CloudTrail", "us-east-1", t0, "missing")
	bodies := []string{s3Notification(testBucket, corruptKey), s3Notification(testBucket, missingKey), `this is not json`}
	for _, k := range keys {
		bodies = append(bodies, s3Notification(testBucket, k))
	}
	sendMessages(t, qc, queueURL, bodies)

	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.VisibilityTimeout = time.Second
	cfg.SQS.MaxReceiveCount = 3
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
	s3srv := startS3(t)
	qc := queueClient(s3srv.URL)
	const visibility = 3 * time.Second
	queueURL, _ := createQueue(t, qc, "cloudtrail", visibility, 5)
	keys, want := putObjects(t, s3srv, 1, 400, 6000)
	sendMessages(t, qc, queueURL, []string{s3Notification(testBucket, keys[0])})
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.VisibilityTimeout = visibility
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
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 1 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, h1.stop())
	require.NoError(t, h2.stop())
	assert.Equal(t, 1, s3srv.SQS().Stats("cloudtrail").Received, "the heartbeat kept the message hidden from the other collector")
	assert.Zero(t, other.count())
	assert.Positive(t, s3srv.AWS().Calls("ChangeMessageVisibility"))
}

// sharedStorage is a storage extension whose clients all see one key
// space, as collectors do that share a storage backend (contrib's
// db_storage on one database).
type sharedStorage struct {
	component.StartFunc
	component.ShutdownFunc
	mu   sync.Mutex
	data map[string][]byte
}

func (s *sharedStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return sharedClient{s}, nil
}

type sharedClient struct{ s *sharedStorage }

func (c sharedClient) Get(_ context.Context, key string) ([]byte, error) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.data[key], nil
}

func (c sharedClient) Set(_ context.Context, key string, value []byte) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	c.s.data[key] = value
	return nil
}

func (c sharedClient) Delete(_ context.Context, key string) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	delete(c.s.data, key)
	return nil
}

func (c sharedClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	return applyBatch(ctx, c, ops)
}

func (sharedClient) Close(context.Context) error { return nil }

// applyBatch runs ops one by one on c, as the test storage clients'
// Batch does.
func applyBatch(ctx context.Context, c storage.Client, ops []*storage.Operation) error {
	for _, op := range ops {
		var err error
		switch op.Type {
		case storage.Get:
			op.Value, err = c.Get(ctx, op.Key)
		case storage.Set:
			err = c.Set(ctx, op.Key, op.Value)
		case storage.Delete:
			err = c.Delete(ctx, op.Key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// extHost offers the storage extensions of a test.
type extHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h *extHost) GetExtensions() map[component.ID]component.Component { return h.exts }

// TestSQSTrailsRestrictNotifications: with trails configured, only their
// objects are read; a notification naming another bucket or account is ignored.
func TestSQSTrailsRestrictNotifications(t *testing.T) {
	s3srv := startS3(t)
	require.NoError(t, s3srv.CreateBucket("other-bucket"))
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	keys, ids := putObjects(t, s3srv, 5, 3, 9000) // accounts 100000000000 to 100000000004
	g := trailgen.New(9100, "100000000000", "us-east-1")
	otherKey := trailgen.Key("", "", "100000000000", "CloudTrail", "us-east-1", t0, "other")
	require.NoError(t, s3srv.Put("other-bucket", otherKey, trailgen.LogFile(genRecords(g, t0, 3), true)))
	var bodies []string
	for _, k := range keys {
		bodies = append(bodies, s3Notification(testBucket, k))
	}
	bodies = append(bodies, s3Notification("other-bucket", otherKey))
	sendMessages(t, qc, queueURL, bodies)

	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Trails = []TrailConfig{{Bucket: testBucket, Accounts: []string{"100000000000", "100000000001"}}}
	sk := newSink()
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == len(bodies) }, 20*time.Second, 10*time.Millisecond)
	require.NoError(t, h.stop())
	// Objects 0 and 1 (accounts …00 and …01) are the trail's: their 6 records.
	assertExactlyOnce(t, sk, ids[:6])
	assert.Zero(t, s3srv.Gets("other-bucket", otherKey))
	assert.NotEmpty(t, h.logsWith("bucket", "other-bucket"))
}
