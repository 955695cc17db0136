package awscloudtrailreceiver

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
)

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
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 2)
	sort.Strings(tree.Keys)
	// The first two files of one region, notified late.
	late, late2 := tree.Keys[0], tree.Keys[1]
	lp, lateTime, _ := keylayout.Parse(late)
	if p2, _, _ := keylayout.Parse(late2); p2 != lp {
		t.Fatalf("%s and %s in two folders", late, late2)
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
	for _, k := range append(append([]string(nil), tree.Keys...), tree.Digests...) {
		if k != late && k != late2 {
			objs = append(objs, k)
		}
	}
	sort.Slice(objs, func(i, j int) bool { return at(objs[i]) < at(objs[j]) })
	var bodies []string
	for _, k := range objs {
		bodies = append(bodies, s3Notification(signedBucket, k))
	}
	sendMessages(t, qc, queueURL, bodies)

	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Storage = &id
	cfg.Integrity.Enabled = true
	cfg.Integrity.GracePeriod, cfg.Integrity.Window = time.Hour, 2*time.Hour
	sk := &findingSink{sink: newSink()}
	h := runUntilDigests(t, cfg, sk, host, len(tree.Digests), func() bool { return sk.count() >= len(tree.IDs)-8 })
	require.Empty(t, sk.got(), "findings on an untouched tree")

	// The digests that cover the first hour of the late file's folder.
	var near []string
	for _, d := range tree.Digests {
		if dk, _ := integrity.ParseDigestKey(d); dk.LogFolder() == lp && dk.End.Before(lateTime.Add(3*time.Hour)) {
			near = append(near, d)
		}
	}
	require.NotEmpty(t, near)
	gets := map[string]int{}
	for _, d := range near {
		gets[d] = s3srv.Gets(signedBucket, d)
	}

	injectedTime := lateTime.Add(5 * time.Minute)
	injected := trailgen.Key("", "", lp.Account, "CloudTrail", lp.Region, injectedTime, "injected")
	require.NoError(t, s3srv.Put(signedBucket, injected, trailgen.LogFile(genRecords(trailgen.New(77, lp.Account, lp.Region), injectedTime, 2), true)))
	sendMessages(t, qc, queueURL, []string{s3Notification(signedBucket, injected), s3Notification(signedBucket, late)})
	lookups := func(h *harness, result string) int64 {
		return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_lookups", "result", result)
	}
	require.Eventually(t, func() bool {
		return lookups(h, integrity.StatusUnsigned) >= 1 && lookups(h, "verified") >= 1 && sk.count() >= len(tree.IDs)-4+2
	}, 20*time.Second, 20*time.Millisecond, "lookups unsigned %d verified %d, findings %v", lookups(h, integrity.StatusUnsigned), lookups(h, "verified"), sk.got())
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusUnsigned + " " + injected}, sk.got())
	assert.Zero(t, lookups(h, "failed"))
	assert.Zero(t, lookups(h, "abandoned"))
	for _, d := range near {
		assert.LessOrEqual(t, s3srv.Gets(signedBucket, d)-gets[d], 1, "GETs of %s for two lookups", d)
	}

	// Restart: the genuine file's notification again, and the second one's.
	h2 := startReceiver(t, cfg, sk, host)
	sendMessages(t, qc, queueURL, []string{s3Notification(signedBucket, late), s3Notification(signedBucket, late2)})
	require.Eventually(t, func() bool {
		return h2.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "deleted") >= 2 && lookups(h2, "verified") >= 1 && sk.count() >= len(tree.IDs)+2
	}, 20*time.Second, 20*time.Millisecond, "lookups verified %d", lookups(h2, "verified"))
	require.NoError(t, h2.stop())
	assert.Equal(t, []string{integrity.StatusUnsigned + " " + injected}, sk.got(), "findings after a restart")
	assert.Zero(t, lookups(h2, integrity.StatusUnsigned)+lookups(h2, integrity.StatusModified)+lookups(h2, "failed"))
	t.Logf("after the restart: lookups verified %d; GETs of the late file %d", lookups(h2, "verified"), s3srv.Gets(signedBucket, late))
}
