package datadog

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// BenchmarkScanObject validates generated CloudTrail records' JSON text.
func BenchmarkScanObject(b *testing.B) {
	g := trailgen.New(7, "123456789012", "us-east-1")
	var texts [][]byte
	size := 0
	for i := 0; i < 1000; i++ {
		t, _ := json.Marshal(g.Record(time.Now()))
		texts = append(texts, t)
		size += len(t)
	}
	var spans []Span
	b.SetBytes(int64(size / len(texts)))
	i := 0
	for b.Loop() {
		sc, ok := ScanObject(texts[i%len(texts)], spans)
		if !ok {
			b.Fatal("invalid")
		}
		spans = sc.Members
		i++
	}
}

func BenchmarkJSONValid(b *testing.B) {
	g := trailgen.New(7, "123456789012", "us-east-1")
	t, _ := json.Marshal(g.Record(time.Now()))
	b.SetBytes(int64(len(t)))
	for b.Loop() {
		if !json.Valid(t) {
			b.Fatal()
		}
	}
}
