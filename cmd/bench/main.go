// Command bench prints one table, measured in one run on one generated
// trail tree: the gunzip floor, the standard library's JSON split (the
// baseline every row is compared with), the receiver's reader in each body
// mode, the datadoglogs exporter on the batches of each body mode, and the
// collector binary end to end (S3 server → collector → logs intake) in
// each body mode with its peak memory. It is `make bench`.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"
)

func main() {
	collector := flag.String("collector", "./dist/otelcol-cloudtrail", "the collector binary")
	config := flag.String("config", "testdata/bench/config.yaml", "the collector configuration")
	files := flag.Int("files", 50, "files per account and region (2 accounts × 2 regions)")
	records := flag.Int("records", 250, "records per file")
	flag.Parse()
	if err := run(*collector, *config, *files, *records); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(collector, config string, files, records int) error {
	os.Setenv("AWS_ACCESS_KEY_ID", "bench")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "bench")
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s3srv, err := devstack.StartS3("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer s3srv.Close()
	end := time.Now().UTC().Add(-time.Minute)
	tree, err := devstack.SeedTrailTree(s3srv, devstack.TreeSpec{
		Bucket: "bench-bucket", Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"us-east-1", "eu-west-1"},
		Files: files, Every: time.Minute, End: end, RecordsPerFile: records, Seed: 77,
	})
	if err != nil {
		return err
	}
	total := len(tree.IDs)
	start := end.Add(-time.Duration(files+5) * time.Minute)
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
		batches, err := receiverBatches(s3srv.URL, start, total, mode)
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
	// 3. The collector binary end to end, in each body mode.
	for _, mode := range modes {
		fmt.Printf("measuring: end to end, body %s…\n", mode)
		d, rss, err := endToEnd(collector, config, s3srv.URL, start, total, mode)
		if err != nil {
			return err
		}
		rows = append(rows, row{name: "end to end, body " + mode + " (S3 → collector → intake, 2 cores)",
			rate: float64(total) / d.Seconds(), rss: rss})
	}

	var base float64
	for _, r := range rows {
		if r.name == rowStdlib {
			base = r.rate
		}
	}
	fmt.Println()
	fmt.Println("| path | records/s | MB/s | allocs/record | × stdlib split | peak RSS |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		allocs, rss := "", ""
		if r.allocs > 0 {
			allocs = fmt.Sprintf("%.1f", r.allocs)
		}
		if r.rss > 0 {
			rss = fmt.Sprintf("%.0f MB", float64(r.rss)/1024)
		}
		fmt.Printf("| %s | %s | %.1f | %s | %.2f× | %s |\n", r.name, thousands(r.rate),
			r.rate*float64(uncompressed)/float64(total)/1e6, allocs, r.rate/base, rss)
	}
	return nil
}

const rowStdlib = "stdlib encoding/json split (1 core, baseline)"

// row is one line of the table.
type row struct {
	name   string
	rate   float64 // records/s
	allocs float64 // per record; 0 when not measured
	rss    int64   // kB; 0 when not measured
}

var tableNames = map[string]string{
	"gunzip":             "gunzip, klauspost (1 core, floor)",
	"stdlib_split":       rowStdlib,
	"pdata_floor":        "gunzip + the pdata of body json alone, no JSON work (1 core, ceiling of json)",
	"receiver_body=map":  "receiver reader, body map (1 core)",
	"receiver_body=json": "receiver reader, body json (1 core)",
	"receiver_body=none": "receiver reader, body none (1 core)",
}

// readerRows runs objectreader's BenchmarkTable on the files of dir with
// GOMAXPROCS=1 and reads its metrics.
func readerRows(dir string) ([]row, error) {
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	// Each row is the best of 3 runs: the machine is shared, and the
	// fastest run is the one least disturbed.
	cmd := exec.Command(goBin, "test", "-run", "^$", "-bench", "^BenchmarkTable$", "-benchtime", "2x", "-count", "3",
		"./receiver/awscloudtrailreceiver/internal/objectreader/")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "BENCH_FILES="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("BenchmarkTable: %w\n%s", err, out)
	}
	var rows []row
	best := map[string]int{} // row name → index in rows
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "BenchmarkTable/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "BenchmarkTable/")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // a -N suffix when GOMAXPROCS > 1
		}
		r := row{name: tableNames[name]}
		for i := 2; i+1 < len(f); i += 2 {
			v, _ := strconv.ParseFloat(f[i], 64)
			switch f[i+1] {
			case "records/cpu-s":
				r.rate = v
			case "allocs/record":
				r.allocs = v
			}
		}
		if r.name == "" || r.rate == 0 {
			return nil, fmt.Errorf("BenchmarkTable: cannot read %q", line)
		}
		if i, ok := best[r.name]; !ok {
			best[r.name] = len(rows)
			rows = append(rows, r)
		} else if r.rate > rows[i].rate {
			rows[i] = r
		}
	}
	if len(rows) != len(tableNames) {
		return nil, fmt.Errorf("BenchmarkTable printed %d rows, want %d:\n%s", len(rows), len(tableNames), out)
	}
	return rows, nil
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func gunzipSize(gz []byte) (int64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, zr)
}

