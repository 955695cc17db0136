// Package e2e tests the otelcol-cloudtrail binary that ocb builds from
// builder-config.yaml, run with real YAML configurations against the local
// S3 server and Datadog intake emulator. `make e2e` builds the binary and
// runs these tests; without OTELCOL_BINARY they are skipped.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

const (
	bucket = "e2e-bucket"
	apiKey = "e2e0123456789abcdef0123456789abc"
)

func binary(t *testing.T) string {
	b := os.Getenv("OTELCOL_BINARY")
	if b == "" {
		t.Skip("OTELCOL_BINARY is not set: `make e2e` builds the collector and runs these tests")
	}
	return b
}

// stack is the local S3 server and intake, and what the collector needs to reach them.
type stack struct {
	bin     string
	s3      *devstack.S3Server
	intake  *devstack.Intake
	storage string
	start   time.Time
	runs    int
	// logPath is the output file of the last collector started.
	logPath string
}

func newStack(t *testing.T) *stack {
	s := &stack{bin: binary(t), storage: t.TempDir(), start: time.Now().UTC().Add(-3 * time.Hour)}
	var err error
	s.s3, err = devstack.StartS3("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(s.s3.Close)
	s.intake, err = devstack.StartIntake("127.0.0.1:0", apiKey)
	require.NoError(t, err)
	t.Cleanup(s.intake.Close)
	return s
}

// collector starts the binary with config; its output goes to a file that
// is printed when the test fails.
func (s *stack) collector(t *testing.T, config string) *devstack.Collector {
	s.runs++
	logPath := filepath.Join(t.TempDir(), fmt.Sprintf("collector-%d.log", s.runs))
	out, err := os.Create(logPath)
	require.NoError(t, err)
	s.logPath = logPath
	col, err := devstack.StartCollector(s.bin, filepath.Join("testdata", config), map[string]string{
		"E2E_S3": s.s3.URL, "E2E_DD": s.intake.URL, "DD_API_KEY": apiKey, "E2E_STORAGE": s.storage,
		"E2E_START_TIME": s.start.Format(time.RFC3339), "AWS_ACCESS_KEY_ID": "e2e", "AWS_SECRET_ACCESS_KEY": "e2e",
		"AWS_EC2_METADATA_DISABLED": "true",
	}, out)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = col.Stop(syscall.SIGTERM, 30*time.Second)
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("collector log %s: warnings and errors %v; last 8 KB:\n%s", logPath, problems(b), tail(b, 8<<10))
		}
	})
	return col
}

// problems counts the warning and error lines of a collector log by
// message (the tail alone may show only one message's stack traces).
func problems(log []byte) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(string(log), "\n") {
		f := strings.SplitN(line, "\t", 5)
		if len(f) == 5 && (f[1] == "warn" || f[1] == "error") {
			msg, _, _ := strings.Cut(f[3], "\t")
			out[f[1]+": "+msg]++
		}
	}
	return out
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (s *stack) seed(t *testing.T, files, perFile int) devstack.Tree {
	tree, err := devstack.SeedTrailTree(s.s3, devstack.TreeSpec{
		Bucket: bucket, Org: "o-e2etest0001", Accounts: []string{"111111111111", "222222222222"},
		Regions: []string{"us-east-1", "eu-west-1"}, Files: files, Every: time.Minute, End: time.Now().UTC().Add(-time.Minute),
		RecordsPerFile: perFile, Insights: true, Seed: 1000,
	})
	require.NoError(t, err)
	return tree
}

// logIDs counts the log entries the intake accepted, by eventID.
func logIDs(in *devstack.Intake) map[string]int {
	ids := map[string]int{}
	for _, e := range in.Logs() {
		id, _ := e["eventID"].(string)
		ids[id]++
	}
	return ids
}

