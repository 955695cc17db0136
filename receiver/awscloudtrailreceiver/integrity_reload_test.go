package awscloudtrailreceiver

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// stateOutage is a storage extension whose reads of the integrity state
// fail while down is set (the checkpoints are unaffected).
type stateOutage struct {
	*memstorage.Storage
	down  atomic.Bool
	fails atomic.Int64
}

func (s *stateOutage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	c, err := s.Storage.GetClient(ctx, kind, id, name)
	return &stateOutageClient{Client: c, s: s}, err
}

type stateOutageClient struct {
	storage.Client
	s *stateOutage
}

func (c *stateOutageClient) Get(ctx context.Context, key string) ([]byte, error) {
	if c.s.down.Load() && strings.HasPrefix(key, "integrity/") {
		c.s.fails.Add(1)
		return nil, errors.New("storage unavailable")
	}
	return c.Client.Get(ctx, key)
}

// TestFindingUndeliveredStateUnreloadable: a `modified` finding is refused
// downstream until the receiver stops, and the saved state cannot be read
// back then (the storage is down), so the change cannot be undone in
// memory: the folder's state is dropped unsaved, the file does not count
// as read, and after a restart (storage back) the file is read again and
// the finding delivered once, its records once.
func TestFindingUndeliveredStateUnreloadable(t *testing.T) {
	s3srv := startS3(t)
	tree := signedTree(t, s3srv)
	early := digestEnding(t, tree, t0.Add(time.Hour))
	victim := listedBy(t, s3srv, early)[0]
	modified := modifyLogFile(t, s3srv, victim, addNewline)

	st := &stateOutage{Storage: memstorage.NewShared(component.MustNewID("memstorage"))}
	host := &memstorage.Host{Host: st.Host(), Extensions: map[component.ID]component.Component{st.ID(): st}}
	id := st.ID()
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
	close(gate.open)
	require.Eventually(t, func() bool { return rf.refused.Load() >= 2 }, 20*time.Second, 20*time.Millisecond, "the finding was not refused")
	st.down.Store(true)
	require.NoError(t, h.stop())
	require.Positive(t, st.fails.Load(), "the state was not read back at the stop")
	require.Empty(t, sk.got())

	st.down.Store(false)
	rf.refuse.Store(false)
	h = startReceiver(t, cfg, rf, host)
	assert.Eventually(t, func() bool { return len(sk.got()) > 0 && sk.count() >= len(tree.IDs) }, 20*time.Second, 20*time.Millisecond,
		"after the restart: findings %v, records %d of %d", sk.got(), sk.count(), len(tree.IDs))
	waitPolls(t, s3srv, signedBucket, digestFolderOf(t, early))
	require.NoError(t, h.stop())
	assert.Equal(t, []string{integrity.StatusModified + " " + victim}, sk.got())
	assert.Empty(t, sk.duplicates(), "records delivered twice")
	assert.Equal(t, len(tree.IDs), sk.count())
}
