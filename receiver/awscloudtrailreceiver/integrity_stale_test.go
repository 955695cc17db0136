package awscloudtrailreceiver

import (
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
)

// staleEnv is a signed tree read in SQS mode (integrity window 2h) but
// for two files of its first hour, notified late.
type staleEnv struct {
	s3srv       *devstack.S3Server
	qc          *sqs.Client
	queueURL    string
	tree        devstack.Tree
	late, late2 string
	lp          keylayout.Prefix
	lateTime    time.Time
	cfg         *Config
	host        component.Host
	sk          *findingSink
}

// newStaleEnv reads the tree but the late files; h is the receiver, running.
func newStaleEnv(t *testing.T) (e *staleEnv, h *harness) {
	e = &staleEnv{s3srv: startS3(t)}
	e.tree = signedTree(t, e.s3srv)
	e.qc = queueClient(e.s3srv.URL)
	e.queueURL, _ = createQueue(t, e.qc, "cloudtrail", 30*time.Second, 2)
	sort.Strings(e.tree.Keys)
	// The first two files of one region, notified late.
	e.late, e.late2 = e.tree.Keys[0], e.tree.Keys[1]
	e.lp, e.lateTime, _ = keylayout.Parse(e.late)
	if p2, _, _ := keylayout.Parse(e.late2); p2 != e.lp {
		t.Fatalf("%s and %s in two folders", e.late, e.late2)
	}
	// Announce every other object in delivery order (by the time in its name).
	at := func(k string) string {
		if dk, ok := integrity.ParseDigestKey(k); ok {
			return dk.End.Format(time.RFC3339)
		}
		_, ft, _ := keylayout.Parse(k)
		return ft.Format(time.RFC3339)
	}
	var objs []string
	for _, k := range append(append([]string(nil), e.tree.Keys...), e.tree.Digests...) {
		if k != e.late && k != e.late2 {
			objs = append(objs, k)
		}
	}
	sort.Slice(objs, func(i, j int) bool { return at(objs[i]) < at(objs[j]) })
	var bodies []string
	for _, k := range objs {
		bodies = append(bodies, s3Notification(signedBucket, k))
	}
	sendMessages(t, e.qc, e.queueURL, bodies)

	st := newMemStorage()
	var id component.ID
	e.host, id = memStorageHost(st)
	e.cfg = sqsConfig(e.s3srv.URL, e.queueURL)
	e.cfg.Storage = &id
	e.cfg.Integrity.Enabled = true
	e.cfg.Integrity.GracePeriod, e.cfg.Integrity.Window = time.Hour, 2*time.Hour
	e.sk = &findingSink{sink: newSink()}
	h = runUntilDigests(t, e.cfg, e.sk, e.host, len(e.tree.Digests), func() bool { return e.sk.count() >= len(e.tree.IDs)-8 })
	require.Empty(t, e.sk.got(), "findings on an untouched tree")
	return e, h
}

// inject stores a file dated 5 minutes after the first late file, in its
// folder, and returns its key.
func (e *staleEnv) inject(t *testing.T) string {
	at := e.lateTime.Add(5 * time.Minute)
	key := trailgen.Key("", "", e.lp.Account, "CloudTrail", e.lp.Region, at, "injected")
	require.NoError(t, e.s3srv.Put(signedBucket, key, trailgen.LogFile(genRecords(trailgen.New(77, e.lp.Account, e.lp.Region), at, 2), true)))
	return key
}

// lookups is the integrity_lookups counter of h for result.
func lookups(t *testing.T, h *harness, result string) int64 {
	return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_lookups", "result", result)
}

