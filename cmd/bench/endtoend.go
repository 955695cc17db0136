package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// e2eOptions are the collectors measured end to end.
type e2eOptions struct {
	collector, config                 string
	baselineCollector, baselineConfig string
	runs                              int
}

// e2eResult is one end-to-end run.
type e2eResult struct {
	wall, cpu time.Duration // until the intake has every record; the collector's CPU time
	servers   time.Duration // the CPU time of this process (the S3 server and the intake)
	rss       int64         // peak, kB
}

// endToEndRows runs the collector in each body mode (and the baseline
// collector, when set), o.runs times interleaved, and returns the best run
// of each as a row.
func endToEndRows(o e2eOptions, s3URL string, start time.Time, total int) ([]row, error) {
	type run struct {
		name, collector, config, body string
	}
	var runs []run
	for _, mode := range []string{"map", "json", "none"} {
		runs = append(runs, run{"end to end, body " + mode + " (S3 → collector → intake, 2 cores)", o.collector, o.config, mode})
	}
	if o.baselineCollector != "" {
		runs = append(runs, run{"end to end, baseline map (" + o.baselineCollector + ", 2 cores)", o.baselineCollector, o.baselineConfig, "map"})
	}
	rows := make([]row, len(runs))
	for n := range max(o.runs, 1) {
		for i, r := range runs {
			fmt.Printf("measuring: %s, run %d…\n", r.name, n+1)
			res, err := endToEnd(r.collector, r.config, s3URL, start, total, r.body)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			if rate := float64(total) / res.wall.Seconds(); rate > rows[i].rate {
				rows[i] = row{name: r.name, rate: rate, rss: res.rss, serversCPU: res.servers.Seconds() / float64(total)}
				if res.cpu > 0 {
					rows[i].cpuRate = float64(total) / res.cpu.Seconds()
				}
			}
		}
	}
	return rows, nil
}

// endToEnd starts a collector binary with config on the S3 server's tree
// and a local intake that counts the entries, and measures until the
// intake has total records: the wall time, the collector's own CPU time
// (the S3 server and the intake run in this process on the same cores)
// and its peak memory.
func endToEnd(collector, config, s3URL string, start time.Time, total int, body string) (e2eResult, error) {
	var got atomic.Int64
	intake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := countEntries(r.Body, r.Header.Get("Content-Encoding"))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got.Add(n)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer intake.Close()
	logBuf := &syncWriter{b: &strings.Builder{}}
	t0, cpu0 := time.Now(), cpuTime()
	col, err := devstack.StartCollector(collector, config, map[string]string{
		"DEMO_S3_ENDPOINT": s3URL, "DEMO_DD_ENDPOINT": intake.URL, "DD_API_KEY": "bench",
		"DEMO_START_TIME": start.Format(time.RFC3339), "BENCH_BODY": body,
	}, logBuf)
	if err != nil {
		return e2eResult{}, err
	}
	defer func() { _ = col.Stop(syscall.SIGTERM, 30*time.Second) }()
	for got.Load() < int64(total) {
		select {
		case <-col.Done():
			return e2eResult{}, fmt.Errorf("collector exited: %s", logBuf.String())
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(t0) > 5*time.Minute {
			return e2eResult{}, fmt.Errorf("intake got %d of %d records in 5 minutes", got.Load(), total)
		}
	}
	d := time.Since(t0)
	return e2eResult{wall: d, cpu: processCPU(col.Pid()), servers: cpuTime() - cpu0, rss: peakRSS(col.Pid())}, nil
}

// entryKey is counted in the requests' bodies: one per entry, whatever the
// body mode and however the exporter shapes the entry.
var entryKey = []byte(`"ddsource":`)

// countEntries counts the entries of a logs request body as it streams
// (klauspost's gzip, no copy of the body): the intake costs CPU on the
// collector's cores, so it costs as little as it can.
func countEntries(body io.Reader, encoding string) (int64, error) {
	switch encoding {
	case "":
	case "gzip":
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		if zr == nil {
			zr = new(gzip.Reader)
		}
		defer gzipReaders.Put(zr)
		if err := zr.Reset(body); err != nil {
			return 0, err
		}
		body = zr
	default:
		return 0, fmt.Errorf("content encoding %q", encoding)
	}
	bp := countBuffers.Get().(*[]byte)
	defer countBuffers.Put(bp)
	buf := *bp
	var n int64
	carry := 0 // bytes kept from the previous read: a key may span two reads
	for {
		m, err := body.Read(buf[carry:])
		chunk := buf[:carry+m]
		n += int64(bytes.Count(chunk, entryKey))
		// Keep the last len(entryKey)-1 bytes: too short to hold a whole
		// key (counted already), long enough for one that continues.
		carry = min(len(chunk), len(entryKey)-1)
		copy(buf, chunk[len(chunk)-carry:])
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// The intake's decompressors and read buffers, reused across requests.
var (
	gzipReaders  sync.Pool
	countBuffers = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}
)

// processCPU reads the CPU time (utime + stime, all threads) a process
// has used from /proc/PID/stat; 0 when it cannot.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (in parentheses, which may hold
	// spaces): state is field 3, utime 14 and stime 15, in clock ticks.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	// USER_HZ is 100 on Linux (sysconf(_SC_CLK_TCK), fixed by the ABI).
	return time.Duration(utime+stime) * (time.Second / 100)
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
