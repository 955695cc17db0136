package awscloudtrailreceiver

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"

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
func TestFindingNotLostAtShutdownPolling(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	early := digestEnding(t, tree, t0.Add(time.Hour))
	victim := listedBy(t, s3srv, early)[0]
	body, err := s3srv.Get(signedBucket, victim)
	require.NoError(t, err)
	modified := devstack.Gzip(append(gunzip(t, body), '\n'))
	require.NoError(t, s3srv.Put(signedBucket, victim, modified))

	st := newMemStorage()
	host, id := memStorageHost(st)
	cfg := integrityConfig(s3srv.URL)
	cfg.Storage = &id

	sk := &findingSink{sink: newSink()}
	rf := &refusingFindings{next: sk}
	rf.refuse.Store(true)
	gate := &gatedRecords{next: rf, held: fileEventIDs(t, modified), open: make(chan struct{})}
	h := startReceiver(t, cfg, gate, host)
	require.Eventually(t, func() bool {
		return h.counter(t, "otelcol_receiver_awscloudtrail_integrity_digests", "", "") == int64(len(tree.Digests))
	}, 20*time.Second, 20*time.Millisecond)
	require.Empty(t, sk.got(), "a finding before the modified file was read")
	close(gate.open)
	require.Eventually(t, func() bool { return rf.refused.Load() >= 2 }, 20*time.Second, 20*time.Millisecond, "the finding was not refused")
	require.NoError(t, h.stop())
	require.Empty(t, sk.got())

	rf.refuse.Store(false)
	h = startReceiver(t, cfg, rf, host)
	assert.Eventually(t, func() bool { return len(sk.got()) > 0 && sk.count() >= len(tree.IDs) }, 20*time.Second, 20*time.Millisecond,
		"after the restart: findings %v, records %d of %d", sk.got(), sk.count(), len(tree.IDs))
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusModified + " " + victim}, sk.got())
	assert.Empty(t, sk.duplicates(), "records delivered twice")
	assert.Equal(t, len(tree.IDs), sk.count())
}
