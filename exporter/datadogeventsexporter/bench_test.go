package datadogeventsexporter

import (
	"context"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
)

// BenchmarkPushEvents builds and posts one event for each of 1000 CloudTrail
// records to a local server that discards them.
func BenchmarkPushEvents(b *testing.B) {
	srv := datadogtest.DiscardServer()
	defer srv.Close()
	now := time.Now()
	cfg := testConfig(srv.URL)
	te := newTestExporter(b, cfg, now)
	ld := datadogtest.BenchLogs(1000, now, datadogtest.ModeMap)
	b.ReportAllocs()
	for b.Loop() {
		if err := te.exp.pushLogs(context.Background(), ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "ns/op")
}
