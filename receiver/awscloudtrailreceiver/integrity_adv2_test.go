package awscloudtrailreceiver

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// hasFinding reports whether ld holds an integrity finding.
func hasFinding(ld plog.Logs) bool {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if _, ok := lr.Attributes().Get(ctattr.AttrIntegrityStatus); ok {
					return true
				}
			}
		}
	}
	return false
}

// errQueueFull is a retryable refusal, as an exporter's full queue gives.
var errQueueFull = errors.New("exporter queue is full")

// TestAdv2FindingNotLostAtShutdown: SQS mode, state in the storage
// extension. A digest is handled first (its files are expected), then a
// modified file it lists is read: its records are delivered, the
// `modified` finding is refused downstream (retryable) until the collector
// stops. After a restart (the exporter works again) and the next hours of
// the trail, the modification must be reported: a finding is delivered at
// least once. The file's message was deleted (its records were delivered),
// so nothing reads it again, and the expectation restored by the failed
// conclude only becomes an existence check (HeadObject: it exists).
func TestAdv2FindingNotLostAtShutdown(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 5)
	early, victim, _ := modifyFirstOfHour(t, s3srv, tree)

	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Integrity.Enabled = true
	cfg.Storage = &id

	sk := &findingSink{sink: newSink()}
	rf := &findingsRefuser{next: sk, err: errQueueFull}
	rf.refuse.Store(true)
	sendMessages(t, qc, queueURL, []string{s3Notification(signedBucket, early)})
	h := startReceiver(t, cfg, rf, host)
	require.Eventually(t, func() bool { return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == 1 },
		20*time.Second, 20*time.Millisecond)
	sendMessages(t, qc, queueURL, []string{s3Notification(signedBucket, victim)})
	require.Eventually(t, func() bool { return rf.refused.Load() >= 2 && sk.count() > 0 }, 20*time.Second, 20*time.Millisecond,
		"the finding was not refused (%d) or the records not delivered (%d)", rf.refused.Load(), sk.count())
	require.NoError(t, h.stop())
	require.Empty(t, sk.got())

	// Restart: the exporter accepts again; the trail goes on.
	rf.refuse.Store(false)
	var bodies []string
	for _, k := range append(append([]string(nil), tree.Keys...), tree.Digests...) {
		if k != early && k != victim {
			bodies = append(bodies, s3Notification(signedBucket, k))
		}
	}
	sendMessages(t, qc, queueURL, bodies)
	h = startReceiver(t, cfg, rf, host)
	require.Eventually(t, func() bool {
		return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == int64(len(tree.Digests)-1) &&
			h.counter(t, "otelcol_receiver_awscloudtrail_integrity_files_verified", "", "") == int64(len(tree.Keys)-1)
	}, 30*time.Second, 20*time.Millisecond)
	// Every other file and digest was handled: the modification is due now.
	assert.Eventually(t, func() bool { return len(sk.got()) > 0 }, 10*time.Second, 20*time.Millisecond, "no finding")
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusModified + " " + victim}, sk.got())
}

