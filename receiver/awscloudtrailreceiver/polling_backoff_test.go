package awscloudtrailreceiver

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// putFolder stores n one-record objects in one folder, a minute apart
// from start, and returns their keys and eventIDs.
func putFolder(t testing.TB, s3srv *devstack.S3Server, account string, start time.Time, n int, seed uint64) (keys, ids []string) {
	t.Helper()
	g := trailgen.New(seed, account, "us-east-1")
	for i := range n {
		at := start.Add(time.Duration(i) * time.Minute)
		key := trailgen.Key("", "", account, "CloudTrail", "us-east-1", at, fmt.Sprintf("o%04d", i))
		keys = append(keys, key)
		ids = append(ids, putFile(t, s3srv, key, genRecords(g, at, 1))...)
	}
	return keys, ids
}

// TestPollingDeniedFolder: a folder where every object is denied
// (missing kms:Decrypt for one account) has each object retried with its
// own backoff, not on every poll; its failures are written to the
// checkpoint at a bounded rate; and the other folders go on.
func TestPollingDeniedFolder(t *testing.T) {
	s3srv := startS3(t)
	const n = 300
	deniedKeys, _ := putFolder(t, s3srv, "333333333333", t0, n, 1)
	s3srv.FailGet(testBucket, "AWSLogs/333333333333/*", devstack.Fault{Status: 403, Code: "AccessDenied"})
	_, okIDs := putFolder(t, s3srv, "111111111111", t0, 1, 2)

	mem := newMemStorage()
	cfg, host := memConfig(s3srv.URL, mem)
	sk := newSink()
	h := startReceiverHooked(t, cfg, sk, host, func(r *cloudtrailReceiver) { r.tune.retryBase = 10 * time.Minute })
	failed := func() int64 {
		return h.counter(t, "otelcol_receiver_awscloudtrail_objects_failed", "reason", "access_denied")
	}
	require.Eventually(t, func() bool { return failed() >= n && hasAll(sk, okIDs) }, waitFor, 5*time.Millisecond)
	firstRound := mem.bytesWritten()

	// The other folder goes on: a new object is read at a later poll.
	canaryKeys, canary := putFolder(t, s3srv, "111111111111", t0.Add(time.Hour), 1, 3)
	require.Eventually(t, func() bool { return hasAll(sk, canary) }, waitFor, 5*time.Millisecond)
	require.NoError(t, h.stop())
	writes, written := mem.Written()
	t.Logf("%d denied objects: %d bytes written to storage in %d writes (%d after the first round)", n, written, writes, firstRound)

	gets := 0
	for _, k := range deniedKeys {
		gets += s3srv.Gets(testBucket, k)
	}
	assert.Equal(t, n, gets, "each denied object is fetched once, then waits for its backoff")
	assert.Equal(t, 1, s3srv.Gets(testBucket, canaryKeys[0]))
	assert.Less(t, written, 1<<20, "failures are written at a bounded rate")

	// The backoff is in the checkpoint.
	pending := 0
	for _, st := range mem.folderStates(t) {
		for _, p := range st.Pending {
			pending++
			assert.Equal(t, 1, p.Attempts)
			assert.True(t, p.Retry.After(time.Now().Add(5*time.Minute)), "retry in about 10 minutes: %s", p.Retry)
		}
	}
	assert.Equal(t, n, pending)
}

// TestPollingSlowFolderDoesNotHoldOthers: an object whose GetObject does
// not answer holds one reader, not the polls of the other folders.
func TestPollingSlowFolderDoesNotHoldOthers(t *testing.T) {
	s3srv := startS3(t)
	slowKeys, _ := putFolder(t, s3srv, "333333333333", t0, 1, 1)
	_, okIDs := putFolder(t, s3srv, "111111111111", t0, 1, 2)
	held := make(chan struct{})
	gs := &gatedStore{holdGet: map[string]chan struct{}{slowKeys[0]: held}}
	cfg := testConfig(s3srv.URL)
	cfg.Workers = 2
	sk := newSink()
	h := startReceiverHooked(t, cfg, sk, nil, func(r *cloudtrailReceiver) {
		r.tune.wrapS3 = func(s objectStore) objectStore { gs.objectStore = s; return gs }
	})
	require.Eventually(t, func() bool {
		select {
		case <-held:
			return hasAll(sk, okIDs)
		default:
			return false
		}
	}, waitFor, 5*time.Millisecond)
	_, canary := putFolder(t, s3srv, "111111111111", t0.Add(time.Hour), 1, 3)
	require.Eventually(t, func() bool { return hasAll(sk, canary) }, waitFor, 5*time.Millisecond,
		"a new object of another folder is read while the slow one is still being fetched")
	// The slow folder is polled again meanwhile, without fetching its
	// object a second time while it is read.
	slowPrefix := "AWSLogs/333333333333/CloudTrail/us-east-1/"
	_, lists := gs.calls(slowKeys[0], slowPrefix)
	require.Eventually(t, func() bool { _, l := gs.calls(slowKeys[0], slowPrefix); return l >= lists+3 }, waitFor, 5*time.Millisecond)
	gets, _ := gs.calls(slowKeys[0], slowPrefix)
	assert.Equal(t, 1, gets, "an object being read is not dispatched again")
	require.NoError(t, h.stop())
}
