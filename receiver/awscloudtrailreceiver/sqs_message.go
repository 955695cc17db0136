package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/notification"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/objectreader"
)

// The handling of one SQS message: reading the objects it announces, each
// through its claimed checkpoint.Object, then deleting or releasing it.

// handle processes one message: reads the objects it announces and deletes
// it once every record of them was accepted downstream. Its heartbeat is
// stopped before the message is deleted or released.
func (m *sqsSource) handle(rd *objectreader.Reader, mm message) {
	msg := mm.msg
	handle := aws.ToString(msg.ReceiptHandle)
	fields := []zap.Field{zap.String("queue_url", m.queueURL), zap.String("message_id", aws.ToString(msg.MessageId))}
	count, _ := strconv.Atoi(msg.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	fields = append(fields, zap.Int("receive_count", count))
	del, after := m.process(rd, msg, count, fields)
	mm.stopHeart()
	if after >= 0 {
		m.release(handle, after)
	}
	if !del {
		return
	}
	// The objects are done: delete even if Shutdown has just ended the
	// processing, else another collector reads them again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.workCtx), sqsCallTimeout)
	defer cancel()
	if _, err := m.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(m.queueURL), ReceiptHandle: aws.String(handle)}); err != nil {
		logAWSError(m.tel.logger, zapcore.ErrorLevel,
			awsCall{"DeleteMessage", m.queueURL, "sqs:DeleteMessage", "it will be received again, and its objects are not read twice by this collector"},
			err, fields...)
		return
	}
	m.tel.tb.ReceiverAwscloudtrailSqsMessages.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcomeDeleted)))
}

// process reads the objects a message announces. It reports whether the
// message is to be deleted, and after how long it is to be made visible
// again (negative: left as it is).
func (m *sqsSource) process(rd *objectreader.Reader, msg sqstypes.Message, count int, fields []zap.Field) (del bool, after time.Duration) {
	ctx := m.workCtx
	fail := func() {
		m.tel.tb.ReceiverAwscloudtrailSqsMessages.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(attribute.String("outcome", outcomeFailed)))
	}
	if count > m.sqs.MaxReceiveCount {
		m.tel.logger.Error("SQS message was received more than max_receive_count times; it is not processed any more and is left to the queue's redrive policy (dead-letter queue)",
			append(fields, zap.Int("max_receive_count", m.sqs.MaxReceiveCount))...)
		fail()
		return false, -1
	}
	objects, kind, err := notification.Parse(aws.ToString(msg.Body))
	if err != nil {
		body := aws.ToString(msg.Body)
		m.tel.logger.Error("SQS message is not a notification of new objects; it is left for the dead-letter queue",
			append(fields, zap.String("body", cut(body, 300)), zap.Error(err))...)
		fail()
		return false, m.retryDelay(count)
	}
	ok := true
	for _, o := range objects {
		switch m.readAnnounced(ctx, rd, o) {
		case readDone:
		case readStopped:
			// Stopping: let another collector take the message at once.
			return false, 0
		default:
			ok = false
		}
	}
	if !ok {
		fail()
		return false, m.retryDelay(count)
	}
	if len(objects) == 0 {
		m.tel.logger.Debug("SQS message announces no CloudTrail object; deleting it", append(fields, zap.String("kind", kind))...)
		m.tel.tb.ReceiverAwscloudtrailSqsMessages.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(attribute.String("outcome", outcomeIgnored)))
	}
	return m.sqs.DeleteAfterDelivery, -1
}

// retryDelay is how long a failed message stays hidden before it is tried again.
func (m *sqsSource) retryDelay(receiveCount int) time.Duration {
	d := 5 * time.Second << min(max(receiveCount-1, 0), 10)
	return min(d, m.sqs.VisibilityTimeout)
}