// TestIntegrityStaleSQS (issue #14): in SQS mode, once the integrity
// window (2h) has passed on the trail's clock, a file injected now with a
// name dated in the first hour is read: its digests are looked up in S3
// and it is reported unsigned, once; a genuine file of that hour whose
// notification comes that late is verified by the same lookup (its digest
// read once for both), and raises nothing. After a restart on the same
// storage, the genuine file's notification delivered again, and a second
// genuine file of that hour notified that late (looked up with nothing in
// memory), raise nothing.
func TestIntegrityStaleSQS(t *testing.T) {
	e, h := newStaleEnv(t)
	s3srv, tree, late, lp, sk := e.s3srv, e.tree, e.late, e.lp, e.sk

	// The digests that cover the first hour of the late file's folder.
	var near []string
	for _, d := range tree.Digests {
		if dk, _ := integrity.ParseDigestKey(d); dk.LogFolder() == lp && dk.End.Before(e.lateTime.Add(3*time.Hour)) {
			near = append(near, d)
		}
	}
	require.NotEmpty(t, near)
	gets := map[string]int{}
	for _, d := range near {
		gets[d] = s3srv.Gets(signedBucket, d)
	}

	injected := e.inject(t)
	sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, injected), s3Notification(signedBucket, late)})
	require.Eventually(t, func() bool {
		return lookups(t, h, integrity.StatusUnsigned) >= 1 && lookups(t, h, "verified") >= 1 && sk.count() >= len(tree.IDs)-4+2
	}, 20*time.Second, 20*time.Millisecond, "lookups unsigned %d verified %d, findings %v", lookups(t, h, integrity.StatusUnsigned), lookups(t, h, "verified"), sk.got())
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusUnsigned + " " + injected}, sk.got())
	assert.Zero(t, lookups(t, h, "failed"))
	assert.Zero(t, lookups(t, h, "abandoned"))
	for _, d := range near {
		assert.LessOrEqual(t, s3srv.Gets(signedBucket, d)-gets[d], 1, "GETs of %s for two lookups", d)
	}
	dp := lp
	dp.Kind = keylayout.KindDigest
	assert.Equal(t, 1, s3srv.Lists(signedBucket, dp.String()+e.lateTime.UTC().Format("2006/01/02/")), "LISTs of the day folder for two lookups")

	// Restart: the genuine file's notification again, and the second one's.
	h2 := startReceiver(t, e.cfg, sk, e.host)
	sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, late), s3Notification(signedBucket, e.late2)})
	require.Eventually(t, func() bool {
		return h2.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "deleted") >= 2 && lookups(t, h2, "verified") >= 1 && sk.count() >= len(tree.IDs)+2
	}, 20*time.Second, 20*time.Millisecond, "lookups verified %d", lookups(t, h2, "verified"))
	require.NoError(t, h2.stop())
	assert.Equal(t, []string{integrity.StatusUnsigned + " " + injected}, sk.got(), "findings after a restart")
	assert.Zero(t, lookups(t, h2, integrity.StatusUnsigned)+lookups(t, h2, integrity.StatusModified)+lookups(t, h2, "failed"))
	t.Logf("after the restart: lookups verified %d; GETs of the late file %d", lookups(t, h2, "verified"), s3srv.Gets(signedBucket, late))
}

// TestIntegrityStaleLookupDenied: the lookup of an injected old file
// fails (ListObjectsV2 on the digest folder denied): no finding, the
// failure is counted, and the file waits in the saved state for a later
// lookup; a restart on the same storage raises nothing either.
func TestIntegrityStaleLookupDenied(t *testing.T) {
	e, h := newStaleEnv(t)
	e.s3srv.FailList(signedBucket, devstack.Fault{Status: 403, Code: "AccessDenied"})
	injected := e.inject(t)
	sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, injected)})
	require.Eventually(t, func() bool { return lookups(t, h, "failed") >= 1 }, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, h.stop())
	assert.Empty(t, e.sk.got())
	assert.Zero(t, lookups(t, h, integrity.StatusUnsigned)+lookups(t, h, "abandoned"))

	h2 := startReceiver(t, e.cfg, e.sk, e.host)
	sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, e.late)})
	require.Eventually(t, func() bool {
		return h2.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "deleted") >= 1
	}, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, h2.stop())
	assert.Empty(t, e.sk.got(), "findings after a restart")
	// The late genuine file's lookup fails too (listing denied): it waits,
	// counted, not reported.
	assert.Zero(t, lookups(t, h2, integrity.StatusUnsigned)+lookups(t, h2, integrity.StatusModified))
	assert.Positive(t, lookups(t, h2, "failed"))
}
