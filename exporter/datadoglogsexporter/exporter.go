package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"context"
	"errors"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ratelog"
)

// Datadog accepts log timestamps from 18 h in the past to 2 h ahead.
const (
	maxAge   = 18 * time.Hour
	maxAhead = 2 * time.Hour
)

type logsExporter struct {
	cfg    *Config
	set    exporter.Settings
	client *datadog.Client // made by start
	logger *zap.Logger
	warn   *ratelog.Limiter // repeated warnings once per minute, with a count
	tb     *metadata.TelemetryBuilder
	now    func() time.Time
}

func newLogsExporter(set exporter.Settings, cfg *Config) (*logsExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &logsExporter{
		cfg:    cfg,
		set:    set,
		logger: set.Logger,
		warn:   ratelog.New(set.Logger, time.Minute),
		tb:     tb,
		now:    time.Now,
	}, nil
}

// start makes the HTTP client: proxy, TLS, headers and the auth or
// middleware extensions of the host (confighttp).
func (e *logsExporter) start(ctx context.Context, host component.Host) error {
	hc, err := e.cfg.HTTPClient(ctx, host, e.set.TelemetrySettings)
	if err != nil {
		return err
	}
	e.client = datadog.NewClient(hc, datadog.LogsURL(e.cfg.API.Site, e.cfg.ClientConfig.Endpoint), e.cfg.API.Key, e.cfg.Compression, e.set.BuildInfo.Version)
	return nil
}

func (e *logsExporter) shutdown(context.Context) error {
	if e.client != nil {
		e.client.Close()
	}
	e.warn.Stop()
	e.tb.Shutdown()
	return nil
}

// batch is the entries of one request, in record order.
type batch struct {
	entries [][]byte
	size    int
}

// pushLogs encodes every record as one entry and sends them in requests of
// at most MaxEntries entries and MaxPayloadBytes bytes. When a request
// fails, the records from that request on are returned for retry
// (consumererror.Logs), so that what was accepted is not sent again.
func (e *logsExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	enc := encoder{ddsource: e.cfg.DDSource, hostname: e.cfg.Hostname, ct: e.cfg.CloudTrail, extraTags: e.cfg.ExtraTags}
	var b batch
	sent := 0 // records accepted by the intake
	truncated := 0
	outside := 0 // entries Datadog will drop for their timestamp
	now := e.now()
	flush := func() error {
		n, err := e.send(ctx, b.entries)
		sent += n
		b = batch{}
		return err
	}
	var err error
	// A failed request stops the whole batch (every loop, not only the
	// innermost): the records from the first one not accepted on are
	// returned for retry, none is encoded or sent after it.
records:
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if ts := lr.Timestamp(); ts != 0 && (now.Sub(ts.AsTime()) > maxAge || ts.AsTime().Sub(now) > maxAhead) {
					outside++
				}
				entry, cut := enc.encode(nil, rl.Resource(), lr)
				if cut {
					truncated++
					id := datadog.ReadRecord(rl.Resource(), lr).EventID
					e.warn.Warn("Log entry larger than the intake's 1 MB limit was truncated; see dd_truncated_fields",
						zap.String("event_id", id))
				}
				if len(b.entries) > 0 && (len(b.entries) >= e.cfg.MaxEntries || b.size+len(entry)+1 > e.cfg.MaxPayloadBytes-2) {
					if err = flush(); err != nil {
						break records
					}
				}
				b.entries = append(b.entries, entry)
				b.size += len(entry) + 1
			}
		}
	}
	if err == nil && len(b.entries) > 0 {
		err = flush()
	}
	if truncated > 0 {
		e.tb.ExporterDatadoglogsEntriesTruncated.Add(ctx, int64(truncated))
	}
	if outside > 0 {
		e.tb.ExporterDatadoglogsEntriesOutsideWindow.Add(ctx, int64(outside))
		e.warn.Warn("Sending log entries whose timestamps Datadog does not accept (more than 18 h old or 2 h ahead): the intake drops them",
			zap.Int("entries", outside))
	}
	if err == nil {
		return nil
	}
	if consumererror.IsPermanent(err) {
		return err
	}
	return consumererror.NewLogs(err, datadog.SelectLogs(ld, func(i int) bool { return i >= sent }))
}

// send posts entries as one request; on 413 it splits them in halves and
// sends each. It returns how many entries (from the first) were accepted.
func (e *logsExporter) send(ctx context.Context, entries [][]byte) (int, error) {
	payload := make([]byte, 0, 2+len(entries)*1500)
	payload = append(payload, '[')
	for i, en := range entries {
		if i > 0 {
			payload = append(payload, ',')
		}
		payload = append(payload, en...)
	}
	payload = append(payload, ']')
	resp, err := e.post(ctx, payload)
	e.tb.ExporterDatadoglogsPayloadBytes.Add(ctx, int64(resp.Sent))
	e.tb.ExporterDatadoglogsPayloads.Add(ctx, 1, metric.WithAttributes(attribute.String("status", statusClass(resp.Status))))
	if errors.Is(err, datadog.ErrTooLarge) && len(entries) > 1 {
		half := len(entries) / 2
		e.logger.Debug("Logs intake answered 413; splitting the request", zap.Int("entries", len(entries)))
		n, err := e.send(ctx, entries[:half])
		if err != nil {
			return n, err
		}
		m, err := e.send(ctx, entries[half:])
		return n + m, err
	}
	if errors.Is(err, datadog.ErrTooLarge) {
		// One entry alone is refused: it cannot be sent in any request.
		e.logger.Error("Logs intake refused a single entry as too large; it is dropped", zap.Int("bytes", len(entries[0])), zap.Error(err))
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	return len(entries), nil
}

// post sends one request within `timeout`. The timeout is per request, not
// per batch: a batch of several requests that outlasted one timeout would
// be cut in the middle of a request the intake may already have stored.
func (e *logsExporter) post(ctx context.Context, payload []byte) (datadog.Response, error) {
	if e.cfg.ClientConfig.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.ClientConfig.Timeout)
		defer cancel()
	}
	return e.client.Post(ctx, payload)
}

func statusClass(status int) string {
	if status == 0 {
		return "network_error"
	}
	return strconv.Itoa(status/100) + "xx"
}
