package e2e

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// signedStack seeds a trail with log file validation (hourly signed
// digests, a key rotation in the middle) over the last seven hours.
func signedStack(t *testing.T, perFile int) (*stack, devstack.Tree) {
	s, keys, end := newSignedStack(t)
	return s, seedSigned(t, s.s3, keys, end, perFile, "management-events", 77)
}

// newSignedStack returns a stack whose CloudTrail emulator serves two
// signing keys (a rotation four hours ago), and the end of the trees to seed.
func newSignedStack(t *testing.T) (s *stack, keys []*trailgen.KeyPair, end time.Time) {
	s = newStack(t)
	now := time.Now().UTC()
	s.start = now.Add(-8 * time.Hour)
	a, err := trailgen.NewKeyPair(now.Add(-48*time.Hour), now.Add(-4*time.Hour))
	require.NoError(t, err)
	b, err := trailgen.NewKeyPair(now.Add(-4*time.Hour), time.Time{})
	require.NoError(t, err)
	s.s3.AWS().AddPublicKey(a)
	s.s3.AWS().AddPublicKey(b)
	return s, []*trailgen.KeyPair{a, b}, now.Add(-70 * time.Minute)
}

// seedSigned seeds into s3srv the signed tree of one trail.
func seedSigned(t *testing.T, s3srv *devstack.S3Server, keys []*trailgen.KeyPair, end time.Time, perFile int, trail string, seed uint64) devstack.Tree {
	tree, err := devstack.SeedTrailTree(s3srv, devstack.TreeSpec{Bucket: bucket, Accounts: []string{"111111111111"}, Regions: []string{"us-east-1", "eu-west-1"},
		Files: 18, Every: 20 * time.Minute, End: end, RecordsPerFile: perFile, Keys: keys, Trail: trail, Seed: seed})
	require.NoError(t, err)
	sort.Strings(tree.Keys)
	sort.Strings(tree.Digests)
	return tree
}

// findings returns the integrity findings the intake received as logs
// ("status key") and as events (titles).
func findings(in *devstack.Intake) (logs, events []string) {
	for _, e := range in.Logs() {
		if st, ok := e[ctattr.AttrIntegrityStatus].(string); ok {
			key, _ := e[ctattr.AttrS3Key].(string)
			logs = append(logs, st+" "+key)
		}
	}
	for _, ev := range in.Events() {
		if strings.HasPrefix(ev.Title, "CloudTrail integrity:") {
			events = append(events, ev.Title)
		}
	}
	sort.Strings(logs)
	sort.Strings(events)
	return logs, events
}

func (s *stack) metric(t *testing.T, col *devstack.Collector, name string, labels ...string) float64 {
	t.Helper()
	v, err := col.Metrics(context.Background(), name, labels...)
	require.NoError(t, err)
	return v
}

// TestIntegrityUntouchedAcrossRestart: the built collector verifies every
// digest and log file of an untouched signed trail and reports nothing,
// also after a restart.
func TestIntegrityUntouchedAcrossRestart(t *testing.T) {
	s, tree := signedStack(t, 20)
	col := s.collector(t, "integrity.yaml")
	waitFor(t, col, 90*time.Second, "every record and every digest verified", func() bool {
		return len(logIDs(s.intake)) >= len(tree.IDs) &&
			s.metric(t, col, "otelcol_receiver_awscloudtrail_integrity_digests", `result="verified"`) >= float64(len(tree.Digests)) &&
			s.metric(t, col, "otelcol_receiver_awscloudtrail_integrity_files_verified") >= float64(len(tree.Keys))
	})
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))

	col = s.collector(t, "integrity.yaml")
	waitPolls(t, col, s.s3, tree)
	waitPolls(t, col, s.s3, tree)
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))
	assertNoFindings(t, s.intake)
}

// TestIntegrityUntouchedAfterSIGKILL: a collector killed in the middle of
// reading a signed trail, started again on the same storage, reports
// nothing: a crash can lose a hash, never raise a finding.
func TestIntegrityUntouchedAfterSIGKILL(t *testing.T) {
	s, tree := signedStack(t, 400)
	col := s.collector(t, "integrity.yaml")
	waitFor(t, col, 90*time.Second, "a third of the logs", func() bool { return len(s.intake.Logs()) >= len(tree.IDs)/3 })
	before := len(s.intake.Logs())
	require.NoError(t, col.Stop(syscall.SIGKILL, 30*time.Second))
	t.Logf("killed after %d of %d records", before, len(tree.IDs))
	require.Less(t, before, len(tree.IDs), "the kill must land in the middle of the reading")
	col = s.collector(t, "integrity.yaml")
	waitFor(t, col, 90*time.Second, "every record, and every digest read", func() bool {
		for _, d := range tree.Digests {
			if s.s3.Gets(bucket, d) == 0 {
				return false
			}
		}
		return len(logIDs(s.intake)) >= len(tree.IDs)
	})
	waitPolls(t, col, s.s3, tree)
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))
	col = s.collector(t, "integrity.yaml")
	waitPolls(t, col, s.s3, tree)
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))
	assertNoFindings(t, s.intake)
}

