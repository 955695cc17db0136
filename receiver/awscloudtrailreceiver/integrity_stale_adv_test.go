package awscloudtrailreceiver

import (
	"bytes"
	"compress/gzip"
	"io"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// forgeDigest rewrites the digest at key with one hash of a log file
// changed: it no longer verifies.
func forgeDigest(t *testing.T, s3srv *devstack.S3Server, key string) {
	t.Helper()
	raw, err := s3srv.Get(signedBucket, key)
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	js, err := io.ReadAll(zr)
	require.NoError(t, err)
	i := bytes.Index(js, []byte(`"hashValue":"`))
	require.GreaterOrEqual(t, i, 0, "the digest lists a file")
	i += len(`"hashValue":"`)
	if js[i] == '0' {
		js[i] = '1'
	} else {
		js[i] = '0'
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(js)
	require.NoError(t, zw.Close())
	require.NoError(t, s3srv.Put(signedBucket, key, buf.Bytes()))
}

// TestIntegrityStaleLookupReportsForgedDigest: the lookup of a stale file
// reads a digest that fails verification (forged after it was processed,
// once its hour left the window); another stale file of that hour is
// looked up next. The forged digest is reported bad_signature, once. With
// a GetObject of the next digest denied once, the first lookup fails: the
// finding must still be reported (the lookup is made again later, and the
// second file is looked up at once). The failed lookup keeps the forged
// digest in its cache and drops its finding; the next lookups take it
// from the cache without a finding, so the forgery is never reported.
func TestIntegrityStaleLookupReportsForgedDigest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  bool
		defect string
	}{
		{"every lookup succeeds", false, ""},
		{"the first lookup fails after reading the forgery", true,
			"DEFECT: a stale-file lookup that fails after reading a forged digest drops its bad_signature finding and caches the digest: the forgery is never reported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.defect != "" {
				t.Skip(tc.defect)
			}
			e, h := newStaleEnv(t)
			var near []string
			for _, d := range e.tree.Digests {
				if dk, _ := integrity.ParseDigestKey(d); dk.LogFolder() == e.lp && !dk.End.Before(e.lateTime) && dk.End.Before(e.lateTime.Add(2*time.Hour)) {
					near = append(near, d)
				}
			}
			sort.Strings(near)
			require.GreaterOrEqual(t, len(near), 2, "digests near the late files: %v", near)
			forgeDigest(t, e.s3srv, near[0])
			if tc.fault {
				e.s3srv.FailGet(signedBucket, near[1], devstack.Fault{Status: 403, Code: "AccessDenied", Times: 1})
			}
			done := func() int64 {
				var n int64
				for _, r := range []string{"failed", "verified", "uncovered", integrity.StatusUnsigned, integrity.StatusModified} {
					n += lookups(t, h, r)
				}
				return n
			}
			sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, e.late)})
			require.Eventually(t, func() bool { return done() >= 1 }, 20*time.Second, 20*time.Millisecond)
			sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, e.late2)})
			require.Eventually(t, func() bool { return done() >= 2 }, 20*time.Second, 20*time.Millisecond)
			require.NoError(t, h.stop())
			t.Logf("lookups failed %d verified %d uncovered %d", lookups(t, h, "failed"), lookups(t, h, "verified"), lookups(t, h, "uncovered"))
			assert.Equal(t, []string{integrity.StatusBadSignature + " " + near[0]}, e.sk.got())
		})
	}
}
