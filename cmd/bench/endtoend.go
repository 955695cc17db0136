package main

import (
	"bytes"
	"compress/gzip"
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

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

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
