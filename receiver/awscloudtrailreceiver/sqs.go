package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"net/url"
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
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
)

// sqsAPI is the part of the SQS API the receiver uses.
type sqsAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
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

// sqsSource is the SQS source: it reads the objects that notifications in
// an SQS queue announce. Many collectors may consume the same queue: SQS's
// visibility timeout gives each message to one of them at a time. The
// progress of each object is written through its checkpoint.Object, which
// one worker of the collector holds at a time. design.md numbers the cycle.
type sqsSource struct {
	cfg      *Config
	sqs      *SQSConfig // the sqs section, present in this mode
	tel      *telemetry
	pool     *readerPool
	store    *checkpoint.Store
	clients  *awsClients
	client   sqsAPI
	queueURL string
	// doneWindow is how long objects read to the end are remembered (their
	// done markers in the store): longer than a message can come back.
	doneWindow time.Duration
	// workCtx ends the processing of messages (abort); it outlives the
	// receiving (stop), so that messages in progress can finish.
	workCtx    context.Context
	cancelWork context.CancelFunc
	cancelRecv context.CancelFunc
	doneCh     chan struct{}
}

// message is a received message and the stop of its visibility heartbeat.
type message struct {
	msg       sqstypes.Message
	stopHeart func()
}

func newSQSSource(cfg *Config, tel *telemetry, pool *readerPool, clients *awsClients, store *checkpoint.Store) *sqsSource {
	sqs := cfg.SQS.Get()
	m := &sqsSource{
		cfg: cfg, tel: tel, pool: pool, store: store, clients: clients, sqs: sqs, queueURL: sqs.QueueURL,
		client: clients.sqsFor(queueRegion(sqs.QueueURL, cfg.Region)),
		doneCh: make(chan struct{}),
	}
	m.workCtx, m.cancelWork = context.WithCancel(context.Background())
	return m
}

func (m *sqsSource) start() {
	recvCtx, cancel := context.WithCancel(context.Background())
	m.cancelRecv = cancel
	go m.run(recvCtx)
}

func (m *sqsSource) stop()                 { m.cancelRecv() }
func (m *sqsSource) abort()                { m.cancelWork() }
func (m *sqsSource) done() <-chan struct{} { return m.doneCh }

func (m *sqsSource) run(recvCtx context.Context) {
	defer close(m.doneCh)
	workers := m.cfg.Workers
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
			rd, _ := m.pool.acquire(context.Background())
			defer m.pool.release(rd)
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
	if err := m.store.ExpireDone(recvCtx, time.Now().Add(-m.doneWindow)); err != nil && recvCtx.Err() == nil {
		m.tel.logger.Warn("Cannot expire the done markers of old objects", zap.Error(err))
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
		for n < min(m.sqs.MaxMessages, workers) {
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
			WaitTimeSeconds:             seconds(m.sqs.WaitTime),
			VisibilityTimeout:           seconds(m.sqs.VisibilityTimeout),
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
			m.tel.tb.ReceiverAwscloudtrailSqsMessages.Add(m.workCtx, 1, metric.WithAttributes(attribute.String("outcome", outcomeReceived)))
			if sent, err := strconv.ParseInt(mm.msg.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				m.tel.tb.ReceiverAwscloudtrailSqsMessageAge.Record(m.workCtx, time.Since(time.UnixMilli(sent)).Seconds())
			}
			msgs <- mm // a free worker waits for it: never blocks
		}
		if err != nil {
			if recvCtx.Err() != nil {
				break
			}
			logAWSError(m.tel.logger, zapcore.ErrorLevel, awsCall{"ReceiveMessage", m.queueURL, "sqs:ReceiveMessage", "trying again"},
				err, zap.String("queue_url", m.queueURL))
			m.tel.noteError(err)
			m.tel.reportStatus()
			select {
			case <-recvCtx.Done():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		m.tel.reportStatus() // OK again after failures
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
func (m *sqsSource) window(ctx context.Context) time.Duration {
	if m.sqs.DoneWindow > 0 {
		return m.sqs.DoneWindow
	}
	out, err := m.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(m.queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameMessageRetentionPeriod},
	})
	if err == nil {
		if sec, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameMessageRetentionPeriod)]); err == nil && sec > 0 {
			return time.Duration(sec)*time.Second + m.sqs.VisibilityTimeout
		}
	}
	m.tel.logger.Debug("Cannot read the queue's message retention period; objects read are remembered for 14 days", zap.Error(err))
	return maxRetention + m.sqs.VisibilityTimeout
}

// heartbeat extends the visibility of a message while it is processed:
// every third of the visibility timeout, so that one failed extension
// still leaves time for another; a failed one is tried again soon, not a
// whole period later. stop returns once the heartbeat has ended, so that
// no extension can follow what the caller does next (release, delete).
func (m *sqsSource) heartbeat(handle string) (stop func()) {
	ctx, cancel := context.WithCancel(m.workCtx)
	every := max(m.sqs.VisibilityTimeout/3, 300*time.Millisecond)
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
					QueueUrl: aws.String(m.queueURL), ReceiptHandle: aws.String(handle), VisibilityTimeout: seconds(m.sqs.VisibilityTimeout),
				})
				ccancel()
				next := every
				if err != nil && ctx.Err() == nil {
					next = retry
					m.tel.logger.Warn("Cannot extend the visibility of an SQS message; trying again, else another collector may read its objects too",
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
func (m *sqsSource) release(handle string, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), sqsCallTimeout)
	defer cancel()
	_, err := m.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(m.queueURL), ReceiptHandle: aws.String(handle), VisibilityTimeout: seconds(d),
	})
	if err != nil {
		m.tel.logger.Debug("Cannot change the visibility of an SQS message; it becomes visible when its timeout ends", zap.Error(err))
	}
}

// measureDepth records the queue depth (ApproximateNumberOfMessages).
func (m *sqsSource) measureDepth(ctx context.Context) {
	t := time.NewTicker(depthEvery)
	defer t.Stop()
	for {
		out, err := m.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(m.queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
		})
		if err == nil {
			if n, err := strconv.ParseInt(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)], 10, 64); err == nil {
				m.tel.tb.ReceiverAwscloudtrailSqsQueueDepth.Record(ctx, n)
			}
		} else if ctx.Err() == nil {
			m.tel.logger.Debug("Cannot read the queue depth (sqs:GetQueueAttributes)", zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
