// Command bench measures, on one generated trail tree: decompression and
// JSON splitting with the standard library, the receiver alone, and the
// collector binary end to end (S3 server → collector → logs intake) with
// its peak memory. It is the end of `make bench`.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

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
	var raw int64
	for _, k := range tree.Keys {
		b, _ := s3srv.Get(tree.Bucket, k)
		raw += int64(len(b))
	}
	fmt.Printf("Trail tree: %d files, %d records, %.1f MB gzipped\n\n", tree.Objects, total, float64(raw)/1e6)

	// 1. The standard library: gunzip and split Records with encoding/json.
	t0 := time.Now()
	var uncompressed int64
	for _, k := range tree.Keys {
		b, _ := s3srv.Get(tree.Bucket, k)
		n, err := splitRecords(b)
		if err != nil {
			return err
		}
		uncompressed += n
	}
	stdlib := time.Since(t0)

	// 2. The receiver alone, in process, through the S3 protocol.
	rcvTime, err := receiverOnly(s3srv.URL, start, total)
	if err != nil {
		return err
	}

	// 3. The collector binary end to end.
	e2eTime, rss, err := endToEnd(collector, config, s3srv.URL, start, total)
	if err != nil {
		return err
	}

	rate := func(d time.Duration) string { return fmt.Sprintf("%9.0f", float64(total)/d.Seconds()) }
	mbs := func(d time.Duration) string { return fmt.Sprintf("%7.1f", float64(uncompressed)/1e6/d.Seconds()) }
	fmt.Println("| stage                                              | records/s | MB/s (uncompressed) | peak RSS |")
	fmt.Println("|----------------------------------------------------|-----------|---------------------|----------|")
	fmt.Printf("| gunzip + encoding/json split (stdlib, in memory)   | %s | %19s | |\n", rate(stdlib), mbs(stdlib))
	fmt.Printf("| receiver only (S3 protocol → pdata, in process)    | %s | %19s | |\n", rate(rcvTime), mbs(rcvTime))
	fmt.Printf("| end to end (S3 → otelcol-cloudtrail → logs intake) | %s | %19s | %5.0f MB |\n", rate(e2eTime), mbs(e2eTime), float64(rss)/1024)
	return nil
}

func splitRecords(gz []byte) (int64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return 0, err
	}
	cr := &countReader{r: zr}
	dec := json.NewDecoder(cr)
	for range 3 {
		if _, err := dec.Token(); err != nil {
			return 0, err
		}
	}
	for dec.More() {
		var r json.RawMessage
		if err := dec.Decode(&r); err != nil {
			return 0, err
		}
	}
	_, _ = io.Copy(io.Discard, cr)
	return cr.n, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type counter struct{ n atomic.Int64 }

func (c *counter) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (c *counter) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.n.Add(int64(ld.LogRecordCount()))
	return nil
}

func receiverOnly(endpoint string, start time.Time, total int) (time.Duration, error) {
	f := awscloudtrailreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*awscloudtrailreceiver.Config)
	cfg.Endpoint, cfg.S3ForcePathStyle = endpoint, true
	cfg.StartTime = start.Format(time.RFC3339)
	cfg.Trails = []awscloudtrailreceiver.TrailConfig{{Bucket: "bench-bucket"}}
	c := &counter{}
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, c)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		return 0, err
	}
	defer func() { _ = rcv.Shutdown(context.Background()) }()
	for c.n.Load() < int64(total) {
		if time.Since(t0) > 5*time.Minute {
			return 0, fmt.Errorf("receiver read %d of %d records in 5 minutes", c.n.Load(), total)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(t0), nil
}

func endToEnd(collector, config, s3URL string, start time.Time, total int) (time.Duration, int64, error) {
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
		got.Add(int64(bytes.Count(b, []byte(`"eventID":`))))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer intake.Close()
	logBuf := &syncWriter{b: &strings.Builder{}}
	t0 := time.Now()
	col, err := devstack.StartCollector(collector, config, map[string]string{
		"DEMO_S3_ENDPOINT": s3URL, "DEMO_DD_ENDPOINT": intake.URL, "DD_API_KEY": "bench",
		"DEMO_START_TIME": start.Format(time.RFC3339),
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
