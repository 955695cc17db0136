package recordstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// largeShapes make one record of about size bytes, in the shapes that make
// records large: a long array of small objects, an object with many keys,
// one long string.
var largeShapes = []struct {
	name   string
	record func(size int) []byte
}{
	{name: "array", record: func(size int) []byte {
		var b bytes.Buffer
		b.WriteString(`{"eventName":"DescribeInstances","responseElements":{"items":[`)
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"instanceId":"i-%017x","state":{"code":16,"name":"running"},"cpu":%d.5,"tags":[{"key":"team","value":"t%d"}],"ebsOptimized":false}`, i, i%64, i%100)
		}
		b.WriteString(`]}}`)
		return b.Bytes()
	}},
	{name: "wide_object", record: func(size int) []byte {
		var b bytes.Buffer
		b.WriteString(`{"eventName":"GetParameters","requestParameters":{`)
		for i := 0; b.Len() < size; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"parameter-%d":"value-%d"`, i, i)
		}
		b.WriteString(`}}`)
		return b.Bytes()
	}},
	{name: "long_string", record: func(size int) []byte {
		return []byte(`{"eventName":"PutObject","errorMessage":"` + strings.Repeat("abcdefgh", size/8) + `"}`)
	}},
}

var largeSizes = []struct {
	name string
	size int
}{{"64KB", 64 << 10}, {"1MB", 1 << 20}, {"8MB", 8 << 20}}

// chunks is how the reader receives a log file: a decompressor hands out
// at most 32 KB at a time.
const chunks = 32 << 10

func logFile(record []byte) []byte {
	return append(append([]byte(`{"Records":[`), record...), `]}`...)
}

// BenchmarkLargeRecord reads one large record (reader: into pdata, as the
// receiver does; encoding_json: json.Unmarshal of the same file into Go
// maps, the baseline).
func BenchmarkLargeRecord(b *testing.B) {
	for _, sh := range largeShapes {
		for _, sz := range largeSizes {
			data := logFile(sh.record(sz.size))
			b.Run(sh.name+"/"+sz.name+"/reader", func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				r := NewReader(nil, 0)
				for b.Loop() {
					r.Reset(chunkReader{bytes.NewReader(data), chunks})
					if err := r.Next(pcommon.NewMap()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(sh.name+"/"+sz.name+"/reader_no_body", func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				r := NewReader(nil, 0)
				var f mapping.Fields
				for b.Loop() {
					r.Reset(chunkReader{bytes.NewReader(data), chunks})
					if _, err := r.Read(pcommon.Map{}, &f); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(sh.name+"/"+sz.name+"/encoding_json", func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					var doc struct{ Records []map[string]any }
					if err := json.Unmarshal(data, &doc); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkLargeRecordScaling reads records of 1 MB and 8 MB of each shape
// and fails if the larger takes more than 3 times its share of time:
// linear reading takes about 8 times as long (somewhat more on a busy
// machine, as 8 MB no longer fits in the caches and the garbage collector
// marks a larger heap), quadratic about 64 times.
func BenchmarkLargeRecordScaling(b *testing.B) {
	for _, sh := range largeShapes {
		for _, body := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/body=%v", sh.name, body), func(b *testing.B) {
				benchScaling(b, sh.record, body)
			})
		}
	}
}

func benchScaling(b *testing.B, record func(int) []byte, body bool) {
	{
		{
			small, large := logFile(record(1<<20)), logFile(record(8<<20))
			r := NewReader(nil, 0)
			var f mapping.Fields
			read := func(data []byte) time.Duration {
				// Each read starts from a collected heap: the garbage of
				// the previous one is not charged to it.
				runtime.GC()
				start := time.Now()
				r.Reset(chunkReader{bytes.NewReader(data), chunks})
				var err error
				if body {
					err = r.Next(pcommon.NewMap())
				} else {
					_, err = r.Read(pcommon.Map{}, &f)
				}
				if err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			var ts, tl time.Duration
			for b.Loop() {
				ts += read(small)
				tl += read(large)
			}
			ratio := float64(tl) / float64(ts)
			b.ReportMetric(ratio, "8MB/1MB")
			if ratio > 24 {
				b.Fatalf("reading 8 MB took %.1f times as long as 1 MB: not linear", ratio)
			}
		}
	}
}

// BenchmarkReadText is the walk of the json body mode alone (no gzip, no
// pdata): validate each record, capture the mapped members, copy the text.
func BenchmarkReadText(b *testing.B) {
	g := trailgen.New(42, "123456789012", "us-east-1")
	recs := make([]map[string]any, 2000)
	for i := range recs {
		recs[i] = g.Record(time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC))
	}
	data := trailgen.LogFile(recs, false)
	r := NewReader(nil, 0)
	var f mapping.Fields
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r.Reset(bytes.NewReader(data))
		n := 0
		for {
			raw, err := r.ReadText(&f)
			if err != nil {
				break
			}
			f.Rebase(raw, string(raw))
			n++
		}
		if n != len(recs) {
			b.Fatalf("%d records, want %d", n, len(recs))
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
