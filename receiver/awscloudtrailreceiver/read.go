package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/objectreader"
)

// readResult is how reading one object ended.
type readResult int

const (
	// readDone: read to the end and delivered.
	readDone readResult = iota
	// readGiveUp: reading it again cannot help (vanished, damaged, rejected
	// downstream); what could be read was delivered.
	readGiveUp
	// readRetry: failed for now (access, network); try again later, from
	// the last delivered record.
	readRetry
	// readStopped: the receiver is stopping.
	readStopped
)

// readerPool reads objects with a bounded pool of readers (workers) and
// hands their records to the next consumer, shared by both sources.
type readerPool struct {
	readers chan *objectreader.Reader
	next    consumer.Logs
	obsrecv *receiverhelper.ObsReport
	tel     *telemetry
	// integrity validates digests and log files (integrity.go); nil when
	// integrity.enabled is false (its methods do nothing then).
	integrity *verifier
	// consumeCtx is the context of the calls to the next consumer: Shutdown
	// ends it (stopConsume) only after the drain, so that a batch handed
	// downstream is not cut half way.
	consumeCtx  context.Context
	stopConsume context.CancelFunc
}

func newReaderPool(cfg *Config, set receiver.Settings, next consumer.Logs, obsrecv *receiverhelper.ObsReport, tel *telemetry) *readerPool {
	p := &readerPool{readers: make(chan *objectreader.Reader, cfg.Workers), next: next, obsrecv: obsrecv, tel: tel}
	mapper := mapping.New(cfg.Priority.NormalServices, cfg.CopyPayloadAttributes)
	for range cfg.Workers {
		p.readers <- objectreader.New(objectreader.Options{
			MaxBatchRecords: cfg.MaxBatchRecords,
			Mapper:          mapper,
			ScopeName:       metadata.ScopeName,
			ScopeVersion:    set.BuildInfo.Version,
			Body:            objectreader.BodyModes[cfg.Body],
		})
	}
	p.consumeCtx, p.stopConsume = context.WithCancel(context.Background())
	return p
}

// acquire waits for a free reader; it reports false when ctx ends first.
func (p *readerPool) acquire(ctx context.Context) (*objectreader.Reader, bool) {
	select {
	case rd := <-p.readers:
		return rd, true
	case <-ctx.Done():
		return nil, false
	}
}

// release gives a reader back.
func (p *readerPool) release(rd *objectreader.Reader) { p.readers <- rd }

// objectTask is one object to read and where its progress goes.
type objectTask struct {
	store           objectStore
	bucket, key     string
	account, region string
	// skip is the number of records already delivered.
	skip         int
	lastModified time.Time
	// retryHint ends the log lines of retryable failures.
	retryHint string
	// delivered records that the first next records of the object were accepted.
	delivered func(next int)
}

// read streams one object to the next consumer in batches, logging and
// counting what goes wrong with the bucket and key.
func (p *readerPool) read(ctx context.Context, rd *objectreader.Reader, t objectTask) readResult {
	logFields := []zap.Field{zap.String("bucket", t.bucket), zap.String("key", t.key)}
	out, err := t.store.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(t.key)})
	if err != nil {
		if ctx.Err() != nil {
			return readStopped
		}
		reason, retryable := classifyS3Error(err)
		p.tel.countFailed(ctx, reason)
		call := awsCall{"GetObject", "s3://" + t.bucket + "/" + t.key, "s3:GetObject (and kms:Decrypt for SSE-KMS files)", t.retryHint}
		if !retryable {
			call.next = "the CloudTrail object vanished between its announcement and its reading; skipping it"
			logAWSError(p.tel.logger, zapcore.WarnLevel, call, err, logFields...)
			if !p.integrity.read(ctx, t, nil, nil, reason == reasonNotFound) {
				return unkept(ctx)
			}
			return readGiveUp
		}
		p.tel.noteError(err)
		logAWSError(p.tel.logger, zapcore.ErrorLevel, call, err, logFields...)
		return readRetry
	}
	defer out.Body.Close()
	lastModified := t.lastModified
	if lastModified.IsZero() {
		lastModified = aws.ToTime(out.LastModified)
	}

	obj := objectreader.Object{Bucket: t.bucket, Key: t.key, Account: t.account, Region: t.region, Hash: p.integrity.hashFor(t)}
	stats, err := rd.Read(out.Body, obj, t.skip, func(b objectreader.Batch) error {
		return p.deliver(ctx, t, b)
	})
	kept := p.integrity.read(ctx, t, obj.Hash, err, false)
	p.tel.tb.ReceiverAwscloudtrailBytesRead.Add(ctx, stats.BytesRead)
	if len(stats.Skipped) > 0 {
		skipped := 0
		for reason, n := range stats.Skipped {
			skipped += n
			p.tel.tb.ReceiverAwscloudtrailRecordsInvalid.Add(ctx, int64(n), metric.WithAttributes(attribute.String("reason", reason)))
		}
		p.tel.logger.Warn("CloudTrail object has elements in Records that cannot be read as records (not objects, nested too deep, or numbers out of range); they were skipped",
			append(logFields, zap.Int("skipped", skipped), zap.Any("reasons", stats.Skipped), zap.Ints("indexes", stats.SkippedIndexes))...)
	}
	if stats.MissingEventTime > 0 {
		p.tel.tb.ReceiverAwscloudtrailRecordsInvalid.Add(ctx, int64(stats.MissingEventTime), metric.WithAttributes(attribute.String("reason", reasonMissingEventTime)))
		p.tel.logger.Warn("CloudTrail object has records without a valid eventTime; they were delivered without Timestamp",
			append(logFields, zap.Int("records", stats.MissingEventTime))...)
	}

	var contentErr *objectreader.ContentError
	switch {
	case !kept:
		// Its integrity finding was not delivered: not finished.
		return unkept(ctx)
	case err == nil:
		p.tel.tb.ReceiverAwscloudtrailObjectsRead.Add(ctx, 1)
		p.tel.watch.deliveredObject(trailOf(t.bucket, t.key), lastModified)
		p.tel.addProgress(1, 0, time.Time{})
		return readDone
	case ctx.Err() != nil:
		return readStopped
	case errors.As(err, &contentErr) && contentErr.Permanent():
		p.tel.countFailed(ctx, contentErr.Reason)
		p.tel.logger.Error("CloudTrail object is damaged; the records before the damage were delivered, the rest cannot be read",
			append(logFields, zap.String("reason", contentErr.Reason), zap.Int("records_delivered", stats.Records+t.skip), zap.Error(err))...)
		return readGiveUp
	case errors.As(err, &contentErr):
		p.tel.countFailed(ctx, contentErr.Reason)
		p.tel.logger.Error("Reading CloudTrail object failed; "+t.retryHint+", from the last delivered record",
			append(logFields, zap.String("reason", contentErr.Reason), zap.Error(err))...)
		return readRetry
	case consumererror.IsPermanent(err):
		p.tel.countFailed(ctx, reasonConsumer)
		p.tel.logger.Error("The next consumer rejected records of a CloudTrail object permanently; the object is skipped",
			append(logFields, zap.Error(err))...)
		return readGiveUp
	default:
		p.tel.countFailed(ctx, reasonS3Error)
		p.tel.logger.Error("Reading CloudTrail object failed; "+t.retryHint, append(logFields, zap.Error(err))...)
		return readRetry
	}
}

