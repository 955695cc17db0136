package awscloudtrailreceiver

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestGoldenSamples: the receiver's output for the public sample records
// (console logins, an AssumeRole call, Insight events) is the golden plog
// in testdata/golden/samples.yaml — resource, scope, timestamps, severity,
// body and every attribute of every record (the data contract). The time a
// record was read (ObservedTimestamp) is ignored. UPDATE_GOLDEN=1 rewrites
// the file (and fails the run, as golden.WriteLogs does, so that an
// update is never mistaken for a pass).
func TestGoldenSamples(t *testing.T) {
	s3srv := startS3(t)
	var n int
	for _, f := range []struct{ account, kind, region, unique, samples string }{
		{"111122223333", "CloudTrail", "us-east-2", "login", "console-login.ndjson"},
		{"111111111111", "CloudTrail", "us-east-2", "sts", "assume-role.ndjson"},
		{"123456789012", "CloudTrail-Insight", "us-east-1", "ins", "insight.ndjson"},
	} {
		n += len(putFile(t, s3srv, trailgen.Key("", "", f.account, f.kind, f.region, t0, f.unique), loadSamples(t, f.samples)))
	}
	sk := new(consumertest.LogsSink)
	h := startReceiver(t, testConfig(s3srv.URL), sk, nil)
	require.Eventually(t, func() bool { return sk.LogRecordCount() >= n }, waitFor, 20*time.Millisecond)
	require.NoError(t, h.stop())
	got := mergeByResource(sk.AllLogs())
	require.Equal(t, n, got.LogRecordCount())

	path := filepath.Join("testdata", "golden", "samples.yaml")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		stable := plog.NewLogs()
		got.CopyTo(stable)
		forEachRecord(stable, func(lr plog.LogRecord) { lr.SetObservedTimestamp(0) })
		require.NoError(t, golden.WriteLogs(t, path, stable))
	}
	want, err := golden.ReadLogs(path)
	require.NoError(t, err, "run with UPDATE_GOLDEN=1 to create it")
	require.NoError(t, plogtest.CompareLogs(want, got, plogtest.IgnoreObservedTimestamp()))
}

// mergeByResource puts the records of every batch into one ResourceLogs
// per resource (the receiver's batches split them by object and size),
// in a stable order: resources by their attributes, records by eventID.
func mergeByResource(batches []plog.Logs) plog.Logs {
	merged := map[string]plog.ResourceLogs{}
	for _, ld := range batches {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				sl := rl.ScopeLogs().At(j)
				b, _ := json.Marshal(rl.Resource().Attributes().AsRaw())
				k := string(b) + "\x00" + sl.Scope().Name()
				dst, ok := merged[k]
				if !ok {
					dst = plog.NewResourceLogs()
					rl.Resource().CopyTo(dst.Resource())
					sl.Scope().CopyTo(dst.ScopeLogs().AppendEmpty().Scope())
					merged[k] = dst
				}
				sl.LogRecords().MoveAndAppendTo(dst.ScopeLogs().At(0).LogRecords())
			}
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := plog.NewLogs()
	for _, k := range keys {
		rl := merged[k]
		rl.ScopeLogs().At(0).LogRecords().Sort(func(a, b plog.LogRecord) bool { return eventID(a) < eventID(b) })
		rl.MoveTo(out.ResourceLogs().AppendEmpty())
	}
	return out
}

func eventID(lr plog.LogRecord) string {
	v, _ := lr.Attributes().Get(ctattr.AttrEventID)
	return v.Str()
}

func forEachRecord(ld plog.Logs, f func(plog.LogRecord)) {
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				f(lrs.At(k))
			}
		}
	}
}
