package awscloudtrailreceiver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// putTree stores files for accounts and regions in bucket and returns the eventIDs.
func putTree(t testing.TB, s3srv *devstack.S3Server, bucket, prefix, org string, accounts, regions []string, seed uint64) []string {
	t.Helper()
	var ids []string
	for _, acct := range accounts {
		for _, region := range regions {
			seed++
			g := trailgen.New(seed, acct, region)
			for f := 0; f < 2; f++ {
				at := t0.Add(time.Duration(f*5) * time.Minute)
				key := trailgen.Key(prefix, org, acct, "CloudTrail", region, at, fmt.Sprintf("s%d", seed*10+uint64(f)))
				recs := genRecords(g, at, 5)
				require.NoError(t, s3srv.Put(bucket, key, trailgen.LogFile(recs, true)))
				for _, r := range recs {
					ids = append(ids, r["eventID"].(string))
				}
			}
		}
	}
	return ids
}

func discoveryConfig(endpoint string) *Config {
	cfg := testConfig(endpoint)
	cfg.Trails = nil
	cfg.Discovery.Enabled = true
	cfg.Discovery.Regions = []string{"us-east-1", "eu-west-1", "ap-south-1"}
	return cfg
}

func assertExactlyOnce(t testing.TB, sk *sink, want []string) {
	t.Helper()
	got := sk.ids()
	assert.Len(t, got, len(want))
	for _, id := range want {
		assert.Equal(t, 1, got[id], id)
	}
}

func TestDiscoveryTrails(t *testing.T) {
	s3srv := startS3(t)
	apis := s3srv.AWS()
	for _, b := range []string{"bucket-a", "bucket-b", "org-bucket"} {
		require.NoError(t, s3srv.CreateBucket(b))
	}
	// A multi-region trail, seen as a shadow trail in the other regions.
	apis.PutTrail(devstack.Trail{Name: "management", HomeRegion: "us-east-1", Account: "111111111111", Bucket: "bucket-a", Prefix: "mgmt", MultiRegion: true, Logging: true})
	// Another trail writing to the same bucket and prefix: read once.
	apis.PutTrail(devstack.Trail{Name: "copy", HomeRegion: "eu-west-1", Account: "111111111111", Bucket: "bucket-a", Prefix: "mgmt", Logging: true})
	// A trail that is not logging.
	apis.PutTrail(devstack.Trail{Name: "stopped", HomeRegion: "us-east-1", Account: "111111111111", Bucket: "bucket-b", Logging: false, LatestDeliveryError: "AccessDenied"})
	// An organization trail whose bucket lives in eu-west-1.
	apis.PutTrail(devstack.Trail{Name: "org", HomeRegion: "us-east-1", Account: "111111111111", Bucket: "org-bucket", MultiRegion: true, Organization: true, Logging: true})
	apis.SetOrganization("o-org1234567")
	apis.SetBucketRegion("org-bucket", "eu-west-1")

	want := putTree(t, s3srv, "bucket-a", "mgmt", "", []string{"111111111111"}, []string{"us-east-1", "eu-west-1"}, 10)
	want = append(want, putTree(t, s3srv, "org-bucket", "", "o-org1234567", []string{"111111111111", "222222222222", "333333333333"}, []string{"us-east-1"}, 20)...)
	// Another organization's folder in the same bucket is not this organization's.
	putTree(t, s3srv, "org-bucket", "", "o-other99999", []string{"444444444444"}, []string{"us-east-1"}, 30)
	putTree(t, s3srv, "bucket-b", "", "", []string{"111111111111"}, []string{"us-east-1"}, 40)

	sk := newSink()
	h := startReceiver(t, discoveryConfig(s3srv.URL), sk, nil)
	require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 20*time.Millisecond)
	waitPolls(t, s3srv, "bucket-a", "mgmt/AWSLogs/111111111111/CloudTrail/us-east-1/")
	require.NoError(t, h.stop())

	assertExactlyOnce(t, sk, want)
	assert.Equal(t, 3, apis.Calls("DescribeTrails"), "one call per discovery region")
	assert.Positive(t, apis.Calls("DescribeOrganization"))
	assert.Positive(t, apis.Signed("s3", "eu-west-1", ""), "the eu-west-1 bucket is read with an eu-west-1 client")
	assert.NotEmpty(t, h.logsWith("trail", "arn:aws:cloudtrail:us-east-1:111111111111:trail/stopped"), "the skipped trail is logged")
	for _, e := range h.logs.All() {
		if strings.Contains(e.Message, "not logging") {
			assert.Equal(t, "AccessDenied", e.ContextMap()["latest_delivery_error"])
		}
	}
}

func TestDiscoveryOrganizationDenied(t *testing.T) {
	s3srv := startS3(t)
	apis := s3srv.AWS()
	require.NoError(t, s3srv.CreateBucket("org-bucket"))
	apis.PutTrail(devstack.Trail{Name: "org", HomeRegion: "us-east-1", Account: "111111111111", Bucket: "org-bucket", Organization: true, Logging: true})
	apis.SetOrganization("o-org1234567")
	apis.Deny("DescribeOrganization", true)
	want := putTree(t, s3srv, "org-bucket", "", "o-org1234567", []string{"111111111111", "222222222222"}, []string{"us-east-1"}, 50)

	sk := newSink()
	h := startReceiver(t, discoveryConfig(s3srv.URL), sk, nil)
	require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 20*time.Millisecond)
	waitPolls(t, s3srv, "org-bucket", "AWSLogs/o-org1234567/111111111111/CloudTrail/us-east-1/")
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, want)
	found := false
	for _, e := range h.logs.All() {
		found = found || strings.Contains(e.Message, "organizations:DescribeOrganization")
	}
	assert.True(t, found, "the denied call names the missing IAM action")
}

