package awscloudtrailreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// gatedRecords holds every batch holding one of the records held until
// open is closed, then passes it on to next.
type gatedRecords struct {
	next consumer.Logs
	held map[string]bool // eventIDs
	open chan struct{}
}

func (g *gatedRecords) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	for _, id := range eventIDs(ld) {
		if g.held[id] {
			select {
			case <-g.open:
			case <-ctx.Done():
				return ctx.Err()
			}
			break
		}
	}
	return g.next.ConsumeLogs(ctx, ld)
}

func (*gatedRecords) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// fileEventIDs returns the eventIDs of a gzipped CloudTrail log file.
func fileEventIDs(t *testing.T, gz []byte) map[string]bool {
	t.Helper()
	var f struct {
		Records []struct {
			EventID string `json:"eventID"`
		}
	}
	require.NoError(t, json.Unmarshal(gunzip(t, gz), &f))
	ids := map[string]bool{}
	for _, r := range f.Records {
		ids[r.EventID] = true
	}
	require.NotEmpty(t, ids)
	return ids
}

// TestFindingNotLostAtShutdownPolling is TestAdv2FindingNotLostAtShutdown
// in polling mode: the digest is checked first (the modified file is
// expected: the delivery of its records waits for it), then the file is
// read and its `modified` finding is refused downstream until the receiver
// stops. The file must not count as read: after the restart it is read
// again (its records are not delivered twice) and the finding is delivered.
// Also when the saved state cannot be read back at the stop (the storage
// is down), so that the change cannot be undone in memory: the folder's
// state is then dropped unsaved (keeping the change in memory lost the
// finding).
func TestFindingNotLostAtShutdownPolling(t *testing.T) {
	for _, unreadable := range []bool{false, true} {
		t.Run(fmt.Sprintf("state unreadable at the stop: %v", unreadable), func(t *testing.T) {
			s3srv := startS3(t)
			tree := signedTree(t, s3srv)
			early, victim, modified := modifyFirstOfHour(t, s3srv, tree)

			st := newMemStorage()
			var down atomic.Bool
			var fails atomic.Int64
			st.Fault = func(ops []*storage.Operation) error {
				for _, op := range ops {
					if op.Type != storage.Get || !strings.HasPrefix(op.Key, "integrity/") {
						return nil
					}
				}
				if down.Load() {
					fails.Add(1)
					return errors.New("storage unavailable")
				}
				return nil
			}
			host, id := memStorageHost(st)
			cfg := integrityConfig(s3srv.URL)
			cfg.Storage = &id

			sk := &findingSink{sink: newSink()}
			rf := &findingsRefuser{next: sk, err: errQueueFull}
			rf.refuse.Store(true)
			gate := &gatedRecords{next: rf, held: fileEventIDs(t, modified), open: make(chan struct{})}
			h := startReceiver(t, cfg, gate, host)
			require.Eventually(t, func() bool {
				return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == int64(len(tree.Digests))
			}, 20*time.Second, 20*time.Millisecond)
			require.Empty(t, sk.got(), "a finding before the modified file was read")
			close(gate.open)
			require.Eventually(t, func() bool { return rf.refused.Load() >= 2 }, 20*time.Second, 20*time.Millisecond, "the finding was not refused")
			down.Store(unreadable)
			require.NoError(t, h.stop())
			if unreadable {
				require.Positive(t, fails.Load(), "the state was not read back at the stop")
			}
			require.Empty(t, sk.got())

			down.Store(false)
			rf.refuse.Store(false)
			h = startReceiver(t, cfg, rf, host)
			assert.Eventually(t, func() bool { return len(sk.got()) > 0 && sk.count() >= len(tree.IDs) }, 20*time.Second, 20*time.Millisecond,
				"after the restart: findings %v, records %d of %d", sk.got(), sk.count(), len(tree.IDs))
			waitPolls(t, s3srv, signedBucket, digestFolderOf(t, early))
			require.NoError(t, h.stop())
			assert.Equal(t, []string{integrity.StatusModified + " " + victim}, sk.got())
			assert.Empty(t, sk.duplicates(), "records delivered twice")
			assert.Equal(t, len(tree.IDs), sk.count())
		})
	}
}

