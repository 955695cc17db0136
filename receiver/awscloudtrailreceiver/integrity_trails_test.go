package awscloudtrailreceiver

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// heldObject is an object taken out of the bucket, to be put back.
type heldObject struct {
	key  string
	body []byte
	meta map[string]string
}

// holdObjects deletes objects from the signed bucket and returns them.
func holdObjects(t *testing.T, s3srv *devstack.S3Server, keys []string) []heldObject {
	t.Helper()
	var out []heldObject
	for _, k := range keys {
		body, err := s3srv.Get(signedBucket, k)
		require.NoError(t, err)
		meta, err := s3srv.Metadata(signedBucket, k)
		require.NoError(t, err)
		require.NoError(t, s3srv.Delete(signedBucket, k))
		out = append(out, heldObject{k, body, meta})
	}
	return out
}

// putHeld stores objects into the signed bucket of s3srv.
func putHeld(t *testing.T, s3srv *devstack.S3Server, objs []heldObject) {
	t.Helper()
	for _, o := range objs {
		require.NoError(t, s3srv.PutWithMetadata(signedBucket, o.key, o.body, o.meta))
	}
}

// TestIntegrityTwoTrailsOneFolder: two trails with log file validation
// deliver to the same bucket and prefix (one log folder per account and
// region, two digest chains). The log files are all read first (the
// digests arrive later, after a restart), so every file waits in the state
// while polling handles one trail's digests and the other's: an untouched
// tree raises nothing, and every file is verified by its own trail.
func TestIntegrityTwoTrailsOneFolder(t *testing.T) {
	s3srv := startS3(t)
	a := signedTrail(t, s3srv, "management_events", 9)
	gen := startS3(t) // the second trail, generated apart (the same bucket name)
	b := signedTrail(t, gen, "data_events", 31)
	putHeld(t, s3srv, holdObjects(t, gen, append(append([]string(nil), b.Keys...), b.Digests...)))
	held := holdObjects(t, s3srv, append(append([]string(nil), a.Digests...), b.Digests...))

	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := integrityConfig(s3srv.URL)
	cfg.Storage = &id
	sk := &findingSink{sink: newSink()}
	records := len(a.IDs) + len(b.IDs)
	h := startReceiver(t, cfg, sk, host)
	require.Eventually(t, func() bool { return sk.count() >= records }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, h.stop())

	putHeld(t, s3srv, held)
	digests := len(a.Digests) + len(b.Digests)
	h = runUntilDigests(t, cfg, sk, host, digests, func() bool { return true })
	require.Eventually(t, func() bool {
		return integrityCounter(h, "otelcol_receiver_awscloudtrail_integrity_files_verified", "", "") == int64(len(a.Keys)+len(b.Keys))
	}, 20*time.Second, 20*time.Millisecond, "findings %v", sk.got())
	waitPolls(t, s3srv, signedBucket, "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/")
	require.NoError(t, h.stop())
	assert.Empty(t, sk.got(), "findings on an untouched tree")
	assert.Equal(t, int64(digests), integrityCounter(h, "otelcol_receiver_awscloudtrail_integrity_digests", "result", "verified"))
}

// TestIntegrityUnvalidatedTrailSharesFolder: a validated trail and a trail
// without log file validation deliver to the same bucket and prefix. The
// files of the unvalidated trail cannot be told from injected ones (log
// file names do not name the trail): they are reported unsigned by
// default, and with integrity.report_unsigned off they are counted, not
// reported, while the other findings (a modified file of the validated
// trail) still are.
func TestIntegrityUnvalidatedTrailSharesFolder(t *testing.T) {
	for _, report := range []bool{true, false} {
		t.Run(fmt.Sprintf("report_unsigned=%v", report), func(t *testing.T) {
			s3srv := startS3(t)
			a := signedTrail(t, s3srv, "management_events", 9)
			gen := startS3(t)
			b := signedTrail(t, gen, "data_events", 31)
			putHeld(t, s3srv, holdObjects(t, gen, b.Keys)) // its log files only: no digests
			sort.Strings(a.Digests)
			modified := listedBy(t, s3srv, a.Digests[0])[0]
			modifyLogFile(t, s3srv, modified, addNewline)

			cfg := integrityConfig(s3srv.URL)
			cfg.Integrity.ReportUnsigned = report
			sk := &findingSink{sink: newSink()}
			h := runUntilDigests(t, cfg, sk, nil, len(a.Digests), func() bool { return sk.count() >= len(a.IDs)+len(b.IDs) })
			unsigned := func() int {
				n := 0
				for _, f := range sk.got() {
					if strings.HasPrefix(f, integrity.StatusUnsigned+" ") {
						n++
					}
				}
				return n
			}
			ignored := func() int64 {
				return integrityCounter(h, "otelcol_receiver_awscloudtrail_integrity_unsigned_ignored", "", "")
			}
			require.Eventually(t, func() bool {
				return slices.Contains(sk.got(), integrity.StatusModified+" "+modified) && (unsigned() > 0 || ignored() > 0)
			}, 30*time.Second, 20*time.Millisecond, "findings %v", sk.got())
			require.NoError(t, h.stop())
			if report {
				assert.Zero(t, ignored())
				assert.Len(t, sk.got(), 1+unsigned())
				for _, f := range sk.got() {
					if key, ok := strings.CutPrefix(f, integrity.StatusUnsigned+" "); ok {
						assert.Contains(t, b.Keys, key, "only the unvalidated trail's files are unsigned")
					}
				}
				return
			}
			assert.Equal(t, []string{integrity.StatusModified + " " + modified}, sk.got())
			assert.Positive(t, ignored())
			assert.Positive(t, h.logs.FilterMessageSnippet("CloudTrail log file integrity validation is on").FilterField(zap.Bool("report_unsigned", false)).Len())
		})
	}
}