func TestDiscoveryRefresh(t *testing.T) {
	s3srv := startS3(t)
	apis := s3srv.AWS()
	for _, b := range []string{"bucket-a", "bucket-new"} {
		require.NoError(t, s3srv.CreateBucket(b))
	}
	trailA := devstack.Trail{Name: "a", HomeRegion: "us-east-1", Account: "111111111111", Bucket: "bucket-a", Logging: true}
	apis.PutTrail(trailA)
	want := putTree(t, s3srv, "bucket-a", "", "", []string{"111111111111"}, []string{"us-east-1"}, 60)
	cfg := discoveryConfig(s3srv.URL)
	cfg.Discovery.RefreshInterval = 200 * time.Millisecond
	sk := newSink()
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 20*time.Millisecond)

	// A trail created after start is picked up at the next refresh.
	apis.PutTrail(devstack.Trail{Name: "new", HomeRegion: "us-east-1", Account: "111111111111", Bucket: "bucket-new", Logging: true})
	want = append(want, putTree(t, s3srv, "bucket-new", "", "", []string{"111111111111"}, []string{"us-east-1"}, 70)...)
	require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 20*time.Millisecond)

	// A trail that stops logging is not polled any more.
	trailA.Logging = false
	apis.PutTrail(trailA)
	require.Eventually(t, func() bool { return len(h.logsWith("trail", trailA.ARN())) > 0 }, waitFor, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		return len(h.logsWith("folder", "bucket-a/AWSLogs/111111111111/CloudTrail/us-east-1/")) > 0
	}, waitFor, 20*time.Millisecond, "the folder is dropped")
	// The refresh logs the drop before it stops the folder's loop, which
	// may still be polling: wait until the loop has stopped (the refresh
	// stores the folder count after stopping the folders it drops) before
	// putting the file it must not read.
	p := h.rcv.src.(*poller)
	require.Eventually(t, func() bool { return p.folderCount.Load() == 1 }, waitFor, 5*time.Millisecond,
		"only the new trail's folder is polled")
	g := trailgen.New(80, "111111111111", "us-east-1")
	lateKey := trailgen.Key("", "", "111111111111", "CloudTrail", "us-east-1", t0.Add(20*time.Minute), "after-stop")
	require.NoError(t, s3srv.Put("bucket-a", lateKey, trailgen.LogFile(genRecords(g, t0, 3), true)))
	waitPolls(t, s3srv, "bucket-new", "AWSLogs/111111111111/CloudTrail/us-east-1/")
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, want)
	assert.Zero(t, s3srv.Gets("bucket-a", lateKey))
}

func TestAccessDeniedForOneAccount(t *testing.T) {
	s3srv := startS3(t)
	want := putTree(t, s3srv, testBucket, "", "", []string{"111111111111", "222222222222"}, []string{"us-east-1"}, 90)
	denied := putTree(t, s3srv, testBucket, "", "", []string{"333333333333"}, []string{"us-east-1"}, 95)
	s3srv.FailGet(testBucket, "AWSLogs/333333333333/*", devstack.Fault{Status: 403, Code: "AccessDenied"})
	sk := newSink()
	h := startReceiver(t, testConfig(s3srv.URL), sk, nil)
	require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 20*time.Millisecond)
	waitPolls(t, s3srv, testBucket, "AWSLogs/111111111111/CloudTrail/us-east-1/")
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, want)
	assert.Positive(t, h.counter(t, "otelcol_receiver_awscloudtrail_objects_failed", "reason", "access_denied"))
	found := false
	for _, e := range h.logs.All() {
		found = found || strings.Contains(e.Message, "needs s3:GetObject") && strings.Contains(e.Message, "333333333333")
	}
	assert.True(t, found, "the log names the call, the object and the IAM action")
	assert.NotEmpty(t, denied)
}

func TestAssumeRole(t *testing.T) {
	s3srv := startS3(t)
	apis := s3srv.AWS()
	const role = "arn:aws:iam::999999999999:role/cloudtrail-reader"
	apis.AllowRole(role, "ext-42")
	want := putTree(t, s3srv, testBucket, "", "", []string{"111111111111"}, []string{"us-east-1"}, 100)
	cfg := testConfig(s3srv.URL)
	cfg.RoleARN, cfg.ExternalID = role, "ext-42"
	sk := newSink()
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 20*time.Millisecond)
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, want)
	assert.Equal(t, 1, apis.Calls("AssumeRole"), "credentials are cached until they near expiry")
	assert.Positive(t, apis.Signed("s3", "", "ASIAASSUMEDROLE00001"), "S3 is called with the role's credentials")
	assert.Zero(t, apis.Signed("s3", "", "AKIDTEST"), "never with the base credentials")

	// A wrong external ID: the role cannot be assumed, nothing is read, the error says why.
	cfg.ExternalID = "wrong"
	sk2 := newSink()
	h2 := startReceiver(t, cfg, sk2, nil)
	require.Eventually(t, func() bool {
		for _, e := range h2.logs.All() {
			if strings.Contains(fmt.Sprint(e.ContextMap()["error"]), "AssumeRole") {
				return true
			}
		}
		return false
	}, waitFor, 20*time.Millisecond)
	require.NoError(t, h2.stop())
	assert.Zero(t, sk2.count())
}
