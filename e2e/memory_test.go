package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// maxRSS is the peak resident memory the shipped configurations must stay
// under, whatever the file size and however slow the intake.
const maxRSS = 500 << 20

// TestMemoryBoundedWithSlowIntake runs the shipped demo configuration
// (testdata/demo/config.yaml: default sending queues, batch processor) on
// one large CloudTrail file while the intake answers slowly. The exporters'
// queues fill, backpressure stops the receiver, and the collector's peak
// RSS stays under 500 MB; once the intake is fast again every record
// arrives exactly once. E2E_MEMORY_RECORDS sets the file's size (default
// 100,000 records, ~130 MB of JSON; 230,000 make a 300 MB file).
func TestMemoryBoundedWithSlowIntake(t *testing.T) {
	records := 100_000
	if v := os.Getenv("E2E_MEMORY_RECORDS"); v != "" {
		var err error
		records, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	s := newStack(t)
	const demoBucket = "demo-trail-bucket"
	require.NoError(t, s.s3.CreateBucket(demoBucket))
	ids, size := putLargeFile(t, s.s3, demoBucket, records)
	t.Logf("one file of %d records, %d MB of JSON", records, size>>20)
	s.intake.SetDelay(3 * time.Second)

	logPath := filepath.Join(t.TempDir(), "collector.log")
	out, err := os.Create(logPath)
	require.NoError(t, err)
	config, err := filepath.Abs(filepath.Join("..", "testdata", "demo", "config.yaml"))
	require.NoError(t, err)
	col, err := devstack.StartCollector(s.bin, config, map[string]string{
		"DEMO_S3_ENDPOINT": s.s3.URL, "DEMO_DD_ENDPOINT": s.intake.URL, "DD_API_KEY": apiKey,
		"DEMO_STORAGE_DIR": t.TempDir(), "DEMO_START_TIME": s.start.Format(time.RFC3339),
		"AWS_ACCESS_KEY_ID": "e2e", "AWS_SECRET_ACCESS_KEY": "e2e", "AWS_EC2_METADATA_DISABLED": "true",
	}, out, healthGate) // the demo configuration uses component-status health
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = col.Stop(syscall.SIGTERM, 30*time.Second)
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("collector log (last 8 KB):\n%s", tail(b, 8<<10))
		}
	})
	metric := func(name string, labels ...string) float64 {
		v, _ := col.Metrics(context.Background(), name, labels...)
		return v
	}
	// Either the pipeline runs at the slow intake's pace for a while (30,000
	// records accepted: the queues have filled and turned over several
	// times, the receiver waiting for room), or the receiver read the whole
	// file into memory (the unbounded case).
	waitFor(t, col, 5*time.Minute, "30,000 logs at the slow pace, or the whole file read", func() bool {
		return len(s.intake.Logs()) >= 30_000 || metric("otelcol_receiver_awscloudtrail_objects_read") >= 1
	})
	peak := peakRSS(t, col.Pid())
	t.Logf("peak RSS with the intake answering in 3 s: %d MB (logs accepted so far: %d)", peak>>20, len(s.intake.Logs()))
	assert.Less(t, peak, int64(maxRSS), "peak RSS with a slow intake")

	s.intake.SetDelay(0)
	waitFor(t, col, 10*time.Minute, "every record", func() bool { return len(s.intake.Logs()) >= len(ids) })
	peak = peakRSS(t, col.Pid())
	t.Logf("peak RSS over the whole run: %d MB", peak>>20)
	assert.Less(t, peak, int64(maxRSS), "peak RSS over the whole run")
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))
	got := logIDs(s.intake)
	missing, twice := 0, 0
	for _, id := range ids {
		switch {
		case got[id] == 0:
			missing++
		case got[id] > 1:
			twice++
		}
	}
	assert.Zero(t, missing, "records never sent as logs")
	assert.Zero(t, twice, "records sent more than once as logs")
	assert.Len(t, got, len(ids))
}

// putLargeFile stores one gzipped CloudTrail file of n records and returns
// their eventIDs and the JSON size.
func putLargeFile(t *testing.T, s3 *devstack.S3Server, bucket string, n int) ([]string, int) {
	t.Helper()
	g := trailgen.New(77, "111111111111", "us-east-1")
	at := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Minute)
	ids := make([]string, 0, n)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	cw := &countingWriter{w: zw}
	require.NoError(t, trailgen.WriteLogFile(cw, n, func(i int) map[string]any {
		r := g.Record(at.Add(-time.Duration(n-i) * time.Millisecond))
		ids = append(ids, r["eventID"].(string))
		return r
	}))
	require.NoError(t, zw.Close())
	key := trailgen.Key("", "", "111111111111", "CloudTrail", "us-east-1", at, "large")
	require.NoError(t, s3.Put(bucket, key, buf.Bytes()))
	return ids, cw.n
}

type countingWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// peakRSS reads the peak resident set size (VmHWM) of a process.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
