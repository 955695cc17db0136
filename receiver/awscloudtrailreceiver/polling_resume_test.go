package awscloudtrailreceiver

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestPollingFolderReaddedWithoutStorage: without a storage extension, a
// folder that a refresh drops (its trail stops logging) and adds again
// (the trail resumes) goes on from its state: nothing is sent twice.
func TestPollingFolderReaddedWithoutStorage(t *testing.T) {
	s3srv := startS3(t)
	apis := s3srv.AWS()
	require.NoError(t, s3srv.CreateBucket("bucket-a"))
	trail := devstack.Trail{Name: "a", HomeRegion: "us-east-1", Account: "111111111111", Bucket: "bucket-a", Logging: true}
	apis.PutTrail(trail)
	want := putTree(t, s3srv, "bucket-a", "", "", []string{"111111111111"}, []string{"us-east-1"}, 60)
	cfg := discoveryConfig(s3srv.URL)
	cfg.Discovery.RefreshInterval = 100 * time.Millisecond
	cfg.Workers = 1 // objects are read in key order: the last one read ends the test
	sk := newSink()
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 5*time.Millisecond)

	trail.Logging = false
	apis.PutTrail(trail)
	dropped := func() bool {
		for _, e := range h.logs.All() {
			if e.Message == "CloudTrail folder no longer belongs to a trail being read; it is not polled any more (its checkpoint is kept)" {
				return true
			}
		}
		return false
	}
	require.Eventually(t, dropped, waitFor, 5*time.Millisecond)
	trail.Logging = true
	apis.PutTrail(trail)

	g := trailgen.New(81, "111111111111", "us-east-1")
	at := t0.Add(3 * time.Hour)
	recs := genRecords(g, at, 3)
	require.NoError(t, s3srv.Put("bucket-a", trailgen.Key("", "", "111111111111", "CloudTrail", "us-east-1", at, "after-resume"), trailgen.LogFile(recs, true)))
	var last []string
	for _, r := range recs {
		last = append(last, r["eventID"].(string))
	}
	want = append(want, last...)
	require.Eventually(t, func() bool { return hasAll(sk, last) }, waitFor, 5*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, slices.Clone(want))
}
