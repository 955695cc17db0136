package awscloudtrailreceiver

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// gatedSink holds the first batch until open() reports true.
type gatedSink struct {
	*sink
	open  func() bool
	first atomic.Bool
}

func (g *gatedSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if g.first.CompareAndSwap(false, true) {
		deadline := time.Now().Add(10 * time.Second)
		for !g.open() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return g.sink.ConsumeLogs(ctx, ld)
}

// TestSQSDuplicateNotificationsReadOnce: two messages name one object (S3
// event notifications and the trail's SNS topic both sent to the queue, or
// S3 delivering one event twice). Two workers receive them together: the
// second must not read the object while the first reads it; it waits, sees
// the object done and deletes its message.
func TestSQSDuplicateNotificationsReadOnce(t *testing.T) {
	e := newSQSEnv(t, 30*time.Second, 5, 1, 500, 14000)
	s3srv, keys, want := e.s3srv, e.keys, e.ids
	e.send(t, []string{
		s3Notification(testBucket, keys[0]),
		snsEnvelope(fmt.Sprintf(`{"s3Bucket":%q,"s3ObjectKey":[%q]}`, testBucket, keys[0])),
	})
	cfg := e.config()
	cfg.Workers = 2
	cfg.MaxBatchRecords = 100
	var h atomic.Pointer[harness]
	// The first batch waits until the second message is being handled: its
	// worker either started reading the object too (a second GET) or
	// waits for it.
	sk := &gatedSink{sink: newSink(), open: func() bool {
		hh := h.Load()
		return s3srv.Gets(testBucket, keys[0]) >= 2 || (hh != nil && hh.logs.FilterMessageSnippet("being read by another worker").Len() > 0)
	}}
	hh := startReceiver(t, cfg, sk, nil)
	h.Store(hh)
	require.Eventually(t, func() bool { return s3srv.SQS().Stats("cloudtrail").Deleted == 2 }, waitFor, 10*time.Millisecond)
	require.NoError(t, hh.stop())
	assertExactlyOnce(t, sk.sink, want)
	assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]))
	assert.Equal(t, 2, s3srv.SQS().Stats("cloudtrail").Received, "neither message came back")
}
