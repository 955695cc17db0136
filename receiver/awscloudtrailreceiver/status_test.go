package awscloudtrailreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestStatusMissingBucket: while the bucket is missing the receiver lists it
// again at every poll (not at the next refresh, 15 minutes later) and stays
// in one recoverable error, reported once (so that health_check's
// recovery_duration can run out); once the bucket exists its records are
// read and the status is OK.
func TestStatusMissingBucket(t *testing.T) {
	s3srv := startS3(t)
	const missing = "missing-bucket"
	sk := newSink()
	host := &deliveryStatusHost{Host: componenttest.NewNopHost(), delivered: func() bool { return true }}
	cfg := testConfig(s3srv.URL)
	cfg.Trails = []TrailConfig{{Bucket: missing}}
	// A refresh between the bucket's creation and its first file finds no
	// folder: the next one, soon, finds it.
	cfg.Discovery.RefreshInterval = 200 * time.Millisecond
	h := startReceiver(t, cfg, sk, host)

	require.Eventually(t, func() bool { return s3srv.Lists(missing, "AWSLogs/") >= 4 }, waitFor, 5*time.Millisecond,
		"the missing bucket is listed again at every poll")
	errorsReported := 0
	for _, ev := range host.all() {
		assert.NotEqual(t, componentstatus.StatusOK, ev.status, "no OK while the bucket is missing: %v", host.all())
		if ev.status == componentstatus.StatusRecoverableError {
			errorsReported++
		}
	}
	assert.Equal(t, 1, errorsReported, "one recoverable error for the whole outage: %v", host.all())

	require.NoError(t, s3srv.CreateBucket(missing))
	records := genRecords(trailgen.New(2, "333333333333", "us-east-1"), t0, 3)
	key := trailgen.Key("", "", "333333333333", "CloudTrail", "us-east-1", t0, "late")
	require.NoError(t, s3srv.Put(missing, key, trailgen.LogFile(records, true)))
	var ids []string
	for _, r := range records {
		ids = append(ids, r["eventID"].(string))
	}
	require.Eventually(t, func() bool {
		ev := host.all()
		return hasAll(sk, ids) && ev[len(ev)-1].status == componentstatus.StatusOK
	}, waitFor, 5*time.Millisecond)
	require.NoError(t, h.stop())
}

// TestStatusAccessDenied: a folder whose listing is denied keeps the
// receiver in one recoverable error until access is granted again.
func TestStatusAccessDenied(t *testing.T) {
	s3srv := startS3(t)
	_, ids := putFolder(t, s3srv, "333333333333", t0, 1, 2)
	sk := newSink()
	host := &deliveryStatusHost{Host: componenttest.NewNopHost(), delivered: func() bool { return true }}
	cfg := testConfig(s3srv.URL)
	s3srv.FailList(testBucket, devstack.Fault{Status: 403, Code: "AccessDenied"})
	h := startReceiver(t, cfg, sk, host)
	require.Eventually(t, func() bool { return s3srv.Lists(testBucket, "AWSLogs/") >= 4 }, waitFor, 5*time.Millisecond)
	var statuses []componentstatus.Status
	for _, ev := range host.all() {
		statuses = append(statuses, ev.status)
	}
	assert.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError}, statuses)

	s3srv.FailList(testBucket, devstack.Fault{Status: 403, Code: "AccessDenied", Times: 1}) // the last denial
	require.Eventually(t, func() bool {
		ev := host.all()
		return hasAll(sk, ids) && ev[len(ev)-1].status == componentstatus.StatusOK
	}, waitFor, 5*time.Millisecond)
	require.NoError(t, h.stop())
}

