package awscloudtrailreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
)

const signedBucket = "signed-trail"

var signingKeys = sync.OnceValues(func() ([]*trailgen.KeyPair, error) {
	a, err := trailgen.NewKeyPair(t0.Add(-48*time.Hour), t0.Add(3*time.Hour))
	if err != nil {
		return nil, err
	}
	b, err := trailgen.NewKeyPair(t0.Add(3*time.Hour), time.Time{})
	return []*trailgen.KeyPair{a, b}, err
})

// signedTree seeds a trail with log file validation: two regions, a file
// every 20 minutes for 6 hours, hourly digests signed with a key that
// rotates at t0+3h.
func signedTree(t *testing.T, s3srv *devstack.S3Server) devstack.Tree {
	return signedTrail(t, s3srv, "management_events", 9)
}

// signedTrail is signedTree for the trail named trail, its records drawn
// from seed.
func signedTrail(t *testing.T, s3srv *devstack.S3Server, trail string, seed uint64) devstack.Tree {
	t.Helper()
	keys, err := signingKeys()
	require.NoError(t, err)
	for _, k := range keys {
		s3srv.AWS().AddPublicKey(k)
	}
	tree, err := devstack.SeedTrailTree(s3srv, devstack.TreeSpec{Bucket: signedBucket, Accounts: []string{"111111111111"}, Regions: []string{"us-east-1", "eu-west-1"},
		Files: 18, Every: 20 * time.Minute, End: t0.Add(6 * time.Hour), RecordsPerFile: 4, Keys: keys, Trail: trail, Seed: seed})
	require.NoError(t, err)
	return tree
}

// findingSink collects records and, apart, the integrity findings.
type findingSink struct {
	*sink
	mu       sync.Mutex
	findings []string // "status key"
	// records are the finding records by "status key", with their resource.
	records map[string]plog.ResourceLogs
}

func (s *findingSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	rest := plog.NewLogs()
	ld.CopyTo(rest)
	s.mu.Lock()
	rest.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				st, ok := lr.Attributes().Get(ctattr.AttrIntegrityStatus)
				if ok {
					key, _ := lr.Attributes().Get(ctattr.AttrS3Key)
					s.findings = append(s.findings, st.Str()+" "+key.Str())
					if s.records == nil {
						s.records = map[string]plog.ResourceLogs{}
					}
					cp := plog.NewResourceLogs()
					rl.Resource().CopyTo(cp.Resource())
					lr.CopyTo(cp.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty())
					s.records[st.Str()+" "+key.Str()] = cp
				}
				return ok
			})
			return sl.LogRecords().Len() == 0
		})
		return rl.ScopeLogs().Len() == 0
	})
	s.mu.Unlock()
	return s.sink.ConsumeLogs(ctx, rest)
}

func (s *findingSink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.findings...)
	sort.Strings(out)
	return out
}

var _ consumer.Logs = (*findingSink)(nil)

func integrityConfig(endpoint string) *Config {
	cfg := testConfig(endpoint)
	cfg.Trails = []TrailConfig{{Bucket: signedBucket}}
	cfg.Integrity.Enabled = true
	return cfg
}

