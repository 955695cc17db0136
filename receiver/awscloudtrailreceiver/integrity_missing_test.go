package awscloudtrailreceiver

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
)

// listedBy returns the log files a stored digest lists.
func listedBy(t *testing.T, s3srv *devstack.S3Server, digest string) []string {
	t.Helper()
	body, err := s3srv.Get(signedBucket, digest)
	require.NoError(t, err)
	d, _, err := integrity.ParseDigest(body)
	require.NoError(t, err)
	var keys []string
	for _, f := range d.LogFiles {
		keys = append(keys, f.S3Object)
	}
	sort.Strings(keys)
	return keys
}

// digestEnding returns the us-east-1 digest of the tree that ends in the
// modifyFirstOfHour adds a newline to the first log file that the digest
// ending in the hour after t0 lists (the digest's check must find it
// modified); it returns the digest, the file and the file's new content.
func modifyFirstOfHour(t *testing.T, s3srv *devstack.S3Server, tree devstack.Tree) (digest, file string, modified []byte) {
	t.Helper()
	digest = digestEnding(t, tree, t0.Add(time.Hour))
	file = listedBy(t, s3srv, digest)[0]
	return digest, file, modifyLogFile(t, s3srv, file, addNewline)
}

// hour after at.
func digestEnding(t *testing.T, tree devstack.Tree, at time.Time) string {
	t.Helper()
	for _, d := range tree.Digests {
		if dk, _ := integrity.ParseDigestKey(d); dk.Folder.Region == "us-east-1" && dk.End.After(at) && !dk.End.After(at.Add(time.Hour)) {
			return d
		}
	}
	t.Fatalf("no digest ends in the hour after %s", at)
	return ""
}

// TestIntegrityPollingExpectedFileDeleted: polling. A verified digest
// lists a file the reader never lists (it is older than start_time); the
// file existed when the digest was checked, and is deleted while the
// collector is stopped. After the restart the reader reads the next hours:
// the file is reported missing once (not forgotten when the window ends),
// and not again after another restart.
func TestIntegrityPollingExpectedFileDeleted(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	start := t0.Add(2*time.Hour + 30*time.Minute)
	first := digestEnding(t, tree, t0.Add(3*time.Hour))
	deleted := listedBy(t, s3srv, first)[0]
	_, at, _ := keylayout.Parse(deleted)
	require.True(t, at.Before(start), "%s is read by the reader", deleted)

	// The first run sees the trail up to t0+4h30: the digests that end
	// later and the files they list are held back.
	cut := t0.Add(4*time.Hour + 30*time.Minute)
	var later []string
	digests, files, heldDigests := 0, 0, 0
	for _, d := range tree.Digests {
		dk, _ := integrity.ParseDigestKey(d)
		listed := listedBy(t, s3srv, d)
		switch {
		case dk.End.After(cut):
			later = append(append(later, d), listed...)
			heldDigests++
		case !dk.End.Before(start):
			digests++
			for _, k := range listed {
				if _, ft, _ := keylayout.Parse(k); !ft.Before(start) {
					files++
				}
			}
		}
	}
	held := holdObjects(t, s3srv, later)

	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := integrityConfig(s3srv.URL)
	cfg.Storage = &id
	cfg.StartTime = start.Format(time.RFC3339)
	sk := &findingSink{sink: newSink()}
	h := runUntilDigests(t, cfg, sk, host, digests, func() bool { return true })
	require.Eventually(t, func() bool {
		return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_files_verified", "", "") == int64(files)
	}, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, h.stop())
	require.Empty(t, sk.got())

	require.NoError(t, s3srv.Delete(signedBucket, deleted))
	putHeld(t, s3srv, held)
	h = runUntilDigests(t, cfg, sk, host, heldDigests, func() bool { return len(sk.got()) > 0 })
	require.NoError(t, h.stop())
	h = startReceiver(t, cfg, sk, host)
	waitPolls(t, s3srv, signedBucket, "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/")
	waitPolls(t, s3srv, signedBucket, "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/")
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusMissing + " " + deleted}, sk.got())
}

// TestIntegritySQSExpectedFileNeverNotified: SQS mode, where nothing lists
// the folder. A digest is handled before the files it lists (they exist:
// expected); then one of them is deleted and its notification never comes
// (lost, filtered, or taken by another consumer). The reader goes on with
// the next hours: the file is reported missing, once, long before the
// window ends; the others are verified.
func TestIntegritySQSExpectedFileNeverNotified(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	early := digestEnding(t, tree, t0.Add(time.Hour))
	deleted := listedBy(t, s3srv, early)[1]
	sendMessages(t, qc, queueURL, []string{s3Notification(signedBucket, early)})

	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Integrity.Enabled = true
	sk := &findingSink{sink: newSink()}
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == 1 }, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, s3srv.Delete(signedBucket, deleted))

	var bodies []string
	for _, k := range append(append([]string(nil), tree.Keys...), tree.Digests...) {
		if k != early && k != deleted {
			bodies = append(bodies, s3Notification(signedBucket, k))
		}
	}
	sendMessages(t, qc, queueURL, bodies)
	require.Eventually(t, func() bool {
		return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == int64(len(tree.Digests)) &&
			h.counter(t, "otelcol_receiver_awscloudtrail_integrity_files_verified", "", "") == int64(len(tree.Keys)-1) && len(sk.got()) > 0
	}, 20*time.Second, 20*time.Millisecond, "findings %v", sk.got())
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusMissing + " " + deleted}, sk.got())
}
