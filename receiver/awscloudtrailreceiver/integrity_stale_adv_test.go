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
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
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
		{"the first lookup fails after reading the forgery", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.defect != "" {
				t.Skip(tc.defect)
			}
			e, h := newStaleEnv(t)
			near := e.nearDigests()
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

// TestIntegrityStaleInjectedNotifiedTwice: S3 may deliver a notification
// twice (or a second PutObject event of the same object): the injected
// old file is read twice while the receiver runs. It is reported unsigned
// exactly once.
func TestIntegrityStaleInjectedNotifiedTwice(t *testing.T) {
	e, h := newStaleEnv(t)
	injected := e.inject(t)
	deleted := func() int64 {
		return h.counter(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome", "deleted")
	}
	sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, injected)})
	require.Eventually(t, func() bool { return lookups(t, h, integrity.StatusUnsigned) >= 1 }, 20*time.Second, 20*time.Millisecond)
	before := deleted()
	sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, injected)})
	require.Eventually(t, func() bool { return deleted() > before }, 20*time.Second, 20*time.Millisecond)
	// The second read's lookup, if one is made, is made by a sweep after
	// the message is handled; a sweep runs with each file read: read a
	// genuine late file after it and wait for its lookup.
	sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, e.late)})
	require.Eventually(t, func() bool { return lookups(t, h, "verified") >= 1 }, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, h.stop())
	t.Logf("lookups unsigned %d verified %d", lookups(t, h, integrity.StatusUnsigned), lookups(t, h, "verified"))
	assert.Equal(t, []string{integrity.StatusUnsigned + " " + injected}, e.sk.got())
}

// TestIntegrityStaleModifiedOldFile: a log file of an hour that has left
// the window is rewritten (its notification arrives: SQS mode reads every
// object created). Its digest lookup reports it modified. When the
// attacker also deletes the digest that lists it (the next digest, which
// names it as its previous digest, is still there), the lookup finds no
// verified digest covering the file's time and concludes nothing, as for
// a trail without validation: the modification is not reported, nor the
// deletion (chain_broken) of the digest.
func TestIntegrityStaleModifiedOldFile(t *testing.T) {
	for _, tc := range []struct {
		name         string
		deleteDigest bool
		defect       string
	}{
		{"its digest kept", false, ""},
		{"its digest deleted", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.defect != "" {
				t.Skip(tc.defect)
			}
			e, h := newStaleEnv(t)
			near := e.nearDigests()
			require.NotEmpty(t, near)
			require.NoError(t, e.s3srv.Put(signedBucket, e.late, trailgen.LogFile(genRecords(trailgen.New(78, e.lp.Account, e.lp.Region), e.lateTime, 2), true)))
			if tc.deleteDigest {
				require.NoError(t, e.s3srv.Delete(signedBucket, near[0]))
			}
			sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, e.late)})
			require.Eventually(t, func() bool {
				var n int64
				for _, r := range []string{"failed", "verified", "uncovered", integrity.StatusUnsigned, integrity.StatusModified} {
					n += lookups(t, h, r)
				}
				return n >= 1
			}, 20*time.Second, 20*time.Millisecond)
			require.NoError(t, h.stop())
			t.Logf("lookups modified %d uncovered %d; findings %v", lookups(t, h, integrity.StatusModified), lookups(t, h, "uncovered"), e.sk.got())
			want := integrity.StatusModified + " " + e.late
			if tc.deleteDigest {
				// The file cannot be checked: the next digest's chain shows
				// the deleted digest that listed it.
				want = integrity.StatusChainBroken + " " + near[1]
			}
			assert.Equal(t, []string{want}, e.sk.got(), "the modified file (or the deleted digest) is reported, once")
		})
	}
}

// TestIntegrityStaleUnsignedIgnored: with integrity.report_unsigned off,
// an injected old file whose lookup finds it unsigned is counted in
// integrity_unsigned_ignored, not reported; a modified old file still is.
func TestIntegrityStaleUnsignedIgnored(t *testing.T) {
	e, h := newStaleEnv(t)
	require.NoError(t, h.stop())
	e.cfg.Integrity.ReportUnsigned = false
	h = startReceiver(t, e.cfg, e.sk, e.host)
	injected := e.inject(t)
	require.NoError(t, e.s3srv.Put(signedBucket, e.late, trailgen.LogFile(genRecords(trailgen.New(78, e.lp.Account, e.lp.Region), e.lateTime, 2), true)))
	sendMessages(t, e.qc, e.queueURL, []string{s3Notification(signedBucket, injected), s3Notification(signedBucket, e.late)})
	require.Eventually(t, func() bool {
		return lookups(t, h, integrity.StatusUnsigned) >= 1 && lookups(t, h, integrity.StatusModified) >= 1
	}, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusModified + " " + e.late}, e.sk.got())
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_awscloudtrail_integrity_unsigned_ignored", "", ""))
}

// nearDigests returns the digests of the late files' folder ending within
// two hours after the first late file, in order.
func (e *staleEnv) nearDigests() []string {
	var near []string
	for _, d := range e.tree.Digests {
		if dk, _ := integrity.ParseDigestKey(d); dk.LogFolder() == e.lp && !dk.End.Before(e.lateTime) && dk.End.Before(e.lateTime.Add(2*time.Hour)) {
			near = append(near, d)
		}
	}
	sort.Strings(near)
	return near
}
