package awscloudtrailreceiver

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Notifications and consumers of the adversarial SQS tests.

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
