package datadogeventsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// NewFactory returns the factory of the datadogevents exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createEventsExporter, metadata.LogsStability))
}

func createEventsExporter(ctx context.Context, set exporter.Settings, c component.Config) (exporter.Logs, error) {
	cfg := c.(*Config)
	set.Logger = withoutQueueFullErrors(set.Logger)
	exp, err := newEventsExporter(set, cfg)
	if err != nil {
		return nil, err
	}
	// Shed before splitting, so that each part that finds the queue full is shed alone.
	return datadog.NewLogs(ctx, set, cfg, cfg.Shared(), exp.Exporter, exp.pushLogs, func(helper exporter.Logs) exporter.Logs {
		return &shedding{Logs: helper, exp: exp, after: cfg.ShedAfter}
	})
}

// skipQueueFull counts records shed because the sending queue was full.
const skipQueueFull = "queue_full"

// shedding drops a batch, counted and logged, when the sending queue stays
// full for `after`, instead of refusing it. A refusal would make the
// collector's fan-out fail the whole pipeline, and the receiver would send
// the batch again to every exporter: the datadoglogs exporter would get it
// twice. Waiting first (the receiver waits with it) keeps every event of a
// backfill, where the queue is full only because the Events API takes one
// event per call. Once a batch was shed (the Events API down or
// rate-limited for long), the next ones are shed at once until the queue
// takes a batch again, so that the logs are held back only once. Events
// are derived from log records that datadoglogs keeps: shedding loses no
// record.
type shedding struct {
	exporter.Logs
	exp      *eventsExporter
	after    time.Duration
	shedding atomic.Bool
	lastWarn atomic.Int64
}

func (s *shedding) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	deadline := time.Now().Add(s.after)
	wait := 10 * time.Millisecond
	for {
		err := s.Logs.ConsumeLogs(ctx, ld)
		if !errors.Is(err, exporterhelper.ErrQueueIsFull) {
			if err == nil {
				s.shedding.Store(false)
			}
			return err
		}
		if s.shedding.Load() || !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
	s.shedding.Store(true)
	n := ld.LogRecordCount()
	s.exp.tb.ExporterDatadogeventsEventsSkipped.Add(ctx, int64(n), metric.WithAttributes(attribute.String("reason", skipQueueFull)))
	// One line every 10 s at most: a long outage must not flood the log.
	now := time.Now().UnixNano()
	if last := s.lastWarn.Load(); now-last >= int64(10*time.Second) && s.lastWarn.CompareAndSwap(last, now) {
		s.exp.Logger.Warn("Events API sending queue stayed full for shed_after: records make no event (counted in otelcol_exporter_datadogevents_events_skipped{reason=\"queue_full\"}); their logs are still sent by datadoglogs",
			zap.Int("records", n), zap.Duration("shed_after", s.after))
	}
	return nil
}
