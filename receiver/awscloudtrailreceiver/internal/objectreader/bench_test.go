package objectreader

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/recordstream"
)

var benchFile = sync.OnceValues(func() ([]byte, int) {
	return generate(50 << 20)
})

// generate returns a gzipped log file of about size uncompressed bytes of
// records of varied shapes, and its record count.
func generate(size int) ([]byte, int) {
	g := trailgen.New(42, "123456789012", "us-east-1")
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var raw bytes.Buffer
	raw.WriteString(`{"Records":[`)
	n := 0
	for raw.Len() < size {
		if n > 0 {
			raw.WriteByte(',')
		}
		rec, _ := json.Marshal(g.Record(t0.Add(time.Duration(n) * time.Second)))
		raw.Write(rec)
		n++
	}
	raw.WriteString("]}")
	var gz bytes.Buffer
	zw := stdgzip.NewWriter(&gz)
	_, _ = zw.Write(raw.Bytes())
	_ = zw.Close()
	return gz.Bytes(), n
}

func uncompressedSize(b *testing.B, gz []byte) int64 {
	zr, err := stdgzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, zr)
	return n
}

func report(b *testing.B, records int) {
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// reportCPU reports the records per second of the process's CPU time
// since cpu0 (steadier than the elapsed time on a shared machine).
func reportCPU(b *testing.B, records int, cpu0 time.Duration) {
	b.ReportMetric(float64(records)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
}

// BenchmarkBaselineGunzip is baseline (a): the standard library's gzip alone.
func BenchmarkBaselineGunzip(b *testing.B) {
	gz, n := benchFile()
	b.SetBytes(uncompressedSize(b, gz))
	b.ReportAllocs()
	for b.Loop() {
		zr, _ := stdgzip.NewReader(bytes.NewReader(gz))
		if _, err := io.Copy(io.Discard, zr); err != nil {
			b.Fatal(err)
		}
	}
	report(b, n)
}

// BenchmarkBaselineStdJSONSplit is baseline (b): gunzip and splitting
// Records into raw records with encoding/json's streaming Decoder.
func BenchmarkBaselineStdJSONSplit(b *testing.B) {
	gz, n := benchFile()
	b.SetBytes(uncompressedSize(b, gz))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		zr, _ := stdgzip.NewReader(bytes.NewReader(gz))
		dec := json.NewDecoder(zr)
		for range 3 { // '{', "Records", '['
			if _, err := dec.Token(); err != nil {
				b.Fatal(err)
			}
		}
		count := 0
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				b.Fatal(err)
			}
			count++
		}
		if count != n {
			b.Fatalf("split %d records, want %d", count, n)
		}
	}
	report(b, n)
	reportCPU(b, n, cpu0)
}

// BenchmarkReadObject is the receiver's path: decompress, parse, and build
// the pdata log records with every attribute, in batches of 1000, in each
// body mode.
func BenchmarkReadObject(b *testing.B) {
	gz, n := benchFile()
	size := uncompressedSize(b, gz)
	for _, mode := range []BodyMode{BodyMap, BodyJSON, BodyNone} {
		b.Run("body="+mode.String(), func(b *testing.B) {
			b.SetBytes(size)
			r := New(Options{MaxBatchRecords: 1000, Mapper: mapping.New(ctattr.DefaultNormalServices, false), ScopeName: "bench", Body: mode})
			obj := Object{Bucket: "b", Key: "k", Account: "123456789012", Region: "us-east-1"}
			b.ReportAllocs()
			startAllocs(b)
			cpu0 := cpuTime()
			for b.Loop() {
				count := 0
				st, err := r.Read(bytes.NewReader(gz), obj, 0, func(batch Batch) error {
					count += batch.Logs.LogRecordCount()
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if count != n || st.Records != n {
					b.Fatalf("read %d records, want %d", count, n)
				}
			}
			report(b, n)
			reportCPU(b, n, cpu0)
			b.ReportMetric(float64(allocs(b))/float64(n)/float64(b.N), "allocs/record")
		})
	}
}

var mallocs0 uint64

func startAllocs(*testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs0 = ms.Mallocs
}

func allocs(*testing.B) uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs - mallocs0
}

// plainRecords returns n generated records and their log file (not gzipped).
func plainRecords(n int) ([]byte, []map[string]any) {
	g := trailgen.New(42, "123456789012", "us-east-1")
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = g.Record(time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC))
	}
	return trailgen.LogFile(recs, false), recs
}

// BenchmarkParseOnly parses records into pdata bodies, without gzip and
// without the attribute mapping.
func BenchmarkParseOnly(b *testing.B) {
	data, recs := plainRecords(1000)
	rs := recordstream.NewReader(nil, 0)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rs.Reset(bytes.NewReader(data))
		for rs.Next(plog.NewLogRecord().Body().SetEmptyMap()) == nil {
		}
	}
	report(b, len(recs))
}

// BenchmarkSkip passes over records without building them (resuming an
// object after a restart).
func BenchmarkSkip(b *testing.B) {
	data, recs := plainRecords(1000)
	rs := recordstream.NewReader(nil, 0)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rs.Reset(bytes.NewReader(data))
		for rs.Skip() == nil {
		}
	}
	report(b, len(recs))
}