// TestAdv2ForgedDigestHidesModifiedFile: polling. The attacker modifies a
// log file and writes, next to the genuine digest that lists it, a copy
// of that digest under another trail's name (same content, same
// signature). The copy fails verification (bad_signature, reported), and
// it is processed first (same end, its key sorts first): the files it
// lists are then no longer checked, so the genuine, valid digest does not
// report the modified file. Both must be reported.
func TestAdv2ForgedDigestHidesModifiedFile(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	genuine := digestEnding(t, tree, t0.Add(time.Hour))
	victim := listedBy(t, s3srv, genuine)[0]
	modifyLogFile(t, s3srv, victim, func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"eventVersion":"1.09"`), []byte(`"eventVersion":"1.10"`), 1)
	})
	forged := strings.Replace(genuine, "_management_events_", "_aforged_", 1)
	require.NotEqual(t, genuine, forged)
	dbody, err := s3srv.Get(signedBucket, genuine)
	require.NoError(t, err)
	require.NoError(t, s3srv.PutWithMetadata(signedBucket, forged, dbody, map[string]string{
		"X-Amz-Meta-Signature": trailgenSignature(t, s3srv, genuine), "X-Amz-Meta-Signature-Algorithm": "SHA256withRSA"}))

	cfg := integrityConfig(s3srv.URL)
	sk := &findingSink{sink: newSink()}
	h := runUntilDigests(t, cfg, sk, nil, len(tree.Digests)+1, func() bool { return sk.count() >= len(tree.IDs) })
	want := []string{integrity.StatusBadSignature + " " + forged, integrity.StatusModified + " " + victim}
	assert.Eventually(t, func() bool { return len(sk.got()) >= len(want) }, 10*time.Second, 20*time.Millisecond, "findings %v", sk.got())
	require.NoError(t, h.stop())
	assert.Equal(t, want, sk.got())
}

// unreadableDigestTree seeds the signed tree, modifies a file of the
// us-east-1 digest ending in the hour after t0+2h and makes that digest
// unreadable (GetObject: AccessDenied, as when the attacker rewrites it
// encrypted with a KMS key of their own: CloudTrail writes digests with
// SSE-S3, which the receiver can always read).
func unreadableDigestTree(t *testing.T, s3srv *devstack.S3Server) (tree devstack.Tree, digest, victim string) {
	tree = signedTree(t, s3srv)
	digest = digestEnding(t, tree, t0.Add(2*time.Hour))
	victim = listedBy(t, s3srv, digest)[0]
	modifyLogFile(t, s3srv, victim, addNewline)
	s3srv.FailGet(signedBucket, digest, devstack.Fault{Status: 403, Code: "AccessDenied"})
	return tree, digest, victim
}

// TestAdv2UnreadableDigestSQS: SQS mode. A genuine digest made unreadable
// is retried, then given up (dead-letter queue); the next digest's chain
// check cannot read it either and skips the check with a warning. The
// hour it covered is blind: its modified file is never reported, nor is
// the digest. Something must be reported.
func TestAdv2UnreadableDigestSQS(t *testing.T) {
	s3srv := startS3(t)
	tree, digest, victim := unreadableDigestTree(t, s3srv)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 2*time.Second, 2)
	var bodies []string
	for _, k := range append(append([]string(nil), tree.Keys...), tree.Digests...) {
		bodies = append(bodies, s3Notification(signedBucket, k))
	}
	sendMessages(t, qc, queueURL, bodies)
	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.SQS.Get().VisibilityTimeout = 2 * time.Second
	cfg.Integrity.Enabled = true
	sk := &findingSink{sink: newSink()}
	h := startReceiver(t, cfg, sk, nil)
	blind := len(listedBy(t, s3srv, digest))
	require.Eventually(t, func() bool {
		return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == int64(len(tree.Digests)-1) &&
			h.counter(t, "otelcol_receiver_awscloudtrail_integrity_files_verified", "", "") == int64(len(tree.Keys)-blind) &&
			s3srv.Gets(signedBucket, digest) >= 3
	}, 30*time.Second, 20*time.Millisecond)
	assert.Eventually(t, func() bool { return len(sk.got()) > 0 }, 10*time.Second, 20*time.Millisecond,
		"nothing reported: %s unreadable, %s modified", digest, victim)
	require.NoError(t, h.stop())
}

// TestAdv2UnreadableDigestPolling: polling. A genuine digest made
// unreadable stops the processing of every later digest of the folder
// (they wait for it, for ever): a file modified hours later is never
// reported. Something must be reported.
func TestAdv2UnreadableDigestPolling(t *testing.T) {
	s3srv := startS3(t)
	tree, digest, _ := unreadableDigestTree(t, s3srv)
	later := digestEnding(t, tree, t0.Add(4*time.Hour))
	victim := listedBy(t, s3srv, later)[0]
	modifyLogFile(t, s3srv, victim, addNewline)
	cfg := integrityConfig(s3srv.URL)
	sk := &findingSink{sink: newSink()}
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return sk.count() >= len(tree.IDs) && s3srv.Gets(signedBucket, digest) >= 3 }, 30*time.Second, 20*time.Millisecond)
	assert.Eventually(t, func() bool { return len(sk.got()) > 0 }, 10*time.Second, 20*time.Millisecond,
		"nothing reported: %s unreadable, %s modified; digests checked %d of %d", digest, victim,
		h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", ""), len(tree.Digests))
	require.NoError(t, h.stop())
}

// TestAdv2ForgedFingerprintsListPublicKeys: polling. An attacker writes
// many forged digests, each naming a fingerprint of its own. Each is
// reported bad_signature (right), but each unknown fingerprint makes the
// receiver call ListPublicKeys again (every page) and remember the miss
// for ever: CloudTrail API calls grow with the objects the attacker
// writes (and ListPublicKeys throttling then delays genuine digests, whose
// key fetch failure makes them wait). The calls must stay bounded.
func TestAdv2ForgedFingerprintsListPublicKeys(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	genuine := digestEnding(t, tree, t0.Add(time.Hour))
	gz, err := s3srv.Get(signedBucket, genuine)
	require.NoError(t, err)
	d, raw, err := integrity.ParseDigest(gz)
	require.NoError(t, err)
	const forged = 30
	var want []string
	for i := range forged {
		key := strings.Replace(genuine, "_management_events_", fmt.Sprintf("_forged%02d_", i), 1)
		fraw := bytes.Replace(raw, []byte(genuine), []byte(key), 1)
		fraw = bytes.Replace(fraw, []byte(d.DigestPublicKeyFingerprint), fmt.Appendf(nil, "%032x", i+1), 1)
		require.NoError(t, s3srv.PutWithMetadata(signedBucket, key, devstack.Gzip(fraw),
			map[string]string{"X-Amz-Meta-Signature": "00ff", "X-Amz-Meta-Signature-Algorithm": "SHA256withRSA"}))
		want = append(want, integrity.StatusBadSignature+" "+key)
	}
	sort.Strings(want)
	cfg := integrityConfig(s3srv.URL)
	sk := &findingSink{sink: newSink()}
	h := runUntilDigests(t, cfg, sk, nil, len(tree.Digests)+forged, func() bool { return sk.count() >= len(tree.IDs) })
	require.NoError(t, h.stop())
	assert.Equal(t, want, sk.got())
	calls := s3srv.AWS().Calls("ListPublicKeys")
	assert.Less(t, calls, forged, "ListPublicKeys called %d times for %d forged digests", calls, forged)
}