// readAnnounced reads one announced object, resuming after the records
// this collector already delivered of it.
func (m *sqsSource) readAnnounced(ctx context.Context, rd *objectreader.Reader, o notification.Object) readResult {
	if res, ok := m.integrityAnnounced(ctx, o); ok {
		return res
	}
	p, _, ok := keylayout.Parse(o.Key)
	if !ok || !keylayout.IsLogFile(o.Key) || p.Kind == keylayout.KindDigest || (p.Kind == keylayout.KindInsight && !m.cfg.IncludeInsights) ||
		(p.Kind != keylayout.KindLog && p.Kind != keylayout.KindInsight) {
		m.tel.logger.Debug("Ignoring an object that is not a CloudTrail log file", zap.String("bucket", o.Bucket), zap.String("key", o.Key))
		return readDone
	}
	if !m.allowed(o, p) {
		m.tel.logger.Warn("Ignoring a notification of an object outside the configured trails",
			zap.String("bucket", o.Bucket), zap.String("key", o.Key))
		return readDone
	}
	// The claim makes this worker the only one of the collector to read o:
	// a duplicate notification waits for it instead of reading it at the
	// same time, then finds it done or resumes after its progress.
	obj, ok, err := m.store.Claim(ctx, o.Bucket, o.Key, func() {
		m.tel.logger.Debug("Object named by a notification is being read by another worker (duplicate notification); waiting for it",
			zap.String("bucket", o.Bucket), zap.String("key", o.Key))
	})
	switch {
	case !ok:
		return readStopped
	case err != nil:
		m.tel.logger.Error("Cannot load the progress of an object; it is retried", zap.String("bucket", o.Bucket), zap.String("key", o.Key), zap.Error(err))
		return readRetry
	}
	defer obj.Release()
	if obj.Done() {
		m.tel.logger.Debug("Object already read (its message came back, or a duplicate notification)", zap.String("bucket", o.Bucket), zap.String("key", o.Key))
		return readDone
	}
	m.tel.tb.ReceiverAwscloudtrailObjectsInFlight.Add(ctx, 1)
	defer m.tel.tb.ReceiverAwscloudtrailObjectsInFlight.Add(context.WithoutCancel(ctx), -1)
	res := m.pool.read(ctx, rd, objectTask{
		store: m.clients.s3ForBucket(ctx, o.Bucket), bucket: o.Bucket, key: o.Key, account: p.Account, region: p.Region,
		skip: obj.Delivered(), retryHint: "its message is retried",
		delivered: func(next int) {
			if err := obj.SaveDelivered(context.WithoutCancel(ctx), next, time.Now()); err != nil {
				m.tel.logger.Error("Cannot save the progress of an object", zap.String("bucket", o.Bucket), zap.String("key", o.Key), zap.Error(err))
			}
		},
	})
	switch res {
	case readDone:
		if err := obj.Finish(context.WithoutCancel(ctx), time.Now(), m.doneWindow); err != nil {
			m.tel.logger.Error("Cannot record that an object was read to the end; if its message comes back, it is read again",
				zap.String("bucket", o.Bucket), zap.String("key", o.Key), zap.Error(err))
		}
	case readGiveUp:
		// A poison object (vanished, damaged): the message is not deleted,
		// so it ends in the dead-letter queue after max_receive_count.
		return readRetry
	}
	return res
}

// allowed reports whether an announced object belongs to one of the
// configured trails (bucket, prefix, organization, accounts, regions).
// Without trails, every bucket the collector can read is allowed.
func (m *sqsSource) allowed(o notification.Object, p keylayout.Prefix) bool {
	if len(m.cfg.Trails) == 0 {
		return true
	}
	for _, t := range m.cfg.Trails {
		if t.Bucket == o.Bucket && keylayout.Root(t.Prefix) == p.Root &&
			(t.OrganizationID == "" || t.OrganizationID == p.Org) &&
			(len(t.Accounts) == 0 || slices.Contains(t.Accounts, p.Account)) &&
			(len(t.Regions) == 0 || slices.Contains(t.Regions, p.Region)) {
			return true
		}
	}
	return false
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