// runUntilDigests runs a receiver until it checked want digests (counter)
// and delivered records records, then stops it.
func runUntilDigests(t *testing.T, cfg *Config, next consumer.Logs, host component.Host, digests int, records func() bool) *harness {
	t.Helper()
	h := startReceiver(t, cfg, next, host)
	defer func() {
		if t.Failed() {
			for _, e := range h.logs.All() {
				if e.Level >= zap.WarnLevel {
					t.Log(e.Message, e.ContextMap())
				}
			}
		}
	}()
	checked := func() int64 { return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") }
	if !assert.Eventually(t, func() bool { return records() && checked() >= int64(digests) }, 30*time.Second, 20*time.Millisecond) {
		t.Fatalf("records delivered: %v, digests checked %d of %d", records(), checked(), digests)
	}
	return h
}

// TestIntegrityUntouchedTree: a signed tree read twice (a restart in
// between, state in the storage extension) raises no finding, and every
// digest and file is verified once.
func TestIntegrityUntouchedTree(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := integrityConfig(s3srv.URL)
	cfg.Storage = &id
	sk := &findingSink{sink: newSink()}
	h := runUntilDigests(t, cfg, sk, host, len(tree.Digests), func() bool { return sk.count() >= len(tree.IDs) })
	require.Eventually(t, func() bool {
		return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_files_verified", "", "") == int64(len(tree.Keys))
	}, 10*time.Second, 20*time.Millisecond, "files verified %d of %d, digests %d of %d, findings %v",
		h.counter(t, "otelcol_receiver_awscloudtrail_integrity_files_verified", "", ""), len(tree.Keys),
		h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", ""), len(tree.Digests), sk.got())
	assert.Equal(t, int64(len(tree.Digests)), h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "result", "verified"))
	require.NoError(t, h.stop())

	// Restart on the same storage; more polls; one more hour of files and its digest.
	h2 := startReceiver(t, cfg, sk, host)
	waitPolls(t, s3srv, signedBucket, "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/")
	waitPolls(t, s3srv, signedBucket, "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/")
	require.NoError(t, h2.stop())
	assert.Empty(t, sk.got(), "findings on an untouched tree")
	assert.Empty(t, sk.duplicates())
}

// TestIntegrityTampering: each kind of tampering is reported once, with
// its status and key, and nothing else.
func TestIntegrityTampering(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	sort.Strings(tree.Digests)
	var east []string
	for _, d := range tree.Digests {
		if dk, _ := integrity.ParseDigestKey(d); dk.Folder.Region == "us-east-1" {
			east = append(east, d)
		}
	}
	require.GreaterOrEqual(t, len(east), 6)
	var want []string
	// Modified: a file's records changed (re-gzipped).
	modified := listedBy(t, s3srv, east[0])[0]
	body, err := s3srv.Get(signedBucket, modified)
	require.NoError(t, err)
	raw := gunzip(t, body)
	require.NoError(t, s3srv.Put(signedBucket, modified, devstack.Gzip(bytes.Replace(raw, []byte(`"eventVersion":"1.09"`), []byte(`"eventVersion":"1.10"`), 1))))
	want = append(want, integrity.StatusModified+" "+modified)
	// Missing: a file deleted.
	deleted := listedBy(t, s3srv, east[1])[1]
	require.NoError(t, s3srv.Delete(signedBucket, deleted))
	want = append(want, integrity.StatusMissing+" "+deleted)
	// Unsigned: a file injected into the first hour.
	injected := trailgen.Key("", "", "111111111111", "CloudTrail", "us-east-1", t0.Add(10*time.Minute), "injected")
	require.NoError(t, s3srv.Put(signedBucket, injected, trailgen.LogFile(genRecords(trailgen.New(77, "111111111111", "us-east-1"), t0.Add(10*time.Minute), 2), true)))
	want = append(want, integrity.StatusUnsigned+" "+injected)
	// Forged digest: a listed hash replaced, the signature kept.
	forged := east[2]
	fbody, err := s3srv.Get(signedBucket, forged)
	require.NoError(t, err)
	d, fraw, err := integrity.ParseDigest(fbody)
	require.NoError(t, err)
	sig := trailgenSignature(t, s3srv, forged)
	fraw = bytes.Replace(fraw, []byte(d.LogFiles[0].HashValue), bytes.Repeat([]byte("0"), 64), 1)
	require.NoError(t, s3srv.PutWithMetadata(signedBucket, forged, devstack.Gzip(fraw), map[string]string{"X-Amz-Meta-Signature": sig, "X-Amz-Meta-Signature-Algorithm": "SHA256withRSA"}))
	want = append(want, integrity.StatusBadSignature+" "+forged)
	// Broken chain: a digest deleted; the next one names it. The files it
	// listed are not reported again (as unsigned): no digest covers their hour.
	gone := east[3]
	require.NoError(t, s3srv.Delete(signedBucket, gone))
	want = append(want, integrity.StatusChainBroken+" "+east[4])
	sort.Strings(want)

	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := integrityConfig(s3srv.URL)
	cfg.Storage = &id
	sk := &findingSink{sink: newSink()}
	h := runUntilDigests(t, cfg, sk, host, len(tree.Digests)-1, func() bool { return sk.count() >= len(tree.IDs)-4+2 })
	require.Eventually(t, func() bool { return len(sk.got()) >= len(want) }, 20*time.Second, 20*time.Millisecond, "findings %v", sk.got())
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_awscloudtrail_integrity_findings", "status", integrity.StatusModified))
	require.NoError(t, h.stop())
	// A restart reports nothing again.
	h2 := startReceiver(t, cfg, sk, host)
	waitPolls(t, s3srv, signedBucket, "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/")
	require.NoError(t, h2.stop())
	assert.Equal(t, want, sk.got())

	// A finding's record: what, where, which digest and time range.
	rl := sk.records[integrity.StatusModified+" "+modified]
	assert.Equal(t, map[string]any{ctattr.ResourceCloudProvider: "aws", ctattr.ResourceAccountID: "111111111111", ctattr.ResourceRegion: "us-east-1"}, rl.Resource().Attributes().AsRaw())
	lr := rl.ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, plog.SeverityNumberError, lr.SeverityNumber())
	attrs := lr.Attributes().AsRaw()
	assert.Equal(t, signedBucket, attrs[ctattr.AttrS3Bucket])
	assert.Equal(t, east[0], attrs[ctattr.AttrIntegrityDigestKey])
	assert.Equal(t, "2026-11-20T10:01:31Z", attrs[ctattr.AttrIntegrityStart])
	assert.Equal(t, "2026-11-20T11:01:31Z", attrs[ctattr.AttrIntegrityEnd])
	assert.Equal(t, ctattr.PriorityNormal, attrs[ctattr.AttrPriority])
	assert.Contains(t, lr.Body().Str(), "CloudTrail integrity: log file modified in 111111111111 us-east-1\n")
}

