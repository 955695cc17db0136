package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// NewFactory returns the factory of the datadoglogs exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithLogs(createLogsExporter, metadata.LogsStability))
}

func createLogsExporter(ctx context.Context, set exporter.Settings, c component.Config) (exporter.Logs, error) {
	cfg := c.(*Config)
	exp, err := newLogsExporter(set, cfg)
	if err != nil {
		return nil, err
	}
	return datadog.NewLogs(ctx, set, cfg, cfg.Shared(), exp.Exporter, exp.pushLogs, nil)
}
