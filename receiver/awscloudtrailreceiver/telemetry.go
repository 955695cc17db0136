package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/objectreader"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/recordstream"
)

// telemetry is what the receiver's parts report through: logs, metrics,
// the component status and the progress lines.
type telemetry struct {
	logger *zap.Logger
	tb     *metadata.TelemetryBuilder
	host   component.Host

	// statusMu guards the errors of the current poll, reported as the
	// component's status (recoverable error, then OK once a poll is clean).
	statusMu   sync.Mutex
	pollErr    error
	inErrState bool

	// progress writes the progress line; watch feeds it and the lag gauges.
	progress *progressLog
	watch    *trailWatch
}

// noteError records a failure of the current poll for the component status.
func (t *telemetry) noteError(err error) {
	t.statusMu.Lock()
	defer t.statusMu.Unlock()
	if t.pollErr == nil {
		t.pollErr = err
	}
}

// reportStatus reports a recoverable error when a poll has failures after
// clean ones, and OK when a clean poll follows failures (see status.go:
// errorOnEntry).
func (t *telemetry) reportStatus() {
	t.statusMu.Lock()
	err := t.pollErr
	t.pollErr = nil
	was := t.inErrState
	t.inErrState = err != nil
	t.statusMu.Unlock()
	switch {
	case err != nil && !was:
		componentstatus.ReportStatus(t.host, componentstatus.NewRecoverableErrorEvent(err))
	case err == nil && was:
		componentstatus.ReportStatus(t.host, componentstatus.NewEvent(componentstatus.StatusOK))
	}
}

// saveFailed reports a failed checkpoint write of folder id (component
// status); reading goes on, and the next write carries every change.
func (t *telemetry) saveFailed(id string) func(error) {
	return func(err error) {
		t.logger.Error("Cannot save checkpoint", zap.String("folder", id), zap.Error(err))
		componentstatus.ReportStatus(t.host, componentstatus.NewRecoverableErrorEvent(err))
	}
}

func (t *telemetry) countFailed(ctx context.Context, reason string) {
	t.tb.ReceiverAwscloudtrailObjectsFailed.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
}

// reasonMissingEventTime counts, in records_invalid, the records delivered
// without a Timestamp.
const reasonMissingEventTime = "missing_event_time"

// Every value of the attributes of the counters that alerts watch.
var (
	failedReasons = []string{
		reasonNotFound, reasonAccessDenied, reasonThrottled, reasonS3Error, reasonConsumer,
		objectreader.ReasonCorruptGzip, objectreader.ReasonInvalidJSON, objectreader.ReasonTruncated,
		objectreader.ReasonNotCloudTrail, objectreader.ReasonRecordTooLarge, objectreader.ReasonReadError,
	}
	invalidReasons = []string{
		recordstream.ReasonNotAnObject, recordstream.ReasonTooDeep, recordstream.ReasonNumberOutOfRange, reasonMissingEventTime,
	}
	sqsOutcomes      = []string{outcomeReceived, outcomeDeleted, outcomeFailed, outcomeIgnored}
	findingsStatuses = []string{
		integrity.StatusModified, integrity.StatusMissing, integrity.StatusUnsigned, integrity.StatusBadSignature, integrity.StatusChainBroken,
	}
)

// zeroCounters makes the counters that alerts watch exist at 0, one series
// per value of their attribute, from the start: Prometheus' increase()
// does not see the first increment of a series that appears with it.
func zeroCounters(tb *metadata.TelemetryBuilder, cfg *Config) {
	ctx := context.Background()
	zero := func(c metric.Int64Counter, key string, values []string) {
		for _, v := range values {
			c.Add(ctx, 0, metric.WithAttributes(attribute.String(key, v)))
		}
	}
	zero(tb.ReceiverAwscloudtrailObjectsFailed, "reason", failedReasons)
	zero(tb.ReceiverAwscloudtrailRecordsInvalid, "reason", invalidReasons)
	if cfg.SQS.HasValue() {
		zero(tb.ReceiverAwscloudtrailSqsMessages, "outcome", sqsOutcomes)
	}
	if cfg.Integrity.Enabled {
		zero(tb.ReceiverAwscloudtrailIntegrityFindings, "status", findingsStatuses)
	}
}
