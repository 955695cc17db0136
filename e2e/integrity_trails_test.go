package e2e

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// moveObjects moves objects of the bucket from one S3 server to another
// (the same bucket name: signed digests name their bucket), with their
// metadata.
func moveObjects(t *testing.T, from, to *devstack.S3Server, keys []string) {
	t.Helper()
	for _, k := range keys {
		body, err := from.Get(bucket, k)
		require.NoError(t, err)
		meta, err := from.Metadata(bucket, k)
		require.NoError(t, err)
		require.NoError(t, to.PutWithMetadata(bucket, k, body, meta))
		require.NoError(t, from.Delete(bucket, k))
	}
}

// TestIntegrityTwoTrailsOneFolder: the built collector over two signed
// trails delivering to the same bucket and prefix (one log folder per
// account and region, two digest chains). Every log file is read before
// any digest is in the bucket, so all wait for their digests across a
// restart; then the digests of both trails come: nothing is reported,
// also after another restart.
func TestIntegrityTwoTrailsOneFolder(t *testing.T) {
	s, keys, end := newSignedStack(t)
	a := seedSigned(t, s.s3, keys, end, 20, "management-events", 77)
	gen, err := devstack.StartS3("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(gen.Close)
	b := seedSigned(t, gen, keys, end, 20, "data-events", 177)
	moveObjects(t, gen, s.s3, b.Keys)
	digests := append(append([]string(nil), a.Digests...), b.Digests...)
	moveObjects(t, s.s3, gen, a.Digests) // held back with b's

	both := devstack.Tree{Bucket: bucket, Keys: append(append([]string(nil), a.Keys...), b.Keys...)}
	records := len(a.IDs) + len(b.IDs)
	col := s.collector(t, "integrity.yaml")
	waitFor(t, col, 90*time.Second, "every record", func() bool { return len(logIDs(s.intake)) >= records })
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))

	moveObjects(t, gen, s.s3, digests)
	col = s.collector(t, "integrity.yaml")
	waitFor(t, col, 90*time.Second, "every digest and log file verified", func() bool {
		// The metrics endpoint may not answer yet.
		d, derr := col.Metrics(context.Background(), "otelcol_receiver_awscloudtrail_integrity_digests", `result="verified"`)
		f, ferr := col.Metrics(context.Background(), "otelcol_receiver_awscloudtrail_integrity_files_verified")
		return derr == nil && ferr == nil && d >= float64(len(digests)) && f >= float64(len(both.Keys))
	})
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))
	col = s.collector(t, "integrity.yaml")
	waitPolls(t, col, s.s3, both)
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))
	assertNoFindings(t, s.intake)
	require.Len(t, logIDs(s.intake), records)
}
