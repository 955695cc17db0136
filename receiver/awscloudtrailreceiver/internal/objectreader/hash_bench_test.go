package objectreader

import (
	"bytes"
	stdgzip "compress/gzip"
	"crypto/sha256"
	"hash"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

var hashBenchFile = sync.OnceValues(func() ([]byte, int) { return generate(8 << 20) })

// BenchmarkIntegrityOverhead measures what integrity validation adds to
// the receiver's reading path: the SHA-256 of the uncompressed content fed
// while streaming (Object.Hash). Each iteration reads the same 8 MB file
// without and with the hash, in alternating order; overhead_% is the median
// over iterations of hashed/plain − 1, measured in this same run (a shared
// machine makes single timings noisy; the pairs and the median are not).
// sha256_% is the time of hashing the content alone over the plain read.
func BenchmarkIntegrityOverhead(b *testing.B) {
	gz, n := hashBenchFile()
	zr, err := stdgzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	b.SetBytes(int64(len(raw)))
	r := New(Options{MaxBatchRecords: 1000, Mapper: mapping.New(ctattr.DefaultNormalServices, false), ScopeName: "bench"})
	read := func(h hash.Hash) time.Duration {
		obj := Object{Bucket: "b", Key: "k", Account: "123456789012", Region: "us-east-1", Hash: h}
		start := time.Now()
		st, err := r.Read(bytes.NewReader(gz), obj, 0, func(Batch) error { return nil })
		if err != nil || st.Records != n {
			b.Fatalf("read %d records, %v", st.Records, err)
		}
		return time.Since(start)
	}
	var ratios, shaRatios []float64
	i := 0
	for b.Loop() {
		var plain, hashed time.Duration
		if i%2 == 0 {
			plain, hashed = read(nil), read(sha256.New())
		} else {
			hashed, plain = read(sha256.New()), read(nil)
		}
		start := time.Now()
		sum := sha256.Sum256(raw)
		sha := time.Since(start)
		_ = sum
		ratios = append(ratios, hashed.Seconds()/plain.Seconds()-1)
		shaRatios = append(shaRatios, sha.Seconds()/plain.Seconds())
		i++
	}
	slices.Sort(ratios)
	slices.Sort(shaRatios)
	b.ReportMetric(100*ratios[len(ratios)/2], "overhead_%")
	b.ReportMetric(100*shaRatios[len(shaRatios)/2], "sha256_%")
}
