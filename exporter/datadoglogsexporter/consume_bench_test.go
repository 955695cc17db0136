package datadoglogsexporter

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
)

// BenchmarkConsumeLogs runs the exporter's ConsumeLogs (as `make bench`
// does: no sending queue, no retry; select, encode, batch, gzip level 1,
// POST to a local server that discards) over batches of 1000 generated
// records read by the awscloudtrail receiver in each body mode. Run with
// -cpu 1 for records per CPU-second of one core.
func BenchmarkConsumeLogs(b *testing.B) {
	for _, mode := range datadogtest.Modes {
		b.Run(mode, func(b *testing.B) {
			batches := datadogtest.ReceiverBatches(b, 5, mode)
			n := 0
			for _, ld := range batches {
				n += ld.LogRecordCount()
			}
			srv := datadogtest.DiscardServer()
			defer srv.Close()
			f := NewFactory()
			cfg := f.CreateDefaultConfig().(*Config)
			cfg.API.Key = datadogtest.APIKey
			cfg.ClientConfig.Endpoint = srv.URL
			cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
			cfg.RetryConfig.Enabled = false
			exp, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
			if err != nil {
				b.Fatal(err)
			}
			if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = exp.Shutdown(context.Background()) }()
			consume := func(ld plog.Logs) {
				if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			cpu := datadogtest.CPUTime()
			for b.Loop() {
				for _, ld := range batches {
					consume(ld)
				}
			}
			used := datadogtest.CPUTime() - cpu
			b.ReportMetric(float64(used.Nanoseconds())/float64(n*b.N), "cpu-ns/record")
			b.ReportMetric(float64(n*b.N)/used.Seconds(), "records/cpu-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
