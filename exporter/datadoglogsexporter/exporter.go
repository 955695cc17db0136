package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// Datadog accepts log timestamps from 18 h in the past to 2 h ahead.
const (
	maxAge   = 18 * time.Hour
	maxAhead = 2 * time.Hour
)

type logsExporter struct {
	*datadog.Exporter
	cfg *Config
	tb  *metadata.TelemetryBuilder
	now func() time.Time
}

func newLogsExporter(set exporter.Settings, cfg *Config) (*logsExporter, error) {
	zip, err := cfg.Shared().Compressor()
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	// At 0 from the start, so that an alert's increase() sees the first drop.
	tb.ExporterDatadoglogsEntriesDropped.Add(context.Background(), 0, metric.WithAttributes(attribute.String("reason", reasonTooLarge)))
	url := datadog.LogsURL(cfg.API.Site, cfg.ClientConfig.Endpoint)
	return &logsExporter{
		Exporter: datadog.NewExporter(set, cfg.Shared(), url, zip, tb.Shutdown),
		cfg:      cfg,
		tb:       tb,
		now:      time.Now,
	}, nil
}

// batch is the entries of one request, in record order, encoded in one
// buffer: "[" then the entries separated by commas (the closing bracket
// is added when sent); ends holds where each entry ends.
type batch struct {
	buf  []byte
	ends []int
	// enc is reused with the batch (its buffers grow to the largest record).
	enc encoder
}

// payloads reuses request buffers (up to max_payload_bytes each) and
// their encoders.
var payloads = sync.Pool{New: func() any { return new(batch) }}

// pushLogs encodes every record as one entry and sends them in requests of
// at most MaxEntries entries and MaxPayloadBytes bytes. When a request
// fails, the records from that request on are returned for retry
// (consumererror.Logs), so that what was accepted is not sent again.
func (e *logsExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	b := payloads.Get().(*batch)
	defer payloads.Put(b)
	enc := &b.enc
	defer enc.release()
	enc.ddsource, enc.hostname, enc.ct, enc.extraTags, enc.malformed = e.cfg.DDSource, e.cfg.Hostname, e.cfg.CloudTrail, e.cfg.ExtraTags, 0
	b.buf, b.ends = append(b.buf[:0], '['), b.ends[:0]
	var spare []byte     // an entry moved to the next request
	sent := 0            // records accepted by the intake
	var truncated [2]int // by reason: shortened, dropped
	outside := 0         // entries Datadog will drop for their timestamp
	now := e.now()
	flush := func() error {
		n, err := e.send(ctx, b.buf, b.ends, 0, len(b.ends))
		sent += n
		b.buf, b.ends = append(b.buf[:0], '['), b.ends[:0]
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
				before := len(b.buf)
				if len(b.ends) > 0 {
					b.buf = append(b.buf, ',')
				}
				start := len(b.buf)
				var cut *truncation
				b.buf, cut = enc.encode(b.buf, rl.Resource(), lr)
				if cut != nil {
					truncated[min(cut.dropped, 1)]++
					id := datadog.ReadRecord(rl.Resource(), lr).EventID
					e.Warn.Warn("Log entry larger than the intake's 1 MB limit was truncated; see dd_truncated_fields",
						zap.String("event_id", id), zap.String("reason", cut.reason()),
						zap.Int("fields_shortened", cut.shortened), zap.Int("fields_dropped", cut.dropped))
				}
				if len(b.ends) > 0 && (len(b.ends) >= e.cfg.MaxEntries || len(b.buf)+1 > e.cfg.MaxPayloadBytes) {
					// The entry goes to the next request.
					spare = append(spare[:0], b.buf[start:]...)
					b.buf = b.buf[:before]
					if err = flush(); err != nil {
						break records
					}
					b.buf = append(b.buf, spare...)
				}
				b.ends = append(b.ends, len(b.buf))
			}
		}
	}
	if err == nil && len(b.ends) > 0 {
		err = flush()
	}
	if enc.malformed > 0 {
		e.Logger.Warn("CloudTrail records whose body was not a JSON object were sent with the fields their attributes carry and the body as message",
			zap.Int("records", enc.malformed))
	}
	for i, reason := range [2]string{reasonShortened, reasonDropped} {
		if truncated[i] > 0 {
			e.tb.ExporterDatadoglogsEntriesTruncated.Add(ctx, int64(truncated[i]), metric.WithAttributes(attribute.String("reason", reason)))
		}
	}
	if outside > 0 {
		e.tb.ExporterDatadoglogsEntriesOutsideWindow.Add(ctx, int64(outside))
		e.Warn.Warn("Sending log entries whose timestamps Datadog does not accept (more than 18 h old or 2 h ahead): the intake drops them",
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

// send posts entries from to to (of a batch's buf and ends) as one
// request; on 413 it splits them in halves and sends each. It returns how
// many entries (from the first) were accepted.
func (e *logsExporter) send(ctx context.Context, buf []byte, ends []int, from, to int) (int, error) {
	var payload []byte
	if from == 0 && to == len(ends) {
		payload = append(buf, ']') // buf has room or grows; only payload sees the bracket
	} else {
		start := 1 // after "["
		if from > 0 {
			start = ends[from-1] + 1 // after the comma
		}
		payload = make([]byte, 0, ends[to-1]-start+2)
		payload = append(append(append(payload, '['), buf[start:ends[to-1]]...), ']')
	}
	resp, err := e.post(ctx, payload)
	e.tb.ExporterDatadoglogsPayloadBytes.Add(ctx, int64(resp.Sent))
	e.tb.ExporterDatadoglogsPayloads.Add(ctx, 1, metric.WithAttributes(attribute.String("status", statusClass(resp.Status))))
	if n := to - from; errors.Is(err, datadog.ErrTooLarge) && n > 1 {
		half := from + n/2
		e.Logger.Debug("Logs intake answered 413; splitting the request", zap.Int("entries", n))
		k, err := e.send(ctx, buf, ends, from, half)
		if err != nil {
			return k, err
		}
		m, err := e.send(ctx, buf, ends, half, to)
		return k + m, err
	}
	if errors.Is(err, datadog.ErrTooLarge) {
		// One entry alone is refused: it cannot be sent in any request.
		// Entries are truncated to the intake's limit, so a limit lower
		// than Datadog's (a proxy's) refused it: name the record.
		entry := payload[1 : len(payload)-1]
		e.tb.ExporterDatadoglogsEntriesDropped.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reasonTooLarge)))
		e.Logger.Error("Logs intake refused a single entry as too large; it is dropped",
			zap.String("event_id", entryEventID(entry)), zap.Int("bytes", len(entry)), zap.Error(err))
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	return to - from, nil
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
	return e.Client.Post(ctx, payload)
}

func statusClass(status int) string {
	if status == 0 {
		return "network_error"
	}
	return strconv.Itoa(status/100) + "xx"
}

// reasonTooLarge is the reason of an entry dropped after a 413 alone.
const reasonTooLarge = "too_large"

// entryEventID returns the eventID member of an encoded entry, "" when it
// has none.
func entryEventID(entry []byte) string {
	sc, ok := datadog.ScanObject(entry, nil)
	if !ok {
		return ""
	}
	for _, m := range sc.Members {
		if m.Key(entry) == "eventID" {
			var id string
			_ = json.Unmarshal(entry[m.ValueStart:m.ValueEnd], &id)
			return id
		}
	}
	return ""
}