func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// collector keeps the batches a receiver delivers.
type collector struct {
	mu      sync.Mutex
	batches []plog.Logs
	n       atomic.Int64
}

func (c *collector) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (c *collector) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.mu.Lock()
	c.batches = append(c.batches, ld)
	c.mu.Unlock()
	c.n.Add(int64(ld.LogRecordCount()))
	return nil
}

// receiverBatches runs the receiver in process, through the S3 protocol,
// in a body mode, and returns the batches it delivers.
func receiverBatches(endpoint string, start time.Time, total int, body string) ([]plog.Logs, error) {
	f := awscloudtrailreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*awscloudtrailreceiver.Config)
	cfg.Endpoint, cfg.S3ForcePathStyle = endpoint, true
	cfg.StartTime = start.Format(time.RFC3339)
	cfg.Trails = []awscloudtrailreceiver.TrailConfig{{Bucket: "bench-bucket"}}
	cfg.Body = body
	c := &collector{}
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, c)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		return nil, err
	}
	defer func() { _ = rcv.Shutdown(context.Background()) }()
	for c.n.Load() < int64(total) {
		if time.Since(t0) > 5*time.Minute {
			return nil, fmt.Errorf("receiver read %d of %d records in 5 minutes", c.n.Load(), total)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batches, nil
}

// exporterRow pushes the batches through the datadoglogs exporter (no
// sending queue: each call encodes, compresses and posts) to a local
// server that discards the requests, on one core.
func exporterRow(batches []plog.Logs, total int) (row, error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	f := datadoglogsexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*datadoglogsexporter.Config)
	cfg.API.Key = "bench"
	cfg.ClientConfig.Endpoint = srv.URL
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	exp, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	if err != nil {
		return row{}, err
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		return row{}, err
	}
	defer func() { _ = exp.Shutdown(context.Background()) }()
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	// The best of 3 passes, as for the reader's rows, in CPU time.
	var best row
	for range 3 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mallocs := ms.Mallocs
		t0 := cpuTime()
		for _, ld := range batches {
			if err := exp.ConsumeLogs(context.Background(), ld); err != nil {
				return row{}, err
			}
		}
		d := cpuTime() - t0
		runtime.ReadMemStats(&ms)
		if r := float64(total) / d.Seconds(); r > best.rate {
			best = row{rate: r, allocs: float64(ms.Mallocs-mallocs) / float64(total)}
		}
	}
	return best, nil
}

func endToEnd(collector, config, s3URL string, start time.Time, total int, body string) (time.Duration, int64, error) {
	var got atomic.Int64
	intake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		// One entry per record, whatever the body mode and however the
		// exporter shapes the entry: count the entries' ddsource.
		got.Add(int64(bytes.Count(b, []byte(`"ddsource":`))))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer intake.Close()
	logBuf := &syncWriter{b: &strings.Builder{}}
	t0 := time.Now()
	col, err := devstack.StartCollector(collector, config, map[string]string{
		"DEMO_S3_ENDPOINT": s3URL, "DEMO_DD_ENDPOINT": intake.URL, "DD_API_KEY": "bench",
		"DEMO_START_TIME": start.Format(time.RFC3339), "BENCH_BODY": body,
	}, logBuf)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = col.Stop(syscall.SIGTERM, 30*time.Second) }()
	for got.Load() < int64(total) {
		select {
		case <-col.Done():
			return 0, 0, fmt.Errorf("collector exited: %s", logBuf.String())
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(t0) > 5*time.Minute {
			return 0, 0, fmt.Errorf("intake got %d of %d records in 5 minutes", got.Load(), total)
		}
	}
	d := time.Since(t0)
	return d, peakRSS(col.Pid()), nil
}

// peakRSS reads VmHWM (kB) of a process.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kb)
			return kb
		}
	}
	return 0
}

// syncWriter collects the collector's output for an error message.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
