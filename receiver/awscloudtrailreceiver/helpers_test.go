package awscloudtrailreceiver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
)

const testBucket = "trail-bucket"

// startS3 starts the S3 protocol server with one bucket and points the AWS
// SDK's default chain at static test credentials.
func startS3(t testing.TB) *devstack.S3Server {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	s3srv, err := devstack.StartS3("")
	require.NoError(t, err)
	t.Cleanup(s3srv.Close)
	require.NoError(t, s3srv.CreateBucket(testBucket))
	return s3srv
}

func testConfig(endpoint string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = endpoint
	cfg.S3ForcePathStyle = true
	cfg.PollInterval = 100 * time.Millisecond
	cfg.StartTime = "2026-11-20T00:00:00Z"
	cfg.Trails = []TrailConfig{{Bucket: testBucket}}
	return cfg
}

// harness is a receiver under test with its telemetry and logs.
type harness struct {
	rcv  *cloudtrailReceiver
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
}

func startReceiver(t testing.TB, cfg *Config, next consumer.Logs, host component.Host) *harness {
	t.Helper()
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	core, logs := observer.New(zap.DebugLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type) // stable, as in a collector: the storage client is per ID
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	rcv, err := newReceiver(set, cfg, next)
	require.NoError(t, err)
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, rcv.Start(context.Background(), host))
	h := &harness{rcv: rcv, tel: tel, logs: logs}
	t.Cleanup(func() { _ = h.stop() })
	return h
}

func (h *harness) stop() error {
	if h.rcv == nil {
		return nil
	}
	err := h.rcv.Shutdown(context.Background())
	h.rcv = nil
	return err
}

// counter returns the value of a counter metric of the receiver for the
// attribute key=value (key empty: the sum of all series), 0 before it is
// first recorded. A name that metadata.yaml does not declare fails the
// test: a misspelt name cannot read as 0. Exact values at the end of a
// test are asserted with the generated metadatatest functions.
func (h *harness) counter(t testing.TB, name, key, value string) int64 {
	t.Helper()
	require.Contains(t, receiverMetrics(), name, "not a metric declared in metadata.yaml")
	return devstack.Counter(h.tel, name, key, value)
}

// receiverMetrics returns the names of the metrics metadata.yaml declares.
var receiverMetrics = sync.OnceValue(func() map[string]bool {
	b, err := os.ReadFile("metadata.yaml")
	if err != nil {
		panic(err)
	}
	names := map[string]bool{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "  metrics:":
			in = true
		case in && len(line) > 0 && line[0] != ' ':
			in = false
		case in && strings.HasPrefix(line, "    ") && !strings.HasPrefix(line, "     ") && strings.HasSuffix(line, ":"):
			names["otelcol_"+strings.TrimSuffix(strings.TrimSpace(line), ":")] = true
		}
	}
	return names
})

// logsWith returns the log messages whose fields include key=value.
func (h *harness) logsWith(key, value string) []string {
	var out []string
	for _, e := range h.logs.All() {
		for _, f := range e.Context {
			if f.Key == key && f.String == value {
				out = append(out, e.Message)
			}
		}
	}
	return out
}

// sink collects delivered records by eventID.
type sink struct {
	mu      sync.Mutex
	byID    map[string]int
	records map[string]plog.LogRecord
	res     map[string]map[string]any
	total   int
	batches int
	// fail, when set, decides whether to refuse a batch (by its number).
	fail func(batch int) error
}

func newSink() *sink {
	return &sink{byID: map[string]int{}, records: map[string]plog.LogRecord{}, res: map[string]map[string]any{}}
}

func (s *sink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *sink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		if err := s.fail(s.batches); err != nil {
			return err
		}
	}
	s.batches++
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				id, _ := lr.Attributes().Get(ctattr.AttrEventID)
				s.byID[id.Str()]++
				cp := plog.NewLogRecord()
				lr.CopyTo(cp)
				s.records[id.Str()] = cp
				s.res[id.Str()] = rl.Resource().Attributes().AsRaw()
				s.total++
			}
		}
	}
	return nil
}

func (s *sink) batchCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// duplicates returns the eventIDs delivered more than once.
func (s *sink) duplicates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d []string
	for id, n := range s.byID {
		if n > 1 {
			d = append(d, id)
		}
	}
	return d
}

func (s *sink) ids() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.byID))
	for k, v := range s.byID {
		out[k] = v
	}
	return out
}

// loadSamples reads the public sample records (one JSON record per line).
func loadSamples(t testing.TB, name string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "samples", "records", name))
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

// putFile stores records as a gzipped log file and returns their eventIDs.
func putFile(t testing.TB, s3srv *devstack.S3Server, key string, records []map[string]any) []string {
	t.Helper()
	require.NoError(t, s3srv.Put(testBucket, key, trailgen.LogFile(records, true)))
	ids := make([]string, len(records))
	for i, r := range records {
		ids[i], _ = r["eventID"].(string)
	}
	return ids
}

// putGen stores n records that g generates from at in a log file of g's
// account and region (trailgen.Key with at and name), and returns its key
// and their eventIDs.
func putGen(t testing.TB, s3srv *devstack.S3Server, g *trailgen.Generator, at time.Time, name string, n int) (key string, ids []string) {
	t.Helper()
	key = trailgen.Key("", "", g.Account, "CloudTrail", g.Region, at, name)
	return key, putFile(t, s3srv, key, genRecords(g, at, n))
}

func genRecords(g *trailgen.Generator, at time.Time, n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = g.Record(at.Add(time.Duration(i) * time.Second))
	}
	return out
}

// waitPolls waits until folder (bucket, prefix) was listed twice more than
// when it was called: the poll running then has ended, and a whole poll
// after it has listed the folder and read what it found. Tests call it
// before asserting that something was not read (again), so that the
// assertion does not pass merely because no poll ran on a slow machine.
func waitPolls(t testing.TB, s3srv *devstack.S3Server, bucket, prefix string) {
	t.Helper()
	from := s3srv.Lists(bucket, prefix)
	require.Eventually(t, func() bool { return s3srv.Lists(bucket, prefix) >= from+2 }, 30*time.Second, 10*time.Millisecond,
		"no more polls of s3://%s/%s", bucket, prefix)
}

func TestReceiverMetricsFromMetadata(t *testing.T) {
	names := receiverMetrics()
	assert.True(t, names["otelcol_receiver_awscloudtrail_records"])
	assert.True(t, names["otelcol_receiver_awscloudtrail_sqs_messages"])
	assert.False(t, names["otelcol_receiver_awscloudtrail_record"], "a misspelt name is not a metric")
	assert.Len(t, names, 17)
}