// TestStatusDiscoveryDenied: a denied DescribeTrails puts the receiver in
// a recoverable error at once — when the first region's call fails, not at
// the end of the poll interval (so /health/status does not stay healthy
// for a poll interval or longer) — reported once while it lasts, and OK
// after discovery works again and the trail's records are read.
func TestStatusDiscoveryDenied(t *testing.T) {
	s3srv := startS3(t)
	apis := s3srv.AWS()
	require.NoError(t, s3srv.CreateBucket("bucket-a"))
	apis.PutTrail(devstack.Trail{Name: "a", HomeRegion: "us-east-1", Account: "111111111111", Bucket: "bucket-a", Logging: true})
	want := putTree(t, s3srv, "bucket-a", "", "", []string{"111111111111"}, []string{"us-east-1"}, 110)
	apis.Deny("DescribeTrails", true)

	sk := newSink()
	// With each status, the host records whether the emulator had answered
	// only the first DescribeTrails when it was reported.
	firstCallOnly := func() bool { return apis.Calls("DescribeTrails") == 1 }
	host := &deliveryStatusHost{Host: componenttest.NewNopHost(), delivered: firstCallOnly}
	cfg := discoveryConfig(s3srv.URL) // three discovery regions: three calls per refresh
	h := startReceiver(t, cfg, sk, host)

	require.Eventually(t, func() bool { return apis.Calls("DescribeTrails") >= 4*len(cfg.Discovery.Regions) }, waitFor, 5*time.Millisecond,
		"discovery is tried again at every poll while it fails")
	events := host.all()
	require.NotEmpty(t, events)
	assert.Equal(t, deliveryStatus{componentstatus.StatusRecoverableError, true}, events[0],
		"the error is reported when the first DescribeTrails fails, before the poll interval ends: %v", events)
	assert.Len(t, events, 1, "one recoverable error for the whole outage: %v", events)

	apis.Deny("DescribeTrails", false)
	require.Eventually(t, func() bool {
		ev := host.all()
		return hasAll(sk, want) && ev[len(ev)-1].status == componentstatus.StatusOK
	}, waitFor, 5*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, want)
}

// TestStatusFirstListingFailure: a trail bucket that cannot be listed at
// the start reports the recoverable error when the listing fails, not at
// the end of the first poll interval (an hour here), and the warning says
// the listing failed instead of pointing at the configuration.
func TestStatusFirstListingFailure(t *testing.T) {
	host := &deliveryStatusHost{Host: componenttest.NewNopHost(), delivered: func() bool { return true }}
	s3srv := startS3(t)
	cfg := testConfig(s3srv.URL)
	cfg.PollInterval = time.Hour
	cfg.Trails = []TrailConfig{{Bucket: "missing-bucket"}}
	h := startReceiver(t, cfg, newSink(), host)
	require.Eventually(t, func() bool { return len(host.all()) > 0 }, 10*time.Second, 5*time.Millisecond,
		"the failed listing is reported before the first poll interval ends")
	assert.Equal(t, componentstatus.StatusRecoverableError, host.all()[0].status)

	require.Eventually(t, func() bool { return h.logs.FilterMessageSnippet("CloudTrail folders").Len() > 0 }, waitFor, 5*time.Millisecond)
	assert.Zero(t, h.logs.FilterMessageSnippet("check the trails").Len(), "no advice about the configuration when the listing failed")
	assert.NotZero(t, h.logs.FilterMessageSnippet("No CloudTrail folders found yet: listing 1 of 1 trails failed (see the errors above); tried again at the next poll").Len())
	require.NoError(t, h.stop())
}

// TestDiscoveryFailureMessage: a denied DescribeTrails says it is tried
// again at the next poll, as it is (the refresh is incomplete).
func TestDiscoveryFailureMessage(t *testing.T) {
	s3srv := startS3(t)
	s3srv.AWS().Deny("DescribeTrails", true)
	cfg := discoveryConfig(s3srv.URL)
	cfg.Discovery.Regions = []string{"us-east-1"}
	h := startReceiver(t, cfg, newSink(), nil)
	require.Eventually(t, func() bool { return s3srv.AWS().Calls("DescribeTrails") >= 2 }, waitFor, 5*time.Millisecond,
		"tried again at the next poll")
	denied := h.logs.FilterMessageSnippet("DescribeTrails on region us-east-1 was denied").All()
	require.NotEmpty(t, denied)
	assert.Contains(t, denied[0].Message, "it is tried again at the next poll")
	assert.NotZero(t, h.logs.FilterMessageSnippet("No CloudTrail folders found yet: discovery failed (see the errors above)").Len(), "%v", h.logs.All())
	require.NoError(t, h.stop())
}