func assertNoFindings(t *testing.T, in *devstack.Intake) {
	t.Helper()
	logs, events := findings(in)
	assert.Empty(t, logs)
	assert.Empty(t, events)
}

// TestIntegrityTamperedTree: a modified, a deleted and an injected log file
// and a forged digest are each reported once, as a log and as an error
// event with normal priority, and nothing else, also after a restart.
func TestIntegrityTamperedTree(t *testing.T) {
	s, tree := signedStack(t, 20)
	var east []string
	for _, d := range tree.Digests {
		if strings.Contains(d, "/us-east-1/") {
			east = append(east, d)
		}
	}
	listed := func(digest string) []string {
		body, err := s.s3.Get(bucket, digest)
		require.NoError(t, err)
		var keys []string
		for _, part := range strings.Split(string(gunzip(t, body)), `"s3Object":"`)[1:] {
			keys = append(keys, part[:strings.IndexByte(part, '"')])
		}
		return keys
	}
	modified, deleted := listed(east[0])[0], listed(east[3])[1]
	body, err := s.s3.Get(bucket, modified)
	require.NoError(t, err)
	require.NoError(t, s.s3.Put(bucket, modified, devstack.Gzip(bytes.Replace(gunzip(t, body), []byte(`"readOnly":`), []byte(`"readOnly" :`), 1))))
	require.NoError(t, s.s3.Delete(bucket, deleted))
	injectAt, _ := time.Parse("20060102T1504Z", strings.Split(listed(east[0])[0][strings.LastIndexByte(listed(east[0])[0], '/')+1:], "_")[3])
	injected := trailgen.Key("", "", "111111111111", "CloudTrail", "us-east-1", injectAt.Add(5*time.Minute), "injected")
	g := trailgen.New(5, "111111111111", "us-east-1")
	require.NoError(t, s.s3.Put(bucket, injected, trailgen.LogFile([]map[string]any{g.Record(injectAt)}, true)))
	forged := east[1]
	fbody, err := s.s3.Get(bucket, forged)
	require.NoError(t, err)
	meta, err := s.s3.Metadata(bucket, forged)
	require.NoError(t, err)
	require.NoError(t, s.s3.PutWithMetadata(bucket, forged, devstack.Gzip(bytes.Replace(gunzip(t, fbody), []byte(`"logFiles":[`), []byte(`"logFiles":[ `), 1)), meta))
	want := []string{"bad_signature " + forged, "missing " + deleted, "modified " + modified, "unsigned " + injected}
	sort.Strings(want)

	col := s.collector(t, "integrity.yaml")
	waitFor(t, col, 90*time.Second, "the findings", func() bool {
		logs, events := findings(s.intake)
		return len(logs) >= len(want) && len(events) >= len(want) &&
			s.metric(t, col, "otelcol_receiver_awscloudtrail_integrity_digests") >= float64(len(tree.Digests))
	})
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))
	col = s.collector(t, "integrity.yaml")
	waitPolls(t, col, s.s3, tree)
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))

	logs, events := findings(s.intake)
	assert.Equal(t, want, logs)
	assert.Equal(t, []string{
		"CloudTrail integrity: digest signature invalid in 111111111111 us-east-1",
		"CloudTrail integrity: log file missing in 111111111111 us-east-1",
		"CloudTrail integrity: log file modified in 111111111111 us-east-1",
		"CloudTrail integrity: unsigned log file in 111111111111 us-east-1",
	}, events)
	for _, ev := range s.intake.Events() {
		if strings.HasPrefix(ev.Title, "CloudTrail integrity:") {
			assert.Equal(t, "error", ev.AlertType, ev.Title)
			assert.Equal(t, ctattr.PriorityNormal, ev.Priority, ev.Title)
		}
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := devstack.Gunzip(b)
	require.NoError(t, err)
	return out
}
