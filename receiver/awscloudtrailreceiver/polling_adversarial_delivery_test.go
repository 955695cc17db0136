package awscloudtrailreceiver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// Adversarial tests of the polling guarantees (issue #9). Each test names
// the guarantee it attacks; a failing test here is a finding, not a flake.
// This file: delivery (slow folders, refusals, cut bodies, stops, folders
// dropped and re-added); polling_adversarial_window_test.go: the listing
// window.

// TestAdvPollingSlowFolderHoldsAllReaders attacks "a slow folder does not
// hold the others back": a folder with as many slow objects as there are
// workers (GetObject does not answer) takes every reader, and a new
// object of another folder is not read.
func TestAdvPollingSlowFolderHoldsAllReaders(t *testing.T) {
	s3srv := startS3(t)
	slowKeys, _ := putFolder(t, s3srv, "333333333333", t0, 2, 11)
	_, okIDs := putFolder(t, s3srv, "111111111111", t0, 1, 12)
	rs := newReleaseStore()
	var started []<-chan struct{}
	for _, k := range slowKeys {
		st, rel := rs.hold(k)
		defer rel()
		started = append(started, st)
	}
	cfg := testConfig(s3srv.URL)
	cfg.Workers = 2
	sk := newSink()
	h := startReceiverHooked(t, cfg, sk, nil, func(r *cloudtrailReceiver) {
		r.tune.wrapS3 = func(s objectStore) objectStore { rs.objectStore = s; return rs }
	})
	// A folder holds at most workers − 1 readers: one slow object is being
	// fetched and the other waits for the slow folder's own slot.
	require.Eventually(t, func() bool {
		return closed(started[0]) || closed(started[1])
	}, waitFor, 5*time.Millisecond, "a slow object is being fetched")
	t.Logf("the healthy folder's first object was read before the readers were taken: %v", hasAll(sk, okIDs))
	_, canary := putFolder(t, s3srv, "111111111111", t0.Add(time.Hour), 1, 13)
	// A healthy folder polled every 100 ms reads a new object within a few
	// polls; waitFor bounds the wait on a loaded machine.
	assert.Eventually(t, func() bool { return hasAll(sk, canary) && hasAll(sk, okIDs) }, waitFor, 10*time.Millisecond,
		"a new object of a healthy folder is read while another folder's objects are slow")
	okPrefix := "AWSLogs/111111111111/CloudTrail/us-east-1/"
	t.Logf("healthy folder listed %d times", s3srv.Lists(testBucket, okPrefix))
	require.NoError(t, h.stop())
}

// TestAdvPollingPermanentErrorMidObject: the next consumer rejects the
// second batch of an object permanently. The object is given up (the
// README's documented behaviour): logged with its key, counted, never
// fetched again; the records before the rejected batch are delivered once,
// and the other objects of the folder exactly once.
func TestAdvPollingPermanentErrorMidObject(t *testing.T) {
	s3srv := startS3(t)
	const account, region = "555555555555", "us-east-1"
	prefix := "AWSLogs/" + account + "/CloudTrail/" + region + "/"
	g := trailgen.New(903, account, region)
	_, idsA := putGen(t, s3srv, g, t0, "a", 6)
	keyB, idsB := putGen(t, s3srv, g, t0.Add(time.Minute), "b", 9)
	_, idsC := putGen(t, s3srv, g, t0.Add(2*time.Minute), "c", 6)

	mem := newMemStorage()
	cfg, host := memConfig(s3srv.URL, mem)
	cfg.Workers = 2
	cfg.MaxBatchRecords = 3
	sk := newSink()
	var mu sync.Mutex
	rejected := false
	// The sink's fail hook sees the batch number only; reject the first
	// batch that carries B's 4th record (its second batch).
	h := startReceiver(t, cfg, advFilter(func(ctx context.Context, ids []string, pass func() error) error {
		mu.Lock()
		defer mu.Unlock()
		if !rejected && slices.Contains(ids, idsB[3]) {
			rejected = true
			return consumererror.NewPermanent(errors.New("rejected"))
		}
		return pass()
	}, sk), host)
	require.Eventually(t, func() bool {
		return hasAll(sk, idsA) && hasAll(sk, idsC) && mem.done(t, keyB) && mem.pending(t) == 0
	}, waitFor, 5*time.Millisecond)
	waitPolls(t, s3srv, testBucket, prefix)
	require.NoError(t, h.stop())
	assert.Equal(t, 1, s3srv.Gets(testBucket, keyB), "a rejected object is not fetched again")
	assert.NotEmpty(t, h.logsWith("key", keyB), "the rejection is logged with the key")
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_awscloudtrail_objects_failed", "reason", reasonConsumer))
	assertExactlyOnce(t, sk, slices.Concat(idsA, idsB[:3], idsC))
}

