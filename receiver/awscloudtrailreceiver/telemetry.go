package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
)

// progressEvery is how often progress is logged while objects are read.
const progressEvery = 30 * time.Second

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

	progressMu   sync.Mutex
	progress     progressCounts
	lastProgress time.Time
}

type progressCounts struct {
	objects, records int64
	newest           time.Time
}

// noteError records a failure of the current poll for the component status.
func (t *telemetry) noteError(err error) {
	t.statusMu.Lock()
	defer t.statusMu.Unlock()
	if t.pollErr == nil {
		t.pollErr = err
	}
}

// reportStatus reports a recoverable error when the poll had failures, and
// OK when a clean poll follows failures.
func (t *telemetry) reportStatus() {
	t.statusMu.Lock()
	err := t.pollErr
	t.pollErr = nil
	was := t.inErrState
	t.inErrState = err != nil
	t.statusMu.Unlock()
	switch {
	case err != nil:
		componentstatus.ReportStatus(t.host, componentstatus.NewRecoverableErrorEvent(err))
	case was:
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

func (t *telemetry) addProgress(objects, records int64, newest time.Time) {
	t.progressMu.Lock()
	t.progress.objects += objects
	t.progress.records += records
	if newest.After(t.progress.newest) {
		t.progress.newest = newest
	}
	t.progressMu.Unlock()
	t.logProgress(false)
}

// logProgress logs what was read since the last progress line, every
// progressEvery while reading (backfills), and at the end of a poll.
func (t *telemetry) logProgress(endOfPoll bool) {
	t.progressMu.Lock()
	defer t.progressMu.Unlock()
	if t.progress.objects == 0 && t.progress.records == 0 {
		return
	}
	if !endOfPoll && time.Since(t.lastProgress) < progressEvery {
		return
	}
	fields := []zap.Field{zap.Int64("objects", t.progress.objects), zap.Int64("records", t.progress.records)}
	if !t.progress.newest.IsZero() {
		fields = append(fields, zap.Time("newest_event_time", t.progress.newest))
	}
	t.logger.Info("CloudTrail progress", fields...)
	t.progress = progressCounts{}
	t.lastProgress = time.Now()
}
