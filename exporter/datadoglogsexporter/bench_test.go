package datadoglogsexporter

import (
	"context"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
)

// BenchmarkPushLogs encodes, compresses and posts 1000 CloudTrail records
// to a local server that discards them.
func BenchmarkPushLogs(b *testing.B) {
	srv := datadogtest.DiscardServer()
	defer srv.Close()
	cfg := testConfig(srv.URL)
	te := newTestExporter(b, cfg)
	ld := datadogtest.BenchLogs(1000, time.Now(), datadogtest.ModeMap)
	b.ReportAllocs()
	for b.Loop() {
		if err := te.exp.pushLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "ns/op")
}
