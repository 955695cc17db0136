package awscloudtrailreceiver

import (
	"bytes"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// TestIntegrityInvalidDigestNotFetchedAgain: polling lists the digest
// folders every poll. A digest that failed verification is reported once
// and, while its object is unchanged (the listing's ETag), not fetched
// again, also after a restart; when the genuine digest is written back at
// its key, it is fetched and verified, and nothing more is reported.
func TestIntegrityInvalidDigestNotFetchedAgain(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	sort.Strings(tree.Digests)
	forged := tree.Digests[2]
	genuine, err := s3srv.Get(signedBucket, forged)
	require.NoError(t, err)
	meta, err := s3srv.Metadata(signedBucket, forged)
	require.NoError(t, err)
	d, raw, err := integrity.ParseDigest(genuine)
	require.NoError(t, err)
	raw = bytes.Replace(raw, []byte(d.LogFiles[0].HashValue), bytes.Repeat([]byte("0"), 64), 1)
	require.NoError(t, s3srv.PutWithMetadata(signedBucket, forged, devstack.Gzip(raw), meta))

	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := integrityConfig(s3srv.URL)
	cfg.Storage = &id
	sk := &findingSink{sink: newSink()}
	h := runUntilDigests(t, cfg, sk, host, len(tree.Digests), func() bool { return sk.count() >= len(tree.IDs) })
	require.Eventually(t, func() bool { return len(sk.got()) >= 1 }, 20*time.Second, 20*time.Millisecond)
	gets := s3srv.Gets(signedBucket, forged)
	folder := digestFolderOf(t, forged)
	waitPolls(t, s3srv, signedBucket, folder)
	waitPolls(t, s3srv, signedBucket, folder)
	require.NoError(t, h.stop())
	assert.Equal(t, gets, s3srv.Gets(signedBucket, forged), "an invalid digest, unchanged, is not fetched again")

	h = startReceiver(t, cfg, sk, host)
	waitPolls(t, s3srv, signedBucket, folder)
	assert.Equal(t, gets, s3srv.Gets(signedBucket, forged), "nor after a restart")

	// The genuine digest written back: fetched, verified, nothing reported.
	verified := h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "result", "verified")
	require.NoError(t, s3srv.PutWithMetadata(signedBucket, forged, genuine, meta))
	require.Eventually(t, func() bool {
		return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "result", "verified") == verified+1
	}, 20*time.Second, 20*time.Millisecond)
	waitPolls(t, s3srv, signedBucket, folder)
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusBadSignature + " " + forged}, sk.got())
}

// digestFolderOf is the region folder under CloudTrail-Digest/ that
// polling lists for a digest key.
func digestFolderOf(t *testing.T, key string) string {
	t.Helper()
	dk, ok := integrity.ParseDigestKey(key)
	require.True(t, ok, key)
	return "AWSLogs/" + dk.Folder.Account + "/CloudTrail-Digest/" + dk.Folder.Region + "/"
}
