package datadoglogsexporter

import (
	"context"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
)

// BenchmarkPushLogs encodes, compresses and posts 1000 generated CloudTrail
// records to a local server that discards them, for each body mode and
// compression. Run with GOMAXPROCS=1 (-cpu 1) for records/s per core.
func BenchmarkPushLogs(b *testing.B) {
	for _, zip := range []string{datadog.CompressionGzip, datadog.CompressionZstd, datadog.CompressionNone} {
		for _, mode := range datadogtest.Modes {
			b.Run(zip+"/"+mode, func(b *testing.B) {
				srv := datadogtest.DiscardServer()
				defer srv.Close()
				cfg := testConfig(srv.URL)
				cfg.ClientConfig.Compression = "" // set below
				_ = cfg.ClientConfig.Compression.UnmarshalText([]byte(zip))
				te := newTestExporter(b, cfg)
				ld := datadogtest.BenchLogs(1000, time.Now(), mode)
				b.ReportAllocs()
				cpu := datadogtest.CPUTime()
				for b.Loop() {
					if err := te.exp.pushLogs(context.Background(), ld); err != nil {
						b.Fatal(err)
					}
				}
				used := datadogtest.CPUTime() - cpu
				b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(used.Nanoseconds())/float64(1000*b.N), "cpu-ns/record")
				b.ReportMetric(float64(1000*b.N)/used.Seconds(), "records/cpu-s")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
