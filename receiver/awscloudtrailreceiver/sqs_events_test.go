package awscloudtrailreceiver

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// s3Event is an S3 event notification of eventName for one object.
func s3Event(eventName, bucket, key string) string {
	b, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": eventName, "awsRegion": "us-east-1",
		"s3": map[string]any{"bucket": map[string]any{"name": bucket}, "object": map[string]any{"key": url.QueryEscape(key)}},
	}}})
	return string(b)
}

// TestSQSIgnoresEventsOtherThanCreated: notifications of deleted, expired,
// transitioned or restored objects (the bucket's lifecycle rules send
// them too when the notification configuration is broad), test events and
// EventBridge "Object Deleted" events announce nothing to read: their
// messages are deleted at once, not retried into the dead-letter queue.
func TestSQSIgnoresEventsOtherThanCreated(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 2, 1, 3, 9500)
	s3srv, keys, ids := e.s3srv, e.keys, e.ids
	gone := trailgen.Key("", "", "100000000000", "CloudTrail", "us-east-1", t0, "gone")
	deleted, _ := json.Marshal(map[string]any{"version": "0", "detail-type": "Object Deleted", "source": "aws.s3",
		"detail": map[string]any{"bucket": map[string]any{"name": testBucket}, "object": map[string]any{"key": gone}}})
	bodies := []string{
		s3Event("ObjectRemoved:Delete", testBucket, gone),
		s3Event("ObjectRemoved:DeleteMarkerCreated", testBucket, gone),
		s3Event("LifecycleExpiration:Delete", testBucket, gone),
		snsEnvelope(s3Event("LifecycleTransition", testBucket, keys[0])),
		s3Event("ObjectRestore:Completed", testBucket, keys[0]),
		s3Event("ObjectTagging:Put", testBucket, keys[0]),
		snsEnvelope(`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-20T10:00:00.000Z","Bucket":"trail-bucket"}`),
		string(deleted),
		s3Event("ObjectCreated:Put", testBucket, keys[0]),
	}
	e.send(t, bodies)
	sk := newSink()
	h := startReceiver(t, e.config(), sk, nil)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == len(bodies) }, waitFor, 10*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, ids)
	assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]), "only the ObjectCreated notification made it read")
	assert.Zero(t, s3srv.Gets(testBucket, gone))
	assert.Equal(t, devstack.QueueStats{Deleted: len(bodies), Received: len(bodies)}, s3srv.SQS().Stats("cloudtrail"), "each received once and deleted")
	assert.Equal(t, devstack.QueueStats{}, s3srv.SQS().Stats("cloudtrail-dlq"))
	assert.Equal(t, int64(len(bodies)-1), h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "ignored"))
	assert.Zero(t, h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "failed"))
}