// unkept is how reading an object ended when its integrity conclusion
// could not be kept (verifier.read): stopped when the receiver stops, so
// that the object is read again after the restart, or else retried.
func unkept(ctx context.Context) readResult {
	if ctx.Err() != nil {
		return readStopped
	}
	return readRetry
}

// deliver hands one batch to the next consumer, retrying with backoff
// until it is accepted, rejected permanently, or the receiver stops; then
// it records the progress (t.delivered).
func (p *readerPool) deliver(ctx context.Context, t objectTask, b objectreader.Batch) error {
	backoff := 100 * time.Millisecond
	// pending is what the next consumer has not accepted yet: the batch, or
	// after a partial refusal only its refused part.
	pending, records := b.Logs, b.Records
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			// Stopping: no new batch (or new attempt) is handed downstream.
			return ctx.Err()
		}
		// The call runs on the receiver's consume context, which a stop
		// ends only after the drain: a batch handed downstream finishes
		// (and its progress is saved) instead of being cut half way, which
		// would make a restart send its accepted part again.
		opCtx := p.obsrecv.StartLogsOp(p.consumeCtx)
		err := p.next.ConsumeLogs(opCtx, pending)
		p.obsrecv.EndLogsOp(opCtx, "cloudtrail", records, err)
		if err == nil {
			break
		}
		if consumererror.IsPermanent(err) {
			return err
		}
		if rest, ok := refusedPart(err); ok {
			// The consumer accepted the rest of the batch: sending it again
			// would deliver it twice.
			pending, records = rest, rest.LogRecordCount()
		}
		if attempt == 1 || attempt%10 == 0 {
			p.tel.logger.Warn("Next consumer refused CloudTrail records; retrying",
				zap.String("bucket", t.bucket), zap.String("key", t.key), zap.Int("attempt", attempt),
				zap.Duration("backoff", backoff), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
	t.delivered(b.Next)
	p.tel.tb.ReceiverAwscloudtrailRecords.Add(ctx, int64(b.Normal), metric.WithAttributes(attribute.String("priority", ctattr.PriorityNormal)))
	p.tel.tb.ReceiverAwscloudtrailRecords.Add(ctx, int64(b.Low), metric.WithAttributes(attribute.String("priority", ctattr.PriorityLow)))
	p.tel.watch.deliveredEvents(trailOf(t.bucket, t.key), b.NewestEventTime)
	p.tel.addProgress(0, int64(b.Records), b.NewestEventTime)
	return nil
}

// refusedPart returns the records a consumer refused when it accepted the
// others (consumererror.Logs). Only an error that names one refused part is
// used: errors of several consumers (a fan-out where more than one failed)
// may each name a different part, and sending one of them would lose the
// others, so the whole batch is sent again then.
func refusedPart(err error) (plog.Logs, bool) {
	if _, multi := err.(interface{ Unwrap() []error }); multi {
		return plog.Logs{}, false
	}
	var le consumererror.Logs
	if !errors.As(err, &le) {
		return plog.Logs{}, false
	}
	return le.Data(), true
}
