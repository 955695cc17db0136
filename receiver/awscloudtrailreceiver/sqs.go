package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/notification"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/objectreader"
)

// sqsAPI is the part of the SQS API the receiver uses.
type sqsAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// sqsFor returns the SQS client of a region.
func (c *awsClients) sqsFor(region string) sqsAPI {
	return sqs.NewFromConfig(c.base, func(o *sqs.Options) {
		o.Region = region
		if c.endpoint != "" {
			o.BaseEndpoint = aws.String(c.endpoint)
		}
	})
}

// queueRegion reads the region of a queue URL (https://sqs.REGION.amazonaws.com/…).
func queueRegion(queueURL, fallback string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return fallback
	}
	parts := strings.Split(u.Hostname(), ".")
	if len(parts) >= 3 && parts[0] == "sqs" && regionRe.MatchString(parts[1]) {
		return parts[1]
	}
	return fallback
}

const (
	// sqsDrain is how long Shutdown lets the messages being processed finish.
	sqsDrain = 15 * time.Second
	// maxRetention is SQS's longest message retention period, the window
	// of done markers when the queue's own cannot be read.
	maxRetention = 14 * 24 * time.Hour
	// depthEvery is how often the queue depth is measured.
	depthEvery = 30 * time.Second
	// sqsCallTimeout bounds the calls that must be made even while
	// stopping: DeleteMessage of a finished message, and giving one back.
	sqsCallTimeout = 10 * time.Second
)

// Outcomes of messages, for the sqs_messages metric.
const (
	outcomeReceived = "received"
	outcomeDeleted  = "deleted"
	outcomeFailed   = "failed"
	outcomeIgnored  = "ignored"
)

// sqsMode reads the objects that notifications in an SQS queue announce.
// Many collectors may consume the same queue: SQS's visibility timeout
// gives each message to one of them at a time.
type sqsMode struct {
	r        *cloudtrailReceiver
	cfg      SQSConfig
	client   sqsAPI
	queueURL string
	// doneWindow is how long objects read to the end are remembered (their
	// done markers in the store): longer than a message can come back.
	doneWindow time.Duration
	// claims holds the objects being read by a worker, each with a channel
	// closed when it is released: a message naming an object being read
	// waits for it instead of reading it at the same time.
	claimsMu sync.Mutex
	claims   map[string]chan struct{}
	// workCtx ends the processing of messages; it outlives the receiving
	// on Shutdown, so that messages in progress can finish (sqsDrain).
	workCtx    context.Context
	cancelWork context.CancelFunc
}

// message is a received message and the stop of its visibility heartbeat.
type message struct {
	msg       sqstypes.Message
	stopHeart func()
}

func (r *cloudtrailReceiver) startSQS() {
	m := &sqsMode{
		r: r, cfg: r.cfg.SQS, queueURL: r.cfg.SQS.QueueURL, claims: map[string]chan struct{}{},
		client: r.clients.sqsFor(queueRegion(r.cfg.SQS.QueueURL, r.cfg.Region)),
	}
	m.workCtx, m.cancelWork = context.WithCancel(context.Background())
	recvCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan struct{})
	r.stopWork = m.cancelWork
	go m.run(recvCtx)
}

