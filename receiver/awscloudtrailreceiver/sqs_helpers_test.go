package awscloudtrailreceiver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
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
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// Queues, notifications and consumers of the SQS tests.

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

// sqsEnv is what an SQS test starts from: the S3 emulator (and its SQS), a
// client of it, the queue "cloudtrail" with its dead-letter queue, and
// objects in testBucket.
type sqsEnv struct {
	s3srv            *devstack.S3Server
	qc               *sqs.Client
	queueURL, dlqURL string
	keys, ids        []string // the objects' keys and their records' eventIDs
}

// newSQSEnv starts S3, creates the queue (visibility timeout, maxReceive
// receives before the dead-letter queue) and puts n objects of per records
// (putObjects with seed).
func newSQSEnv(t testing.TB, visibility time.Duration, maxReceive, n, per int, seed uint64) *sqsEnv {
	t.Helper()
	e := &sqsEnv{s3srv: startS3(t)}
	e.qc = queueClient(e.s3srv.URL)
	e.queueURL, e.dlqURL = createQueue(t, e.qc, "cloudtrail", visibility, maxReceive)
	e.keys, e.ids = putObjects(t, e.s3srv, n, per, seed)
	return e
}

// send sends the messages to the queue.
func (e *sqsEnv) send(t testing.TB, bodies []string) { sendMessages(t, e.qc, e.queueURL, bodies) }

// config is sqsConfig for the environment's S3 and queue.
func (e *sqsEnv) config() *Config { return sqsConfig(e.s3srv.URL, e.queueURL) }

// notifications returns one S3 event notification per key of testBucket.
func notifications(keys []string) []string {
	bodies := make([]string, 0, len(keys))
	for _, k := range keys {
		bodies = append(bodies, s3Notification(testBucket, k))
	}
	return bodies
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
	cfg.SQS.GetOrInsertDefault().QueueURL = queueURL
	cfg.SQS.GetOrInsertDefault().WaitTime = time.Second
	cfg.SQS.GetOrInsertDefault().VisibilityTimeout = 30 * time.Second
	return cfg
}

// consumerFunc is a logs consumer made of a function.
type consumerFunc func(context.Context, plog.Logs) error

func (f consumerFunc) ConsumeLogs(ctx context.Context, ld plog.Logs) error { return f(ctx, ld) }

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

// startHung starts a collector whose consumer accepts limit batches and
// then hangs (blockingSink), with a short drain: a collector to stop while
// it is stuck downstream.
func startHung(t *testing.T, cfg *Config, host component.Host, limit int) (*blockingSink, *harness) {
	hung := &blockingSink{sink: newSink(), limit: limit}
	h := startReceiver(t, cfg, hung, host)
	h.rcv.drain = 200 * time.Millisecond
	return hung, h
}

// stopMidObject announces one object of 1000 records; a first collector
// delivers 300 of them, hangs, and is stopped; a second one, with the same
// configuration and storage, takes the message over. It returns what each
// delivered and the object's eventIDs.
func stopMidObject(t *testing.T, seed uint64, storageID *component.ID, host component.Host, body string) (first, second *sink, want []string) {
	e := newSQSEnv(t, 30*time.Second, 5, 1, 1000, seed)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	e.send(t, []string{s3Notification(testBucket, keys[0])})
	cfg := e.config()
	cfg.MaxBatchRecords = 100
	cfg.Storage = storageID
	cfg.Body = body

	hung, h1 := startHung(t, cfg, host, 3)
	require.Eventually(t, func() bool { return hung.count() >= 300 }, waitFor, 10*time.Millisecond)
	require.NoError(t, h1.stop())

	// Its message comes back at once and the other collector finishes the object.
	second = newSink()
	h2 := startReceiver(t, cfg, second, host)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 1 }, waitFor, 10*time.Millisecond)
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
