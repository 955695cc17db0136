package datadoglogsexporter

import (
	"context"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// BenchmarkPushLogs encodes, compresses and posts 1000 CloudTrail records
// to a local server that discards them.
func BenchmarkPushLogs(b *testing.B) {
	srv := datadog.DiscardServer()
	defer srv.Close()
	cfg := testConfig(srv.URL)
	te := newTestExporter(b, cfg)
	ld := datadog.BenchLogs(1000, time.Now())
	b.ReportAllocs()
	for b.Loop() {
		if err := te.exp.pushLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "ns/op")
}
