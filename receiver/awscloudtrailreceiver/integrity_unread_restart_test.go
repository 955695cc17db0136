package awscloudtrailreceiver

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// TestUnreadableDigestSurvivesRestartSQS: SQS mode, state in the storage
// extension. A genuine digest made unreadable is tried until its message
// goes to the dead-letter queue, and the collector restarts before the
// trail has gone on for grace_period past it. The later digests arrive
// after the restart: the unreadable digest must still be reported (its
// hour is blind), although nothing will deliver its notification again.
func TestUnreadableDigestSurvivesRestartSQS(t *testing.T) {
	s3srv := startS3(t)
	tree, digest, _ := unreadableDigestTree(t, s3srv)
	dk, ok := integrity.ParseDigestKey(digest)
	require.True(t, ok)
	var early, later []string
	for _, d := range tree.Digests {
		if k, _ := integrity.ParseDigestKey(d); k.End.After(dk.End) {
			later = append(later, s3Notification(signedBucket, d))
		} else {
			early = append(early, s3Notification(signedBucket, d))
		}
	}
	for _, k := range tree.Keys {
		early = append(early, s3Notification(signedBucket, k))
	}
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 2*time.Second, 2)
	sendMessages(t, qc, queueURL, early)

	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.Get().VisibilityTimeout = 2 * time.Second
	cfg.SQS.Get().MaxReceiveCount = 2
	cfg.Integrity.Enabled = true
	cfg.Storage = &id
	sk := &findingSink{sink: newSink()}
	h := startReceiver(t, cfg, sk, host)
	require.Eventually(t, func() bool {
		q := s3srv.SQS().Stats("cloudtrail")
		return s3srv.SQS().Stats("cloudtrail-dlq").Visible == 1 && q.Visible+q.InFlight == 0
	}, waitFor, 20*time.Millisecond, "the unreadable digest's message given up")
	require.NoError(t, h.stop())
	require.Empty(t, sk.got(), "reported before the trail went on for grace_period past it")

	sendMessages(t, qc, queueURL, later)
	h = startReceiver(t, cfg, sk, host)
	assert.Eventually(t, func() bool {
		return slices.Contains(sk.got(), integrity.StatusChainBroken+" "+digest)
	}, waitFor, 20*time.Millisecond, "findings %v", sk.got())
	require.NoError(t, h.stop())
}
