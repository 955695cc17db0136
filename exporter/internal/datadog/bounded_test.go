package datadog_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// Bounds of an in-memory sending queue that keep the collector's peak RSS
// under 500 MB (README, "Memory": 5,000 records per queue measured at
// ~310 MB behind a slow intake; 10,000 passed 590 MB). A record is ~1.2 KB
// in the bytes sizer's (protobuf) measure.
const (
	maxQueueItems = 5_000
	maxQueueBytes = 6 << 20
)

// shared returns the settings both exporters share.
func shared(t *testing.T, cfg component.Config) datadog.ExporterConfig {
	switch c := cfg.(type) {
	case *datadoglogsexporter.Config:
		return *c.Shared()
	case *datadogeventsexporter.Config:
		return *c.Shared()
	}
	t.Fatalf("unexpected config %T", cfg)
	return datadog.ExporterConfig{}
}

// TestShippedConfigsAreBounded: the defaults and the exporters of every
// configuration this repository ships keep memory bounded (a queue sized
// in items or bytes, not in requests of any size), never make the
// pipeline refuse data (the logs queue blocks; the events exporter blocks
// or sheds) and never drop a log record on a timer (logs retry until
// shutdown).
func TestShippedConfigsAreBounded(t *testing.T) {
	factories := map[string]exporter.Factory{
		"datadoglogs":   datadoglogsexporter.NewFactory(),
		"datadogevents": datadogeventsexporter.NewFactory(),
	}
	tests := []struct {
		name string
		file string // "" for the defaults
	}{
		{name: "defaults"},
		{name: "examples/aws.yaml", file: filepath.Join("..", "..", "..", "examples", "aws.yaml")},
		{name: "testdata/demo/config.yaml", file: filepath.Join("..", "..", "..", "testdata", "demo", "config.yaml")},
		{name: "e2e/testdata/durable.yaml", file: filepath.Join("..", "..", "..", "e2e", "testdata", "durable.yaml")},
		{name: "e2e/testdata/processors.yaml", file: filepath.Join("..", "..", "..", "e2e", "testdata", "processors.yaml")},
	}
	for _, tt := range tests {
		for typ, f := range factories {
			t.Run(tt.name+"/"+typ, func(t *testing.T) {
				cfg := f.CreateDefaultConfig()
				if tt.file != "" {
					cm, err := confmaptest.LoadConf(tt.file)
					require.NoError(t, err)
					exps, err := cm.Sub("exporters")
					require.NoError(t, err)
					sub, err := exps.Sub(typ)
					require.NoError(t, err)
					require.NotEmpty(t, sub.AllKeys(), "the file configures %s", typ)
					require.NoError(t, sub.Unmarshal(cfg))
				}
				c := shared(t, cfg)
				require.True(t, c.QueueConfig.HasValue(), "a sending queue is enabled")
				q := c.QueueConfig.Get()
				require.NoError(t, q.Validate())
				if q.StorageID == nil {
					switch q.Sizer {
					case exporterhelper.RequestSizerTypeItems:
						assert.LessOrEqual(t, q.QueueSize, int64(maxQueueItems), "queue_size (records)")
					case exporterhelper.RequestSizerTypeBytes:
						assert.LessOrEqual(t, q.QueueSize, int64(maxQueueBytes), "queue_size (bytes)")
					default:
						t.Errorf("an in-memory queue sized in %s holds requests of any size", q.Sizer.String())
					}
				}
				if typ == "datadoglogs" {
					assert.True(t, q.BlockOnOverflow, "a full logs queue blocks the receiver instead of refusing")
					assert.Equal(t, time.Duration(0), c.RetryConfig.MaxElapsedTime, "log records are retried until shutdown")
				}
				assert.True(t, c.RetryConfig.Enabled)
			})
		}
	}
}
