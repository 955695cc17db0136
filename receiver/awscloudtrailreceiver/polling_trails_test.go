package awscloudtrailreceiver

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failListStore fails the listings of one prefix while fail is set.
type failListStore struct {
	objectStore
	prefix string
	fail   atomic.Bool
	failed atomic.Int64
	roots  atomic.Int64 // listings of the bucket's root (one per refresh and source)
}

func (s *failListStore) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	p := aws.ToString(in.Prefix)
	if p == "AWSLogs/" && aws.ToString(in.Delimiter) == "/" {
		s.roots.Add(1)
	}
	if p == s.prefix && s.fail.Load() {
		s.failed.Add(1)
		return nil, errors.New("injected listing failure")
	}
	return s.objectStore.ListObjectsV2(ctx, in, opts...)
}

// TestPollingTrailEntriesSameBucketKeepFolders: two `trails` entries for
// one bucket and prefix with different accounts each keep their folders
// across refreshes: the folder of one entry is not dropped because the
// other entry does not list it, nor because listing the other entry's
// folders fails.
func TestPollingTrailEntriesSameBucketKeepFolders(t *testing.T) {
	s3srv := startS3(t)
	_, ids1 := putFolder(t, s3srv, "111111111111", t0, 1, 31)
	_, ids2 := putFolder(t, s3srv, "222222222222", t0, 1, 32)
	cfg := testConfig(s3srv.URL)
	cfg.Discovery.RefreshInterval = 50 * time.Millisecond
	cfg.Trails = []TrailConfig{
		{Bucket: testBucket, Accounts: []string{"111111111111"}},
		{Bucket: testBucket, Accounts: []string{"222222222222"}},
		{Bucket: testBucket, Accounts: []string{"222222222222"}}, // identical: read once
	}
	fs := &failListStore{prefix: "AWSLogs/222222222222/CloudTrail/"}
	sk := newSink()
	h := startReceiverHooked(t, cfg, sk, nil, func(r *cloudtrailReceiver) {
		var once sync.Once // wrapS3 runs at every refresh, while folders list through fs
		r.tune.wrapS3 = func(s objectStore) objectStore { once.Do(func() { fs.objectStore = s }); return fs }
	})
	require.Eventually(t, func() bool { return hasAll(sk, ids1) && hasAll(sk, ids2) }, waitFor, 5*time.Millisecond)

	// Some refreshes: each lists the root for each distinct entry.
	n := fs.roots.Load()
	require.Eventually(t, func() bool { return fs.roots.Load() >= n+4 }, waitFor, 5*time.Millisecond)
	_, more1 := putFolder(t, s3srv, "111111111111", t0.Add(10*time.Minute), 1, 33)
	_, more2 := putFolder(t, s3srv, "222222222222", t0.Add(10*time.Minute), 1, 34)
	require.Eventually(t, func() bool { return hasAll(sk, more1) && hasAll(sk, more2) }, waitFor, 5*time.Millisecond,
		"both entries' folders are still read after refreshes")

	// The second entry's listing fails: its folder is kept (and read).
	fs.fail.Store(true)
	require.Eventually(t, func() bool { return fs.failed.Load() >= 2 }, waitFor, 5*time.Millisecond)
	_, late1 := putFolder(t, s3srv, "111111111111", t0.Add(20*time.Minute), 1, 35)
	_, late2 := putFolder(t, s3srv, "222222222222", t0.Add(20*time.Minute), 1, 36)
	require.Eventually(t, func() bool { return hasAll(sk, late1) && hasAll(sk, late2) }, waitFor, 5*time.Millisecond,
		"both entries' folders are still read while one entry cannot be listed")
	require.NoError(t, h.stop())
	assert.Zero(t, h.logs.FilterMessageSnippet("no longer belongs").Len(), "no folder is dropped")
	assert.Empty(t, sk.duplicates())
}