func (m *sqsMode) run(recvCtx context.Context) {
	defer close(m.r.done)
	workers := m.r.cfg.Workers
	// free holds a token per worker that has no message: the collector
	// takes at most workers messages at once, and a message received is
	// always handed to a worker at once (msgs never blocks), so each one
	// waits for nothing while its heartbeat keeps it hidden.
	free := make(chan struct{}, workers)
	for range workers {
		free <- struct{}{}
	}
	msgs := make(chan message, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rd := <-m.r.readers
			defer func() { m.r.readers <- rd }()
			for mm := range msgs {
				if recvCtx.Err() != nil {
					// Stopping before it started: give it back to the queue at once.
					mm.stopHeart()
					m.release(aws.ToString(mm.msg.ReceiptHandle), 0)
				} else {
					m.handle(rd, mm)
				}
				free <- struct{}{}
			}
		}()
	}
	go m.measureDepth(recvCtx)
	m.doneWindow = m.window(recvCtx)
	if err := m.r.store.ExpireDone(recvCtx, time.Now().Add(-m.doneWindow)); err != nil && recvCtx.Err() == nil {
		m.r.logger.Warn("Cannot expire the done markers of old objects", zap.Error(err))
	}
	for recvCtx.Err() == nil {
		// Wait for a worker without a message, then take every other one
		// free, up to max_messages.
		select {
		case <-free:
		case <-recvCtx.Done():
			continue
		}
		n := 1
	take:
		for n < min(m.cfg.MaxMessages, workers) {
			select {
			case <-free:
				n++
			default:
				break take
			}
		}
		out, err := m.client.ReceiveMessage(recvCtx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(m.queueURL),
			MaxNumberOfMessages:         int32(n),
			WaitTimeSeconds:             seconds(m.cfg.WaitTime),
			VisibilityTimeout:           seconds(m.cfg.VisibilityTimeout),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount, sqstypes.MessageSystemAttributeNameSentTimestamp},
		})
		var got []sqstypes.Message
		if err == nil {
			got = out.Messages[:min(len(out.Messages), n)]
		}
		// Start every heartbeat before handing any message over.
		batch := make([]message, 0, len(got))
		for _, msg := range got {
			batch = append(batch, message{msg: msg, stopHeart: m.heartbeat(aws.ToString(msg.ReceiptHandle))})
		}
		for range n - len(got) {
			free <- struct{}{}
		}
		for _, mm := range batch {
			m.r.tb.ReceiverAwscloudtrailSqsMessages.Add(m.workCtx, 1, metric.WithAttributes(attribute.String("outcome", outcomeReceived)))
			if sent, err := strconv.ParseInt(mm.msg.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				m.r.tb.ReceiverAwscloudtrailSqsMessageAge.Record(m.workCtx, time.Since(time.UnixMilli(sent)).Seconds())
			}
			msgs <- mm // a free worker waits for it: never blocks
		}
		if err != nil {
			if recvCtx.Err() != nil {
				break
			}
			reason, _ := classifyS3Error(err)
			msg := "Cannot receive from the SQS queue; trying again"
			if reason == reasonAccessDenied {
				msg = denied("ReceiveMessage", m.queueURL, "sqs:ReceiveMessage")
			}
			m.r.logger.Error(msg, zap.String("queue_url", m.queueURL), zap.Error(err))
			m.r.noteError(err)
			m.r.reportStatus()
			select {
			case <-recvCtx.Done():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		m.r.reportStatus() // OK again after failures
	}
	close(msgs)
	wg.Wait()
}

// seconds rounds d up to whole seconds, as SQS takes them: a visibility
// timeout of 1.5 s hides a message for 2 s, not 1.
func seconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	return int32((d + time.Second - 1) / time.Second)
}

// window returns sqs.done_window, or else the queue's message retention
// period plus the visibility timeout: a message not deleted cannot come
// back later than that (unless it is moved back from a dead-letter queue).
func (m *sqsMode) window(ctx context.Context) time.Duration {
	if m.cfg.DoneWindow > 0 {
		return m.cfg.DoneWindow
	}
	out, err := m.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(m.queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameMessageRetentionPeriod},
	})
	if err == nil {
		if sec, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameMessageRetentionPeriod)]); err == nil && sec > 0 {
			return time.Duration(sec)*time.Second + m.cfg.VisibilityTimeout
		}
	}
	m.r.logger.Debug("Cannot read the queue's message retention period; objects read are remembered for 14 days", zap.Error(err))
	return maxRetention + m.cfg.VisibilityTimeout
}

// heartbeat extends the visibility of a message while it is processed:
// every third of the visibility timeout, so that one failed extension
// still leaves time for another; a failed one is tried again soon, not a
// whole period later. stop returns once the heartbeat has ended, so that
// no extension can follow what the caller does next (release, delete).
func (m *sqsMode) heartbeat(handle string) (stop func()) {
	ctx, cancel := context.WithCancel(m.workCtx)
	every := max(m.cfg.VisibilityTimeout/3, 300*time.Millisecond)
	retry := min(every/2, time.Second)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTimer(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				cctx, ccancel := context.WithTimeout(ctx, every)
				_, err := m.client.ChangeMessageVisibility(cctx, &sqs.ChangeMessageVisibilityInput{
					QueueUrl: aws.String(m.queueURL), ReceiptHandle: aws.String(handle), VisibilityTimeout: seconds(m.cfg.VisibilityTimeout),
				})
				ccancel()
				next := every
				if err != nil && ctx.Err() == nil {
					next = retry
					m.r.logger.Warn("Cannot extend the visibility of an SQS message; trying again, else another collector may read its objects too",
						zap.String("queue_url", m.queueURL), zap.Error(err))
				}
				t.Reset(next)
			}
		}
	}()
	return func() {
		cancel()
		<-ended
	}
}

