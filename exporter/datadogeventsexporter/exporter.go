package datadogeventsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// maxAge is how old an event may be for the Events API.
const maxAge = 18 * time.Hour

// Reasons a record makes no event.
const (
	skipBelowPriority = "below_min_priority"
	skipReadOnly      = "read_only"
	skipTooOld        = "too_old"
	skipRejected      = "rejected"
)

type eventsExporter struct {
	*datadog.Exporter
	cfg *Config
	tb  *metadata.TelemetryBuilder
	now func() time.Time
}

func newEventsExporter(set exporter.Settings, cfg *Config) (*eventsExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	// The Events API takes uncompressed requests.
	return &eventsExporter{
		Exporter: datadog.NewExporter(set, cfg.Shared(), eventsURL(cfg), nil, tb.Shutdown),
		cfg:      cfg,
		tb:       tb,
		now:      time.Now,
	}, nil
}

// job is one event to post, with the index of its record.
type job struct {
	index int
	ev    event
}

// pushLogs posts one event per qualifying record, Concurrency at a time.
// After a retryable failure no new event is posted, and the records not
// accepted are returned for retry (consumererror.Logs): accepted events
// are not posted twice.
func (e *eventsExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	var jobs []job
	skipped := map[string]int64{}
	i := 0
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				rec := datadog.ReadRecord(rl.Resource(), lr)
				if reason := e.skip(rec); reason != "" {
					skipped[reason]++
				} else {
					jobs = append(jobs, job{index: i, ev: buildEvent(rec, rl.Resource(), lr, e.cfg)})
				}
				i++
			}
		}
	}
	if n := skipped[skipTooOld]; n > 0 {
		e.Warn.Warn("Records older than the Events API accepts (18 h) make no event; they are still sent as logs by datadoglogs",
			zap.Int64("records", n))
	}

	var (
		mu        sync.Mutex
		failed    = map[int]bool{}
		firstErr  error
		permanent error
		stop      atomic.Bool
	)
	next := make(chan job)
	var wg sync.WaitGroup
	for range min(e.cfg.Concurrency, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if stop.Load() {
					mu.Lock()
					failed[j.index] = true
					mu.Unlock()
					continue
				}
				err := e.post(ctx, j.ev)
				if err == nil {
					e.tb.ExporterDatadogeventsEventsSent.Add(ctx, 1, metric.WithAttributes(attribute.String("priority", j.ev.Priority)))
					continue
				}
				var he *datadog.HTTPError
				mu.Lock()
				switch {
				case errors.As(err, &he) && (he.Status == http.StatusBadRequest || he.Status == http.StatusRequestEntityTooLarge):
					// This event can never be accepted (invalid, or too
					// large: an event cannot be split); the others can.
					skipped[skipRejected]++
					e.Logger.Error("Events API rejected an event", zap.String("title", j.ev.Title), zap.Error(err))
				case consumererror.IsPermanent(err):
					if permanent == nil {
						permanent = err
					}
					stop.Store(true)
				default:
					failed[j.index] = true
					if firstErr == nil {
						firstErr = err
					}
					stop.Store(true)
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for reason, n := range skipped {
		e.tb.ExporterDatadogeventsEventsSkipped.Add(ctx, n, metric.WithAttributes(attribute.String("reason", reason)))
	}
	switch {
	case permanent != nil:
		return permanent
	case firstErr != nil:
		return consumererror.NewLogs(firstErr, datadog.SelectLogs(ld, func(i int) bool { return failed[i] }))
	}
	return nil
}

// skip names why a record makes no event, or returns "".
func (e *eventsExporter) skip(rec datadog.Record) string {
	switch {
	case e.cfg.MinPriority == ctattr.PriorityNormal && rec.Priority != ctattr.PriorityNormal:
		return skipBelowPriority
	case rec.ReadOnly && !e.cfg.IncludeReadOnly:
		return skipReadOnly
	case !rec.Time.IsZero() && e.now().Sub(rec.Time) > maxAge:
		return skipTooOld
	}
	return ""
}

func (e *eventsExporter) post(ctx context.Context, ev event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return consumererror.NewPermanent(err)
	}
	// The timeout is per event, not per batch (see datadoglogs).
	if e.cfg.ClientConfig.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.ClientConfig.Timeout)
		defer cancel()
	}
	resp, err := e.Client.Post(ctx, b)
	e.tb.ExporterDatadogeventsPayloadBytes.Add(ctx, int64(resp.Sent))
	return err
}

func eventsURL(cfg *Config) string { return datadog.EventsURL(cfg.API.Site, cfg.ClientConfig.Endpoint) }
