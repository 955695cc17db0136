package datadog

import (
	"context"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
)

// SplitForQueue wraps an exporter whose sending queue is sized in log
// records so that a batch larger than the queue is offered in parts of at
// most half the queue. Offered whole, such a batch is refused by an
// in-memory queue ("element size too large", for ever: the receiver
// retries it without end) and waits for ever on a blocking persistent one.
func SplitForQueue(exp exporter.Logs, q configoptional.Optional[exporterhelper.QueueBatchConfig]) exporter.Logs {
	if !q.HasValue() || q.Get().Sizer != exporterhelper.RequestSizerTypeItems || q.Get().QueueSize < 1 {
		return exp
	}
	return &splitForQueue{Logs: exp, part: max(int(q.Get().QueueSize/2), 1), capacity: int(q.Get().QueueSize)}
}

type splitForQueue struct {
	exporter.Logs
	part, capacity int
}

// ConsumeLogs offers ld whole when the queue can hold it, else in parts.
// A part refused (the queue is shutting down, or the caller gave up
// waiting for room) fails the call with the records not queued
// (consumererror.Logs): the parts before it stay queued, and a caller that
// sends only those again delivers nothing twice.
func (s *splitForQueue) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	n := ld.LogRecordCount()
	if n <= s.capacity {
		return s.Logs.ConsumeLogs(ctx, ld)
	}
	for from := 0; from < n; from += s.part {
		to := min(from+s.part, n)
		if err := s.Logs.ConsumeLogs(ctx, SelectLogs(ld, func(i int) bool { return i >= from && i < to })); err != nil {
			if from == 0 {
				return err
			}
			return consumererror.NewLogs(err, SelectLogs(ld, func(i int) bool { return i >= from }))
		}
	}
	return nil
}