// release makes a message visible again after d.
func (m *sqsMode) release(handle string, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), sqsCallTimeout)
	defer cancel()
	_, err := m.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(m.queueURL), ReceiptHandle: aws.String(handle), VisibilityTimeout: seconds(d),
	})
	if err != nil {
		m.r.logger.Debug("Cannot change the visibility of an SQS message; it becomes visible when its timeout ends", zap.Error(err))
	}
}

// handle processes one message: reads the objects it announces and deletes
// it once every record of them was accepted downstream. Its heartbeat is
// stopped before the message is deleted or released.
func (m *sqsMode) handle(rd *objectreader.Reader, mm message) {
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
		reason, _ := classifyS3Error(err)
		msg := "Cannot delete the SQS message; it will be received again, and its objects are not read twice by this collector"
		if reason == reasonAccessDenied {
			msg = denied("DeleteMessage", m.queueURL, "sqs:DeleteMessage")
		}
		m.r.logger.Error(msg, append(fields, zap.Error(err))...)
		return
	}
	m.r.tb.ReceiverAwscloudtrailSqsMessages.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcomeDeleted)))
}

// process reads the objects a message announces. It reports whether the
// message is to be deleted, and after how long it is to be made visible
// again (negative: left as it is).
func (m *sqsMode) process(rd *objectreader.Reader, msg sqstypes.Message, count int, fields []zap.Field) (del bool, after time.Duration) {
	ctx := m.workCtx
	fail := func() {
		m.r.tb.ReceiverAwscloudtrailSqsMessages.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(attribute.String("outcome", outcomeFailed)))
	}
	if count > m.cfg.MaxReceiveCount {
		m.r.logger.Error("SQS message was received more than max_receive_count times; it is not processed any more and is left to the queue's redrive policy (dead-letter queue)",
			append(fields, zap.Int("max_receive_count", m.cfg.MaxReceiveCount))...)
		fail()
		return false, -1
	}
	objects, kind, err := notification.Parse(aws.ToString(msg.Body))
	if err != nil {
		body := aws.ToString(msg.Body)
		m.r.logger.Error("SQS message is not a notification of new objects; it is left for the dead-letter queue",
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
		m.r.logger.Debug("SQS message announces no CloudTrail object; deleting it", append(fields, zap.String("kind", kind))...)
		m.r.tb.ReceiverAwscloudtrailSqsMessages.Add(context.WithoutCancel(ctx), 1, metric.WithAttributes(attribute.String("outcome", outcomeIgnored)))
	}
	return m.cfg.DeleteAfterDelivery, -1
}

// retryDelay is how long a failed message stays hidden before it is tried again.
func (m *sqsMode) retryDelay(receiveCount int) time.Duration {
	d := 5 * time.Second << min(max(receiveCount-1, 0), 10)
	return min(d, m.cfg.VisibilityTimeout)
}

