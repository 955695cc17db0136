package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
func receiverBatches(endpoint, bucket string, start time.Time, total int, body string) ([]plog.Logs, error) {
	f := awscloudtrailreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*awscloudtrailreceiver.Config)
	cfg.Endpoint, cfg.S3ForcePathStyle = endpoint, true
	cfg.StartTime = start.Format(time.RFC3339)
	cfg.Trails = []awscloudtrailreceiver.TrailConfig{{Bucket: bucket}}
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
	// The best of 5 passes, as for the reader's rows, in CPU time.
	var best row
	for range 5 {
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