// BenchmarkReferencePdataFromRaw is a reference point, not our code path:
// the cost of building the same bodies with pcommon.Map.FromRaw from
// already decoded Go maps, i.e. pdata construction alone.
func BenchmarkReferencePdataFromRaw(b *testing.B) {
	_, recs := plainRecords(1000)
	raws := make([]map[string]any, len(recs))
	for i, r := range recs {
		j, _ := json.Marshal(r)
		_ = json.Unmarshal(j, &raws[i])
	}
	for b.Loop() {
		for _, r := range raws {
			_ = plog.NewLogRecord().Body().SetEmptyMap().FromRaw(r)
		}
	}
	report(b, len(recs))
}

// BenchmarkTable measures, on the log files of the directory named by
// BENCH_FILES (cmd/bench writes them: the trail tree of `make bench`),
// the gunzip floor, the stdlib split and the receiver's reader in each
// body mode. cmd/bench runs it with GOMAXPROCS=1 and reads its metrics.
func BenchmarkTable(b *testing.B) {
	dir := os.Getenv("BENCH_FILES")
	if dir == "" {
		b.Skip("BENCH_FILES is not set (cmd/bench sets it)")
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.json.gz"))
	if err != nil || len(paths) == 0 {
		b.Fatalf("no log files in %s", dir)
	}
	files := make([][]byte, len(paths))
	var size int64
	records := 0
	for i, p := range paths {
		if files[i], err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
		size += uncompressedSize(b, files[i])
		n, err := stdSplit(files[i])
		if err != nil {
			b.Fatal(err)
		}
		records += n
	}
	run := func(name string, read func(gz []byte) (int, error)) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			startAllocs(b)
			cpu0 := cpuTime()
			for b.Loop() {
				n := 0
				for _, gz := range files {
					c, err := read(gz)
					if err != nil {
						b.Fatal(err)
					}
					n += c
				}
				if n != records && name != "gunzip" {
					b.Fatalf("%d records, want %d", n, records)
				}
			}
			// On a shared machine, the process's CPU time is steadier
			// than the elapsed time, which other processes stretch.
			cpu := cpuTime() - cpu0
			report(b, records)
			b.ReportMetric(float64(records)*float64(b.N)/cpu.Seconds(), "records/cpu-s")
			b.ReportMetric(float64(allocs(b))/float64(records)/float64(b.N), "allocs/record")
		})
	}
	zr := new(kgzip.Reader)
	run("gunzip", func(gz []byte) (int, error) {
		if err := zr.Reset(bytes.NewReader(gz)); err != nil {
			return 0, err
		}
		_, err := io.Copy(io.Discard, zr)
		return 0, err
	})
	run("stdlib_split", stdSplit)
	// The ceiling of the json mode: gunzip, then only the pdata the
	// reader makes per record (the log record, the body's copy of the
	// record's text, the attributes, timestamps and severity), copied from
	// records read beforehand, without any JSON work.
	floor := floorRecords(b, files)
	fb, next := new(builder), 0
	run("pdata_floor", func(gz []byte) (int, error) {
		if err := zr.Reset(bytes.NewReader(gz)); err != nil {
			return 0, err
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return 0, err
		}
		recs := floor[next%len(floor)] // run reads the files in order
		next++
		for i, src := range recs {
			if i%1000 == 0 {
				fb.reset("bench", "")
			}
			lr := fb.slot([2]string{"123456789012", "us-east-1"}).AppendEmpty()
			lr.Body().SetStr(string(src.text))
			src.lr.Attributes().CopyTo(lr.Attributes())
			lr.SetTimestamp(src.lr.Timestamp())
			lr.SetObservedTimestamp(src.lr.ObservedTimestamp())
			lr.SetSeverityNumber(src.lr.SeverityNumber())
			lr.SetSeverityText(src.lr.SeverityText())
		}
		return len(recs), nil
	})
	for _, mode := range []BodyMode{BodyMap, BodyJSON, BodyNone} {
		r := New(Options{MaxBatchRecords: 1000, Mapper: mapping.New(ctattr.DefaultNormalServices, false), ScopeName: "bench", Body: mode})
		obj := Object{Bucket: "b", Key: "k", Account: "123456789012", Region: "us-east-1"}
		run("receiver_body="+mode.String(), func(gz []byte) (int, error) {
			n := 0
			_, err := r.Read(bytes.NewReader(gz), obj, 0, func(batch Batch) error {
				n += batch.Records
				return nil
			})
			return n, err
		})
	}
}

// stdSplit is the stdlib baseline: gunzip and split Records into raw
// records with encoding/json's streaming Decoder.
func stdSplit(gz []byte) (int, error) {
	zr, err := stdgzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return 0, err
	}
	dec := json.NewDecoder(zr)
	for range 3 { // '{', "Records", '['
		if _, err := dec.Token(); err != nil {
			return 0, err
		}
	}
	n := 0
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type floorRecord struct {
	lr   plog.LogRecord
	text []byte
}

// floorRecords reads the files in json mode once and keeps each record's
// log record and text, file by file.
func floorRecords(b *testing.B, files [][]byte) [][]floorRecord {
	out := make([][]floorRecord, len(files))
	r := New(Options{MaxBatchRecords: 1000, Mapper: mapping.New(ctattr.DefaultNormalServices, false), ScopeName: "bench", Body: BodyJSON})
	obj := Object{Bucket: "b", Key: "k", Account: "123456789012", Region: "us-east-1"}
	for k, gz := range files {
		_, err := r.Read(bytes.NewReader(gz), obj, 0, func(batch Batch) error {
			for _, rl := range batch.Logs.ResourceLogs().All() {
				for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
					out[k] = append(out[k], floorRecord{lr: lr, text: []byte(lr.Body().Str())})
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return out
}