// readAnnounced reads one announced object, resuming after the records
// this collector already delivered of it.
func (m *sqsMode) readAnnounced(ctx context.Context, rd *objectreader.Reader, o notification.Object) readResult {
	r := m.r
	if res, ok := m.integrityAnnounced(ctx, o); ok {
		return res
	}
	p, _, ok := keylayout.Parse(o.Key)
	if !ok || !keylayout.IsLogFile(o.Key) || p.Kind == keylayout.KindDigest || (p.Kind == keylayout.KindInsight && !r.cfg.IncludeInsights) ||
		(p.Kind != keylayout.KindLog && p.Kind != keylayout.KindInsight) {
		r.logger.Debug("Ignoring an object that is not a CloudTrail log file", zap.String("bucket", o.Bucket), zap.String("key", o.Key))
		return readDone
	}
	if !m.allowed(o, p) {
		r.logger.Warn("Ignoring a notification of an object outside the configured trails",
			zap.String("bucket", o.Bucket), zap.String("key", o.Key))
		return readDone
	}
	release, ok := m.claim(ctx, o)
	if !ok {
		return readStopped
	}
	defer release()
	skip, done, err := r.store.LoadProgress(ctx, o.Bucket, o.Key)
	if err != nil {
		r.logger.Error("Cannot load the progress of an object; it is retried", zap.String("bucket", o.Bucket), zap.String("key", o.Key), zap.Error(err))
		return readRetry
	}
	if done {
		r.logger.Debug("Object already read (its message came back, or a duplicate notification)", zap.String("bucket", o.Bucket), zap.String("key", o.Key))
		return readDone
	}
	r.tb.ReceiverAwscloudtrailObjectsInFlight.Add(ctx, 1)
	defer r.tb.ReceiverAwscloudtrailObjectsInFlight.Add(context.WithoutCancel(ctx), -1)
	res := r.read(ctx, rd, objectTask{
		store: r.clients.s3For(r.bucketRegion(ctx, o.Bucket)), bucket: o.Bucket, key: o.Key, account: p.Account, region: p.Region,
		skip: skip, retryHint: "its message is retried",
		delivered: func(next int) {
			if err := r.store.SaveProgress(context.WithoutCancel(ctx), o.Bucket, o.Key, next, time.Now()); err != nil {
				r.logger.Error("Cannot save the progress of an object", zap.String("bucket", o.Bucket), zap.String("key", o.Key), zap.Error(err))
			}
		},
	})
	switch res {
	case readDone:
		if err := r.store.MarkDone(context.WithoutCancel(ctx), o.Bucket, o.Key, time.Now(), m.doneWindow); err != nil {
			r.logger.Error("Cannot record that an object was read to the end; if its message comes back, it is read again",
				zap.String("bucket", o.Bucket), zap.String("key", o.Key), zap.Error(err))
		}
	case readGiveUp:
		// A poison object (vanished, damaged): the message is not deleted,
		// so it ends in the dead-letter queue after max_receive_count.
		return readRetry
	}
	return res
}

// claim makes this worker the only one of the collector to read o until
// release is called. When another worker is reading o, it waits for it to
// finish (then o is done, or its progress tells where to resume); it
// reports false if ctx ends first. A worker claims one object at a time
// and waits holding none, so workers cannot wait for each other in a cycle.
func (m *sqsMode) claim(ctx context.Context, o notification.Object) (release func(), ok bool) {
	id := o.Bucket + "/" + o.Key
	for {
		m.claimsMu.Lock()
		busy, taken := m.claims[id]
		if !taken {
			ch := make(chan struct{})
			m.claims[id] = ch
			m.claimsMu.Unlock()
			return func() {
				m.claimsMu.Lock()
				delete(m.claims, id)
				m.claimsMu.Unlock()
				close(ch)
			}, true
		}
		m.claimsMu.Unlock()
		m.r.logger.Debug("Object named by a notification is being read by another worker (duplicate notification); waiting for it",
			zap.String("bucket", o.Bucket), zap.String("key", o.Key))
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// allowed reports whether an announced object belongs to one of the
// configured trails (bucket, prefix, organization, accounts, regions).
// Without trails, every bucket the collector can read is allowed.
func (m *sqsMode) allowed(o notification.Object, p keylayout.Prefix) bool {
	if len(m.r.cfg.Trails) == 0 {
		return true
	}
	for _, t := range m.r.cfg.Trails {
		if t.Bucket == o.Bucket && keylayout.Root(t.Prefix) == p.Root &&
			(t.OrganizationID == "" || t.OrganizationID == p.Org) &&
			(len(t.Accounts) == 0 || slices.Contains(t.Accounts, p.Account)) &&
			(len(t.Regions) == 0 || slices.Contains(t.Regions, p.Region)) {
			return true
		}
	}
	return false
}

// measureDepth records the queue depth (ApproximateNumberOfMessages).
func (m *sqsMode) measureDepth(ctx context.Context) {
	t := time.NewTicker(depthEvery)
	defer t.Stop()
	for {
		out, err := m.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(m.queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
		})
		if err == nil {
			if n, err := strconv.ParseInt(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)], 10, 64); err == nil {
				m.r.tb.ReceiverAwscloudtrailSqsQueueDepth.Record(ctx, n)
			}
		} else if ctx.Err() == nil {
			m.r.logger.Debug("Cannot read the queue depth (sqs:GetQueueAttributes)", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
