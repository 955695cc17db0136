package awscloudtrailreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestIntegrityPublicKeysPaged: ListPublicKeys answers in pages of one key,
// the first page holding another key valid over the whole range: the keys
// that signed the digests are on later pages, and every digest verifies.
func TestIntegrityPublicKeysPaged(t *testing.T) {
	s3srv := startS3(t)
	other, err := trailgen.NewKeyPair(t0.Add(-72*time.Hour), time.Time{})
	require.NoError(t, err)
	s3srv.AWS().AddPublicKey(other)
	s3srv.AWS().SetPublicKeyPageSize(1)
	tree := signedTree(t, s3srv)
	sk := &findingSink{sink: newSink()}
	h := advRunUntilDigests(t, integrityConfig(s3srv.URL), sk, len(tree.Digests), func() bool { return sk.count() >= len(tree.IDs) })
	require.NoError(t, h.stop())
	assert.Empty(t, sk.got(), "findings on an untouched tree")
	assert.Equal(t, int64(len(tree.Digests)), integrityCounter(h, "otelcol_receiver_awscloudtrail_integrity_digests", "result", "verified"))
}