// TestAdvPollingCutBodyResumes: the body of an object is cut mid-transfer
// (connection reset: io.ErrUnexpectedEOF from the transport) once. The
// object is retried from its last delivered record: every record exactly
// once, and the cut is not mistaken for a truncated file (given up).
func TestAdvPollingCutBodyResumes(t *testing.T) {
	s3srv := startS3(t)
	const account, region = "555555555555", "us-east-1"
	g := trailgen.New(904, account, region)
	key, ids := putGen(t, s3srv, g, t0, "cut", 200)
	raw, err := s3srv.Get(testBucket, key)
	require.NoError(t, err)

	cfg := testConfig(s3srv.URL)
	cfg.MaxBatchRecords = 10
	rs := newReleaseStore()
	rs.cut[key] = true
	rs.cutAfter = len(raw) / 2
	sk := newSink()
	h := startReceiverHooked(t, cfg, sk, nil, func(r *cloudtrailReceiver) {
		r.tune.retryBase = 50 * time.Millisecond
		r.tune.wrapS3 = func(s objectStore) objectStore { rs.objectStore = s; return rs }
	})
	require.Eventually(t, func() bool { return hasAll(sk, ids) }, waitFor, 5*time.Millisecond)
	waitPolls(t, s3srv, testBucket, "AWSLogs/"+account+"/CloudTrail/"+region+"/")
	require.NoError(t, h.stop())
	assert.Equal(t, 2, s3srv.Gets(testBucket, key))
	assertExactlyOnce(t, sk, ids)
}

// TestAdvPollingPartialRefusalResendsAccepted attacks "a batch spanning
// several resources with a failing request at any position → every
// record exactly once after retries" at the receiver: the next consumer
// (an exporter without a queue whose retry gave up or is disabled, or the
// fan-out forwarding its error) accepted the first half of a batch and
// refuses the rest with consumererror.Logs naming exactly the records not
// accepted. The receiver retries the whole batch (read.go deliver), so the
// accepted half is sent twice.
func TestAdvPollingPartialRefusalResendsAccepted(t *testing.T) {
	s3srv := startS3(t)
	const account, region = "555555555555", "us-east-1"
	g := trailgen.New(905, account, region)
	_, ids := putGen(t, s3srv, g, t0, "partial", 10)

	cfg := testConfig(s3srv.URL)
	cfg.MaxBatchRecords = 10
	sk := newSink()
	pc := &partialConsumer{sink: sk}
	h := startReceiver(t, cfg, pc, nil)
	require.Eventually(t, func() bool { return hasAll(sk, ids) }, waitFor, 5*time.Millisecond)
	waitPolls(t, s3srv, testBucket, "AWSLogs/"+account+"/CloudTrail/"+region+"/")
	require.NoError(t, h.stop())
	assertExactlyOnce(t, sk, ids)
}

// TestAdvPollingFolderDroppedMidObjectAndReadded: a refresh drops a folder
// (its trail stops logging) while one of its objects is half delivered and
// stalled; a later refresh adds it again. With and without a storage
// extension the object resumes after its delivered records: every record
// exactly once.
func TestAdvPollingFolderDroppedMidObjectAndReadded(t *testing.T) {
	for _, withStorage := range []bool{false, true} {
		t.Run(fmt.Sprintf("storage=%v", withStorage), func(t *testing.T) {
			s3srv := startS3(t)
			apis := s3srv.AWS()
			require.NoError(t, s3srv.CreateBucket("bucket-a"))
			const account, region = "111111111111", "us-east-1"
			trail := devstack.Trail{Name: "a", HomeRegion: region, Account: account, Bucket: "bucket-a", Logging: true}
			apis.PutTrail(trail)
			g := trailgen.New(906, account, region)
			put := func(at time.Time, u string, n int) (string, []string) {
				key := trailgen.Key("", "", account, "CloudTrail", region, at, u)
				recs := genRecords(g, at, n)
				require.NoError(t, s3srv.Put("bucket-a", key, trailgen.LogFile(recs, true)))
				var ids []string
				for _, r := range recs {
					ids = append(ids, r["eventID"].(string))
				}
				return key, ids
			}
			keyA, idsA := put(t0, "a", 400)
			_, idsB := put(t0.Add(time.Minute), "b", 10)
			raw, err := s3srv.Get("bucket-a", keyA)
			require.NoError(t, err)

			cfg := discoveryConfig(s3srv.URL)
			cfg.Discovery.RefreshInterval = 100 * time.Millisecond
			cfg.Workers = 2
			cfg.MaxBatchRecords = 20
			var host component.Host
			if withStorage {
				var id component.ID
				host, id = memStorageHost(newMemStorage())
				cfg.Storage = &id
			}
			ss := &stallStore{stall: map[string]bool{keyA: true}, stallAfter: len(raw) / 2, stalled: make(chan struct{})}
			var once sync.Once
			sk := newSink()
			h := startReceiverHooked(t, cfg, sk, host, func(r *cloudtrailReceiver) {
				r.tune.wrapS3 = func(s objectStore) objectStore { once.Do(func() { ss.objectStore = s }); return ss }
			})
			require.Eventually(t, func() bool { return closed(ss.stalled) && hasAll(sk, idsB) }, waitFor, 5*time.Millisecond)
			require.Positive(t, len(sk.ids())-len(idsB), "part of A was delivered before the stall")

			trail.Logging = false
			apis.PutTrail(trail)
			dropped := func() bool {
				for _, e := range h.logs.All() {
					if strings.HasPrefix(e.Message, "CloudTrail folder no longer belongs") {
						return true
					}
				}
				return false
			}
			require.Eventually(t, dropped, waitFor, 5*time.Millisecond)
			trail.Logging = true
			apis.PutTrail(trail)
			all := slices.Concat(idsA, idsB)
			require.Eventually(t, func() bool { return hasAll(sk, all) }, waitFor, 5*time.Millisecond)
			waitPolls(t, s3srv, "bucket-a", "AWSLogs/"+account+"/CloudTrail/"+region+"/")
			require.NoError(t, h.stop())
			assert.Equal(t, 2, s3srv.Gets("bucket-a", keyA), "A is fetched again once, after the re-add")
			assertExactlyOnce(t, sk, all)
		})
	}
}