// trailgenSignature returns the x-amz-meta-signature of a stored digest.
func trailgenSignature(t *testing.T, s3srv *devstack.S3Server, key string) string {
	t.Helper()
	meta, err := s3srv.Metadata(signedBucket, key)
	require.NoError(t, err)
	return meta["X-Amz-Meta-Signature"]
}

// modifyLogFile rewrites a stored log file with edit applied to its
// uncompressed content, and returns the new gzipped body.
func modifyLogFile(t *testing.T, s3srv *devstack.S3Server, key string, edit func([]byte) []byte) []byte {
	t.Helper()
	body, err := s3srv.Get(signedBucket, key)
	require.NoError(t, err)
	modified := devstack.Gzip(edit(gunzip(t, body)))
	require.NoError(t, s3srv.Put(signedBucket, key, modified))
	return modified
}

// addNewline is the smallest modification of a log file: its hash changes,
// its records do not.
func addNewline(b []byte) []byte { return append(b, '\n') }

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

// TestIntegritySQS: in SQS mode, digests announced in the queue between
// the log files (as CloudTrail delivers them) are verified, and a modified
// and a deleted file are reported, once each.
func TestIntegritySQS(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	qc := queueClient(s3srv.URL)
	queueURL, _ := createQueue(t, qc, "cloudtrail", 30*time.Second, 2)
	// Announce every object in delivery order: by the time in its name.
	objs := append(append([]string(nil), tree.Keys...), tree.Digests...)
	at := func(k string) string {
		if dk, ok := integrity.ParseDigestKey(k); ok {
			return dk.End.Format(time.RFC3339)
		}
		_, ft, _ := keylayout.Parse(k)
		return ft.Format(time.RFC3339)
	}
	sort.Slice(objs, func(i, j int) bool { return at(objs[i]) < at(objs[j]) })
	var bodies []string
	for _, k := range objs {
		bodies = append(bodies, s3Notification(signedBucket, k))
	}
	sort.Strings(tree.Keys)
	modified, deleted := tree.Keys[2], tree.Keys[7]
	modifyLogFile(t, s3srv, modified, addNewline)
	require.NoError(t, s3srv.Delete(signedBucket, deleted))
	sendMessages(t, qc, queueURL, bodies)

	cfg := sqsConfig(s3srv.URL, queueURL)
	cfg.Integrity.Enabled = true
	sk := &findingSink{sink: newSink()}
	h := runUntilDigests(t, cfg, sk, nil, len(tree.Digests), func() bool { return sk.count() >= len(tree.IDs)-4 })
	want := []string{integrity.StatusMissing + " " + deleted, integrity.StatusModified + " " + modified}
	require.Eventually(t, func() bool { return len(sk.got()) >= len(want) }, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, h.stop())
	assert.Equal(t, want, sk.got())
	assert.Equal(t, int64(len(tree.Digests)), h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "result", "verified"))
}
