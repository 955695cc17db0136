package datadog_test

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// benchPayload returns a logs request of 1000 generated CloudTrail records
// as the JSON array the logs exporter sends (the record's fields plus a
// few Datadog fields), and its record count.
func benchPayload() ([]byte, int) {
	g := trailgen.New(7, "123456789012", "us-east-1")
	now := time.Now()
	out := []byte{'['}
	const n = 1000
	for i := 0; i < n; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		lr := plog.NewLogRecord()
		_ = lr.Body().SetEmptyMap().FromRaw(g.Record(now.Add(-time.Duration(i) * time.Millisecond)))
		lr.Body().Map().PutStr("ddsource", "cloudtrail")
		lr.Body().Map().PutStr("service", "cloudtrail")
		lr.Body().Map().PutStr("ddtags", "aws_account:123456789012,region:us-east-1,aws_service:ec2,event_name:RunInstances,priority:normal")
		out = datadog.AppendMap(out, lr.Body().Map())
	}
	return append(out, ']'), n
}

// BenchmarkCompress measures the CPU per record and the ratio of each
// compression at sensible levels on a real-shaped logs request.
func BenchmarkCompress(b *testing.B) {
	payload, n := benchPayload()
	for _, tt := range []struct {
		name  string
		typ   configcompression.Type
		level configcompression.Level
	}{
		{"gzip-1", "gzip", 1}, {"gzip-5", "gzip", 5}, {"gzip-6", "gzip", 6},
		{"zstd-1", "zstd", 1}, {"zstd-3", "zstd", 3}, {"zstd-6", "zstd", 6},
	} {
		b.Run(tt.name, func(b *testing.B) {
			c, err := datadog.NewCompressor(tt.typ, tt.level)
			if err != nil {
				b.Fatal(err)
			}
			var out []byte // reused, as the client's pooled request bodies are
			b.SetBytes(int64(len(payload)))
			cpu := datadogtest.CPUTime()
			for b.Loop() {
				out = c.AppendCompressed(out[:0], payload)
			}
			b.ReportMetric(float64((datadogtest.CPUTime()-cpu).Nanoseconds())/float64(n*b.N), "cpu-ns/record")
			b.ReportMetric(float64(len(payload))/float64(len(out)), "ratio")
			b.ReportMetric(float64(len(payload))/float64(n), "bytes/record")
		})
	}
}
