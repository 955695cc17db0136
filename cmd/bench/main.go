// Command bench prints one table, measured in one run on one generated
// trail tree: the gunzip floor, the standard library's JSON split (the
// baseline every row is compared with), the receiver's reader in each body
// mode, the datadoglogs exporter on the batches of each body mode, and the
// collector binary end to end (S3 server → collector → logs intake) in
// each body mode with its peak memory and its own CPU time, optionally
// beside another collector binary with its own configuration (the
// baseline rows). It is `make bench`.
//
// Each end-to-end row gives records/s (wall time, until the intake has
// every record: the S3 server and the intake run in this process, on the
// same cores as the collector) and records per second of the collector's
// own CPU time (utime+stime of its process, start included). To compare
// with an older build, build it and pass its binary and configuration:
//
//	git worktree add /tmp/old e734e3d && (cd /tmp/old && make build)
//	make bench BENCH_FLAGS="-baseline-collector /tmp/old/dist/otelcol-cloudtrail -baseline-config testdata/bench/config-baseline.yaml -e2e-runs 3"
//
// -e2e-runs N runs each collector N times, interleaved, and keeps the best
// run of each (the machine is shared).
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

func main() {
	collector := flag.String("collector", "./dist/otelcol-cloudtrail", "the collector binary")
	config := flag.String("config", "testdata/bench/config.yaml", "the collector configuration")
	files := flag.Int("files", 50, "files per account and region (2 accounts × 2 regions) of the single-core rows' tree")
	records := flag.Int("records", 250, "records per file")
	e2eFiles := flag.Int("e2e-files", 300, "files per account and region of the end-to-end rows' tree (larger: the collector's start is a fixed cost)")
	var o e2eOptions
	flag.StringVar(&o.baselineCollector, "baseline-collector", "", "another collector binary (an older build) measured end to end in the same run, as the rows \"baseline map\"")
	flag.StringVar(&o.baselineConfig, "baseline-config", "testdata/bench/config-baseline.yaml", "the configuration of -baseline-collector")
	flag.IntVar(&o.runs, "e2e-runs", 1, "end-to-end runs of each collector, interleaved; each row is the best")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (the S3 server and the intake during the end-to-end rows) to the file")
	flag.Parse()
	o.collector, o.config = *collector, *config
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(o, *files, *e2eFiles, *records); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(o e2eOptions, files, e2eFiles, records int) error {
	os.Setenv("AWS_ACCESS_KEY_ID", "bench")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "bench")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s3srv, err := devstack.StartS3("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer s3srv.Close()
	end := time.Now().UTC().Add(-time.Minute)
	// Two trees of the same records' shapes: a small one for the
	// single-core rows, which run in this process, and a larger one for
	// the end-to-end rows, so that the collector's start (about 0.3 s of
	// CPU) and the batch processor's last timeout weigh little.
	seed := func(bucket string, files int) (devstack.Tree, error) {
		return devstack.SeedTrailTree(s3srv, devstack.TreeSpec{
			Bucket: bucket, Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"us-east-1", "eu-west-1"},
			Files: files, Every: time.Minute, End: end, RecordsPerFile: records, Seed: 77,
		})
	}
	tree, err := seed("bench-small", files)
	if err != nil {
		return err
	}
	e2eTree, err := seed("bench-bucket", e2eFiles)
	if err != nil {
		return err
	}
	total := len(tree.IDs)
	start := end.Add(-time.Duration(max(files, e2eFiles)+5) * time.Minute)
	dir, err := os.MkdirTemp("", "bench-files")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var raw, uncompressed int64
	for i, k := range tree.Keys {
		b, _ := s3srv.Get(tree.Bucket, k)
		raw += int64(len(b))
		n, err := gunzipSize(b)
		if err != nil {
			return err
		}
		uncompressed += n
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%05d.json.gz", i)), b, 0o600); err != nil {
			return err
		}
	}
	fmt.Printf("Trail tree: %d files, %d records, %.1f MB gzipped, %.1f MB uncompressed (%d bytes/record)\n",
		tree.Objects, total, float64(raw)/1e6, float64(uncompressed)/1e6, uncompressed/int64(total))

	// 1. Single core, in process: gunzip, the stdlib split and the
	// receiver's reader in each body mode (objectreader's BenchmarkTable).
	fmt.Println("measuring: gunzip, stdlib split, receiver per body mode (GOMAXPROCS=1)…")
	rows, err := readerRows(dir)
	if err != nil {
		return err
	}
	modes := []string{"map", "json", "none"}
	// 2. Single core: the datadoglogs exporter (encode, gzip, POST to a
	// local server that discards) on the batches the receiver makes in
	// each body mode.
	for _, mode := range modes {
		fmt.Printf("measuring: datadoglogs, body %s…\n", mode)
		batches, err := receiverBatches(s3srv.URL, tree.Bucket, start, total, mode)
		if err != nil {
			return err
		}
		r, err := exporterRow(batches, total)
		if err != nil {
			return err
		}
		r.name = "datadoglogs exporter, body " + mode + " (1 core)"
		rows = append(rows, r)
	}
	// 3. The collector binary end to end, in each body mode (and the
	// baseline binary).
	e2eTotal := len(e2eTree.IDs)
	fmt.Printf("End-to-end tree: %d files, %d records\n", e2eTree.Objects, e2eTotal)
	e2eTree = devstack.Tree{} // its index of 300k records would only slow this process's GC down
	e2e, err := endToEndRows(o, s3srv.URL, start, e2eTotal)
	if err != nil {
		return err
	}
	rows = append(rows, e2e...)
	printTable(rows, float64(uncompressed)/float64(total))
	return nil
}

const rowStdlib = "stdlib encoding/json split (1 core, baseline)"

func gunzipSize(gz []byte) (int64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, zr)
}
