package datadog

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ratelog"
)

// Exporter is the run-time part both exporters share: their settings and
// the Client that Start makes. Each exporter embeds it.
type Exporter struct {
	Set    exporter.Settings
	Logger *zap.Logger
	// Warn writes repeated warnings once per minute, with a count.
	Warn *ratelog.Limiter
	// Client posts to the intake; nil before Start.
	Client *Client

	cfg        *ExporterConfig
	url        string
	zip        *Compressor
	onShutdown func()
}

// NewExporter returns the shared part of an exporter posting to url,
// compressing with zip (nil: none); onShutdown (optional) runs at
// Shutdown, after the client is closed.
func NewExporter(set exporter.Settings, cfg *ExporterConfig, url string, zip *Compressor, onShutdown func()) *Exporter {
	return &Exporter{Set: set, Logger: set.Logger, Warn: ratelog.New(set.Logger, time.Minute), cfg: cfg, url: url, zip: zip, onShutdown: onShutdown}
}

// Start makes the HTTP client: proxy, TLS, headers and the auth or
// middleware extensions of host (confighttp).
func (e *Exporter) Start(ctx context.Context, host component.Host) error {
	hc, err := e.cfg.HTTPClient(ctx, host, e.Set.TelemetrySettings)
	if err != nil {
		return err
	}
	e.Client = NewClient(hc, e.url, e.cfg.API.Key, e.zip, e.Set.BuildInfo.Version)
	return nil
}

// Shutdown closes the client's connections.
func (e *Exporter) Shutdown(context.Context) error {
	if e.Client != nil {
		e.Client.Close()
	}
	e.Warn.Stop()
	if e.onShutdown != nil {
		e.onShutdown()
	}
	return nil
}

// NewLogs wraps push the way both exporters are built: exporterhelper with
// the configuration's retry and sending queue, `timeout` per request (the
// exporters bound each request themselves, not the whole batch), e's
// Start and Shutdown; then wrap (optional) and SplitForQueue, so that a
// batch larger than the queue is offered in parts.
func NewLogs(ctx context.Context, set exporter.Settings, cfg component.Config, shared *ExporterConfig, e *Exporter,
	push consumer.ConsumeLogsFunc, wrap func(exporter.Logs) exporter.Logs,
) (exporter.Logs, error) {
	helper, err := exporterhelper.NewLogs(ctx, set, cfg, push,
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{}),
		exporterhelper.WithRetry(shared.RetryConfig),
		exporterhelper.WithQueue(shared.QueueConfig),
		exporterhelper.WithStart(e.Start),
		exporterhelper.WithShutdown(e.Shutdown),
	)
	if err != nil {
		return nil, err
	}
	helper = CrashSafeQueue(helper, shared.QueueConfig)
	if wrap != nil {
		helper = wrap(helper)
	}
	return SplitForQueue(helper, shared.QueueConfig), nil
}
