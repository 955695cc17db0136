package awscloudtrailreceiver

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// integrityCounter reads an integrity counter. harness.counter refuses
// them: they are not declared in metadata.yaml (see the report of
// TestIntegrityUntouchedTree), so these tests read them directly.
func integrityCounter(h *harness, name, key, value string) int64 {
	return devstack.Counter(h.tel, name, key, value)
}

// advRunUntilDigests is runUntilDigests with integrityCounter.
func advRunUntilDigests(t *testing.T, cfg *Config, sk *findingSink, digests int, records func() bool) *harness {
	t.Helper()
	h := startReceiver(t, cfg, sk, nil)
	checked := func() int64 { return integrityCounter(h, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") }
	if !assert.Eventually(t, func() bool { return records() && checked() >= int64(digests) }, 30*time.Second, 20*time.Millisecond) {
		_ = h.stop()
		t.Fatalf("records delivered: %v, digests checked %d of %d, findings %v", records(), checked(), digests, sk.got())
	}
	return h
}

// TestAdvIntegritySQSDigestsOutOfOrder: in SQS mode with several workers,
// digest notifications come after the files in reverse order, each twice
// (redelivery). An untouched tree raises nothing; each digest is checked
// once and every file verified.
func TestAdvIntegritySQSDigestsOutOfOrder(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	var bodies []string
	for _, k := range tree.Keys {
		bodies = append(bodies, s3Notification(signedBucket, k))
	}
	digests := append([]string(nil), tree.Digests...)
	sort.Sort(sort.Reverse(sort.StringSlice(digests)))
	for _, d := range digests {
		bodies = append(bodies, s3Notification(signedBucket, d), s3Notification(signedBucket, d))
	}
	sendMessages(t, qc, queueURL, bodies)

	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Workers = 4
	cfg.Integrity.Enabled = true
	sk := &findingSink{sink: newSink()}
	h := advRunUntilDigests(t, cfg, sk, len(tree.Digests), func() bool { return sk.count() >= len(tree.IDs) })
	require.Eventually(t, func() bool {
		return integrityCounter(h, "otelcol_receiver_awscloudtrail_integrity_files_verified", "", "") == int64(len(tree.Keys))
	}, 20*time.Second, 20*time.Millisecond, "findings %v", sk.got())
	require.NoError(t, h.stop())
	assert.Empty(t, sk.got(), "findings on an untouched tree")
	assert.Equal(t, int64(len(tree.Digests)), integrityCounter(h, "otelcol_receiver_awscloudtrail_integrity_digests", "result", "verified"))
}

// TestAdvIntegrityStartTimeMidHour: a receiver starting in the middle of a
// digest's hour (the first digest lists files before start_time, which
// are not read) and restarted without a storage extension (in-memory
// state lost, as after a crash) raises nothing.
func TestAdvIntegrityStartTimeMidHour(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	start := t0.Add(2*time.Hour + 30*time.Minute)
	want := 0
	for _, d := range tree.Digests {
		if dk, _ := integrity.ParseDigestKey(d); !dk.End.Before(start) {
			want++
		}
	}
	require.Less(t, want, len(tree.Digests))
	cfg := integrityConfig(s3srv.URL)
	cfg.StartTime = start.Format(time.RFC3339)
	cfg.Workers = 3
	for range 2 {
		sk := &findingSink{sink: newSink()}
		h := advRunUntilDigests(t, cfg, sk, want, func() bool { return sk.count() > 0 })
		waitPolls(t, s3srv, signedBucket, "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/")
		waitPolls(t, s3srv, signedBucket, "AWSLogs/111111111111/CloudTrail-Digest/eu-west-1/")
		assert.Equal(t, int64(want), integrityCounter(h, "otelcol_receiver_awscloudtrail_integrity_digests", "result", "verified"))
		require.NoError(t, h.stop())
		assert.Empty(t, sk.got(), "findings on an untouched tree")
	}
}