// waitFor waits until cond holds, failing after timeout or if the
// collector exits.
func waitFor(t *testing.T, col *devstack.Collector, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-col.Done():
			t.Fatalf("the collector exited while waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}

// waitPolls waits until every folder of tree was listed twice more: the
// poll running when it was called has ended and a whole one followed, so
// an assertion that nothing arrived twice cannot pass merely because no
// poll ran on a slow machine.
var datePath = regexp.MustCompile(`/\d{4}/\d{2}/\d{2}/[^/]+$`)

func waitPolls(t *testing.T, col *devstack.Collector, s3srv *devstack.S3Server, tree devstack.Tree) {
	t.Helper()
	from := map[string]int{}
	for _, key := range tree.Keys {
		folder := datePath.ReplaceAllString(key, "/") // …/CloudTrail/REGION/ without YYYY/MM/DD/file
		if _, ok := from[folder]; !ok {
			from[folder] = s3srv.Lists(tree.Bucket, folder)
		}
	}
	waitFor(t, col, 60*time.Second, "two more polls of every folder", func() bool {
		for folder, n := range from {
			if s3srv.Lists(tree.Bucket, folder) < n+2 {
				return false
			}
		}
		return true
	})
}

// TestPipeline: every record that the filter keeps arrives as a log once,
// with the transform's attribute, and as an event with its priority; bad
// objects are reported and the rest flows.
func TestPipeline(t *testing.T) {
	s := newStack(t)
	tree := s.seed(t, 5, 40)
	badKeys := []string{
		"AWSLogs/o-e2etest0001/111111111111/CloudTrail/us-east-1/" + time.Now().UTC().Format("2006/01/02") + "/111111111111_CloudTrail_us-east-1_" + time.Now().UTC().Add(-3*time.Minute).Format("20060102T1504") + "Z_corrupt.json.gz",
		"AWSLogs/o-e2etest0001/222222222222/CloudTrail/eu-west-1/" + time.Now().UTC().Format("2006/01/02") + "/222222222222_CloudTrail_eu-west-1_" + time.Now().UTC().Add(-3*time.Minute).Format("20060102T1504") + "Z_other.json.gz",
	}
	corrupt := devstack.Gzip([]byte(`{"Records":[]}`))
	corrupt[10] = 0xff
	require.NoError(t, s.s3.Put(bucket, badKeys[0], corrupt))
	require.NoError(t, s.s3.Put(bucket, badKeys[1], devstack.Gzip([]byte(`{"not":"cloudtrail"}`))))

	var want []string
	for _, id := range tree.IDs {
		if !tree.Records[id].ReadOnly {
			want = append(want, id)
		}
	}
	col := s.collector(t, "processors.yaml")
	waitFor(t, col, 60*time.Second, "the logs", func() bool { return len(s.intake.Logs()) >= len(want) })
	waitFor(t, col, 60*time.Second, "the events", func() bool { return len(s.intake.Events()) >= len(want) })
	waitPolls(t, col, s.s3, tree) // more polls: nothing arrives twice
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))

	ids := logIDs(s.intake)
	assert.Len(t, ids, len(want))
	for _, id := range want {
		assert.Equal(t, 1, ids[id], id)
	}
	for _, e := range s.intake.Logs() {
		assert.Equal(t, "e2e", e["pipeline"], "the transform processor's attribute")
		assert.NotEqual(t, true, e["readOnly"], "the filter processor dropped read-only calls")
	}
	collectorLog, err := os.ReadFile(s.logPath)
	require.NoError(t, err)
	for _, k := range badKeys {
		assert.Contains(t, string(collectorLog), k, "the bad object is named in the collector's log")
	}
	assert.Contains(t, string(collectorLog), `"reason": "corrupt_gzip"`)
	assert.Contains(t, string(collectorLog), `"reason": "not_cloudtrail"`)

	events := s.intake.Events()
	assert.Len(t, events, len(want))
	for _, ev := range events {
		id := eventID(ev)
		info, ok := tree.Records[id]
		require.True(t, ok, ev.Title)
		wantPriority := ctattr.PriorityLow
		if slices.Contains(ctattr.DefaultNormalServices, info.Service) || info.Insight {
			wantPriority = ctattr.PriorityNormal
		}
		assert.Equal(t, wantPriority, ev.Priority, ev.Title)
		assert.Contains(t, ev.Tags, "priority:"+wantPriority)
	}
}

// eventID reads the Event ID row of an event's text.
func eventID(ev devstack.Event) string {
	_, after, ok := strings.Cut(ev.Text, "| Event ID | ")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(after, " |")
	return id
}

// restartTest stops the collector with sig in the middle of a backfill,
// starts it again on the same storage and returns the intake's counts.
func restartTest(t *testing.T, sig syscall.Signal) (tree devstack.Tree, ids map[string]int) {
	s := newStack(t)
	tree = s.seed(t, 30, 100)
	total := len(tree.IDs)
	col := s.collector(t, "durable.yaml")
	waitFor(t, col, 60*time.Second, "a quarter of the logs", func() bool { return len(s.intake.Logs()) >= total/4 })
	before := len(s.intake.Logs())
	require.NoError(t, col.Stop(sig, 30*time.Second))
	t.Logf("stopped with %s after %d of %d records", sig, before, total)
	require.Less(t, before, total, "the stop must land in the middle of the backfill")

	col = s.collector(t, "durable.yaml")
	waitFor(t, col, 120*time.Second, "every record", func() bool { return len(logIDs(s.intake)) >= total })
	waitPolls(t, col, s.s3, tree)
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))
	return tree, logIDs(s.intake)
}

func TestRestartAfterSIGTERM(t *testing.T) {
	tree, ids := restartTest(t, syscall.SIGTERM)
	for _, id := range tree.IDs {
		assert.Equal(t, 1, ids[id], "record %s", id)
	}
	assert.Len(t, ids, len(tree.IDs))
}

func TestRestartAfterSIGKILL(t *testing.T) {
	tree, ids := restartTest(t, syscall.SIGKILL)
	dups := 0
	for _, id := range tree.IDs {
		require.GreaterOrEqual(t, ids[id], 1, "record %s lost", id)
		dups += ids[id] - 1
	}
	assert.Len(t, ids, len(tree.IDs))
	// Duplicates come only from what was in flight at the kill: one
	// receiver batch per worker (4 × 500) and the exporter requests being
	// sent (2 consumers × 2000).
	const bound = 4*500 + 2*2000
	t.Logf("SIGKILL: %d records, %d delivered twice (bound %d)", len(tree.IDs), dups, bound)
	assert.LessOrEqual(t, dups, bound)
}

// TestIntakeFaults: the intake answers 429 and 500 for a while, then
// recovers; nothing is lost and nothing is sent twice.
func TestIntakeFaults(t *testing.T) {
	s := newStack(t)
	tree := s.seed(t, 5, 40)
	for _, path := range []string{"/api/v2/logs", "/api/v1/events"} {
		s.intake.Fail(devstack.IntakeFault{Path: path, Status: 429, Times: 4, RetryAfter: 1})
		s.intake.Fail(devstack.IntakeFault{Path: path, Status: 500, Times: 4})
	}
	col := s.collector(t, "durable.yaml")
	waitFor(t, col, 90*time.Second, "every record", func() bool { return len(s.intake.Logs()) >= len(tree.IDs) })
	waitPolls(t, col, s.s3, tree)
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))
	ids := logIDs(s.intake)
	assert.Len(t, ids, len(tree.IDs))
	for _, id := range tree.IDs {
		assert.Equal(t, 1, ids[id], id)
	}
	assert.Equal(t, 8, s.intake.Rejected(429))
	assert.Equal(t, 8, s.intake.Rejected(500))
}