// TestAdvPollingStopDuringBackoff: the next consumer accepts the first
// batch of an object and then refuses (retryable) every batch; the
// receiver stops gracefully while it backs off. The restart on the same
// storage delivers the rest: every record exactly once.
func TestAdvPollingStopDuringBackoff(t *testing.T) {
	s3srv := startS3(t)
	const account, region = "555555555555", "us-east-1"
	g := trailgen.New(907, account, region)
	key, ids := putGen(t, s3srv, g, t0, "backoff", 12)
	mem := newMemStorage()
	cfg, host := memConfig(s3srv.URL, mem)
	cfg.MaxBatchRecords = 4
	first := newSink()
	var refusals atomic.Int32
	first.fail = func(batch int) error {
		if batch >= 1 {
			refusals.Add(1)
			return errors.New("downstream busy")
		}
		return nil
	}
	h1 := startReceiver(t, cfg, first, host)
	require.Eventually(t, func() bool { return refusals.Load() >= 3 }, waitFor, 5*time.Millisecond, "backing off")
	require.NoError(t, h1.stop())
	require.Equal(t, 4, first.count())

	second := newSink()
	h2 := startReceiver(t, cfg, second, host)
	require.Eventually(t, func() bool { return mem.done(t, key) }, waitFor, 5*time.Millisecond)
	waitPolls(t, s3srv, testBucket, "AWSLogs/"+account+"/CloudTrail/"+region+"/")
	require.NoError(t, h2.stop())
	union := first.ids()
	for k, n := range second.ids() {
		union[k] += n
	}
	assert.Len(t, union, len(ids))
	for _, id := range ids {
		assert.Equal(t, 1, union[id], id)
	}
}

// TestAdvPollingTwoTrailEntriesSameBucketDifferentAccounts: two entries of
// `trails` name the same bucket (and prefix) with different `accounts`.
// Validate accepts it, and the refresh (poller.refresh) keeps only the first entry per
// bucket/prefix (folders.go: "A trail sharing its bucket and prefix with
// another is read once"), so the second entry's accounts are never read —
// without an error or a warning.
func TestAdvPollingTwoTrailEntriesSameBucketDifferentAccounts(t *testing.T) {
	s3srv := startS3(t)
	_, ids1 := putFolder(t, s3srv, "111111111111", t0, 1, 21)
	_, ids2 := putFolder(t, s3srv, "222222222222", t0, 1, 22)
	cfg := testConfig(s3srv.URL)
	cfg.Trails = []TrailConfig{
		{Bucket: testBucket, Accounts: []string{"111111111111"}},
		{Bucket: testBucket, Accounts: []string{"222222222222"}},
	}
	sk := newSink()
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return hasAll(sk, ids1) }, waitFor, 5*time.Millisecond)
	waitPolls(t, s3srv, testBucket, "AWSLogs/111111111111/CloudTrail/us-east-1/")
	require.NoError(t, h.stop())
	assert.True(t, hasAll(sk, ids2), "the second trail entry's account is read (lists of its folder: %d)",
		s3srv.Lists(testBucket, "AWSLogs/222222222222/CloudTrail/us-east-1/"))
}