// TestUnreadableDigestReported: a genuine digest made unreadable
// (AccessDenied) is reported chain_broken once the trail has gone on for
// grace_period past it and it was tried unreadAttempts times, the files
// of its hour are unsigned (no digest that can be read lists them), and
// the folder's later digests are checked (polling: they no longer wait for
// it for ever); a modified file hours later is reported. A digest unreadable
// only briefly (two failed reads) raises nothing: it is read and verified.
func TestUnreadableDigestReported(t *testing.T) {
	for _, tt := range []struct {
		name  string
		sqs   bool
		times int // failed reads; 0: every read
	}{
		{"polling, unreadable", false, 0},
		{"polling, briefly unreadable", false, unreadAttempts - 1},
		{"sqs, unreadable", true, 0},
		{"sqs, briefly unreadable", true, unreadAttempts - 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s3srv := startS3(t)
			tree := signedTree(t, s3srv)
			digest := digestEnding(t, tree, t0.Add(2*time.Hour))
			later := digestEnding(t, tree, t0.Add(4*time.Hour))
			victim := listedBy(t, s3srv, later)[0]
			modifyLogFile(t, s3srv, victim, addNewline)
			s3srv.FailGet(signedBucket, digest, devstack.Fault{Status: 403, Code: "AccessDenied", Times: tt.times})

			cfg := integrityConfig(s3srv.URL)
			if tt.sqs {
				qc := queueClient(s3srv.URL)
				queueURL, _ := createQueue(t, qc, "cloudtrail", 200*time.Millisecond, 5)
				var bodies []string
				for _, k := range append(append([]string(nil), tree.Keys...), tree.Digests...) {
					bodies = append(bodies, s3Notification(signedBucket, k))
				}
				sendMessages(t, qc, queueURL, bodies)
				cfg = sqsConfig(s3srv.URL, queueURL)
				cfg.SQS.Get().VisibilityTimeout = 200 * time.Millisecond
				cfg.Integrity.Enabled = true
			}
			want := []string{integrity.StatusModified + " " + victim}
			verified := len(tree.Digests)
			if tt.times == 0 {
				want = append(want, integrity.StatusChainBroken+" "+digest)
				// No digest that can be read lists the files of its hour.
				for _, k := range listedBy(t, s3srv, digest) {
					want = append(want, integrity.StatusUnsigned+" "+k)
				}
				verified--
			}
			sk := &findingSink{sink: newSink()}
			h := startReceiver(t, cfg, sk, nil)
			require.Eventually(t, func() bool {
				return sk.count() >= len(tree.IDs) && len(sk.got()) >= len(want) &&
					h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "result", "verified") == int64(verified)
			}, 30*time.Second, 20*time.Millisecond)
			if !tt.sqs && tt.times == 0 {
				// Later polls read it again (still unreadable): no finding again.
				gets := s3srv.Gets(signedBucket, digest)
				require.Eventually(t, func() bool { return s3srv.Gets(signedBucket, digest) >= gets+2*unreadAttempts+1 }, 10*time.Second, 20*time.Millisecond)
			}
			require.NoError(t, h.stop())
			sort.Strings(want)
			assert.Equal(t, want, sk.got())
			assert.GreaterOrEqual(t, s3srv.Gets(signedBucket, digest), unreadAttempts)
			if tt.times == 0 {
				assert.Equal(t, int64(len(tree.Keys)-len(listedBy(t, s3srv, digest))-1),
					h.counter(t, "otelcol_receiver_awscloudtrail_integrity_files_verified", "", ""))
			}
		})
	}
}

// countingKeys is a CloudTrail client that returns no public key and
// counts the ListPublicKeys calls.
type countingKeys struct {
	trailAPI
	calls int
}

func (c *countingKeys) ListPublicKeys(context.Context, *cloudtrail.ListPublicKeysInput, ...func(*cloudtrail.Options)) (*cloudtrail.ListPublicKeysOutput, error) {
	c.calls++
	return &cloudtrail.ListPublicKeysOutput{}, nil
}

// TestVerifyPublicKeyCalls: digests naming fingerprints ListPublicKeys
// does not return. One call answers for every digest of the range it
// covered (bad_signature: unknown key, no call each); a digest ending far
// in the future cannot be genuine (no call); one newer than the last call
// is not reported but tried again later while calls are less than
// keyCallInterval apart (a key CloudTrail has just rotated to). The state
// kept is one key ring and one range per region.
func TestVerifyPublicKeyCalls(t *testing.T) {
	api := &countingKeys{}
	v := &verifier{cfg: IntegrityConfig{GracePeriod: 2 * time.Hour, Window: 48 * time.Hour}, startFloor: t0, logger: zap.NewNop(),
		clients: &awsClients{cloudTrail: regional[trailAPI]{build: func(string) trailAPI { return api }}}, keys: map[string]*regionKeys{}}
	digest := func(i int, end time.Time) integrity.Signed {
		key := fmt.Sprintf("forged%d", i)
		return integrity.Signed{Bucket: "b", Key: key, Signature: "00ff", Algorithm: integrity.Algorithm, Digest: integrity.Digest{DigestS3Bucket: "b", DigestS3Object: key,
			DigestPublicKeyFingerprint: fmt.Sprintf("%032x", i), Start: end.Add(-time.Hour), End: end}}
	}
	ctx := context.Background()
	for i := range 50 {
		err := v.verify(ctx, "us-east-1", digest(i, t0.Add(time.Duration(i)*time.Hour)))
		require.ErrorIs(t, err, integrity.ErrUnknownKey)
	}
	assert.Equal(t, 1, api.calls, "ListPublicKeys calls for 50 digests of a covered range")
	require.ErrorIs(t, v.verify(ctx, "us-east-1", digest(51, time.Now().Add(24*time.Hour))), integrity.ErrUnknownKey)
	assert.Equal(t, 1, api.calls, "a digest ending in a day made a call")
	newer := digest(52, time.Now().Add(5*time.Minute))
	err := v.verify(ctx, "us-east-1", newer)
	require.ErrorIs(t, err, errKeys, "a digest newer than the last call is not reported while calls are rate-limited")
	assert.Equal(t, 1, api.calls)
	v.keys["us-east-1"].at = time.Now().Add(-keyCallInterval) // the interval passed
	require.ErrorIs(t, v.verify(ctx, "us-east-1", newer), integrity.ErrUnknownKey)
	assert.Equal(t, 2, api.calls)
	require.ErrorIs(t, v.verify(ctx, "eu-west-1", digest(53, t0)), integrity.ErrUnknownKey)
	assert.Equal(t, 3, api.calls, "one call for the other region")
	assert.Len(t, v.keys, 2)
}
