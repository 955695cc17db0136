package datadog

import (
	"context"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// queueMetadataKey is the key under which the collector's persistent
// sending queue (exporterhelper v0.160.0) keeps its read and write indexes
// and the requests being sent.
const queueMetadataKey = "qmv0"

// CrashSafeQueue closes a crash window of the collector's persistent
// sending queue (exporterhelper v0.160.0; the same code upstream as of
// 2026-08). When it starts, the queue reads the requests that were being
// sent when the collector stopped, deletes them from the storage, then
// writes them back at the end of the queue one at a time: a crash (SIGKILL,
// OOM kill) between the delete and the last write loses the requests not
// written back yet. The wrapper holds those deletes back until the queue
// next writes its metadata after it started, which no longer names them,
// and applies them in the same storage transaction. A crash before that
// leaves both copies of a request: it is sent twice, never lost.
func CrashSafeQueue(exp exporter.Logs, q configoptional.Optional[exporterhelper.QueueBatchConfig]) exporter.Logs {
	if !q.HasValue() || q.Get().StorageID == nil {
		return exp
	}
	return &crashSafeQueue{Logs: exp, storageID: *q.Get().StorageID}
}

type crashSafeQueue struct {
	exporter.Logs
	storageID component.ID
	storage   *deferringStorage
}

// Start starts the exporter with its storage extension wrapped, then lets
// the clients it opened apply the deletes they hold back.
func (c *crashSafeQueue) Start(ctx context.Context, host component.Host) error {
	ext, ok := host.GetExtensions()[c.storageID].(storage.Extension)
	if !ok {
		// The queue reports the missing or wrong extension itself.
		return c.Logs.Start(ctx, host)
	}
	c.storage = &deferringStorage{Extension: ext}
	err := c.Logs.Start(ctx, &storageHost{Host: host, id: c.storageID, ext: c.storage})
	if err == nil {
		c.storage.started()
	}
	return err
}

// storageHost is host with the extension id replaced by ext.
type storageHost struct {
	component.Host
	id  component.ID
	ext component.Component
}

func (h *storageHost) GetExtensions() map[component.ID]component.Component {
	exts := h.Host.GetExtensions()
	out := make(map[component.ID]component.Component, len(exts))
	for id, e := range exts {
		out[id] = e
	}
	out[h.id] = h.ext
	return out
}

// deferringStorage wraps a storage extension: its clients hold back the
// deletes of queue items made while the exporter starts.
type deferringStorage struct {
	storage.Extension
	mu      sync.Mutex
	clients []*deferringClient
}

func (s *deferringStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	c, err := s.Extension.GetClient(ctx, kind, id, name)
	if err != nil {
		return nil, err
	}
	dc := &deferringClient{Client: c, starting: true}
	s.mu.Lock()
	s.clients = append(s.clients, dc)
	s.mu.Unlock()
	return dc, nil
}

// started ends the start of every client opened so far.
func (s *deferringStorage) started() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		c.mu.Lock()
		c.starting = false
		c.mu.Unlock()
	}
}

// deferringClient holds back, while the queue starts, a batch that only
// deletes items (keys are item indexes), and applies those deletes with
// the first batch that writes the queue's metadata after the restore: the
// first after Start returned, or the first that also reads or deletes an
// item (the restore only writes metadata with items it writes back).
type deferringClient struct {
	storage.Client
	mu       sync.Mutex
	starting bool
	deferred []string
}

func (c *deferringClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.starting && writesMetadata(ops) && !onlySets(ops) {
		// A consumer reads or finishes an item: the restore is over
		// (the consumers start after it), though Start has not returned.
		c.starting = false
	}
	switch {
	case c.starting && onlyItemDeletes(ops):
		for _, op := range ops {
			c.deferred = append(c.deferred, op.Key)
		}
		return nil
	case c.starting:
		return c.batchRetried(ctx, ops)
	case len(c.deferred) > 0 && writesMetadata(ops):
		all := ops[:len(ops):len(ops)]
		for _, k := range c.deferred {
			all = append(all, storage.DeleteOperation(k))
		}
		if err := c.Client.Batch(ctx, all...); err != nil {
			return err
		}
		c.deferred = nil
		return nil
	}
	return c.Client.Batch(ctx, ops...)
}

// restoreRetries bounds the tries of a storage batch while the queue
// starts: the queue restores the requests being sent with one read and
// one write per request, ignores the errors (it logs them) and drops what
// it could not read or write back, so a transient storage error there
// would lose those requests.
const restoreRetries = 5

// Get reads a key, tried again after a storage error while the queue
// starts (a failed read of its metadata makes it start empty).
func (c *deferringClient) Get(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	if !c.starting {
		c.mu.Unlock()
		return c.Client.Get(ctx, key)
	}
	defer c.mu.Unlock()
	op := storage.GetOperation(key)
	err := c.batchRetried(ctx, []*storage.Operation{op})
	return op.Value, err
}

// batchRetried runs a batch of the start, tried again after a storage
// error (every operation of a batch can be made again: sets, gets and
// deletes of given keys).
func (c *deferringClient) batchRetried(ctx context.Context, ops []*storage.Operation) error {
	wait := 50 * time.Millisecond
	for try := 1; ; try++ {
		err := c.Client.Batch(ctx, ops...)
		if err == nil || try == restoreRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// Close applies the deletes still held back once the queue has started:
// every request they name was written back by then, so the worst a crash
// can leave is a metadata naming items that no longer exist, which the
// queue skips.
func (c *deferringClient) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.starting && len(c.deferred) > 0 {
		ops := make([]*storage.Operation, len(c.deferred))
		for i, k := range c.deferred {
			ops[i] = storage.DeleteOperation(k)
		}
		if err := c.Client.Batch(ctx, ops...); err == nil {
			c.deferred = nil
		}
	}
	return c.Client.Close(ctx)
}

func onlyItemDeletes(ops []*storage.Operation) bool {
	for _, op := range ops {
		if op.Type != storage.Delete {
			return false
		}
		if _, err := strconv.ParseUint(op.Key, 10, 64); err != nil {
			return false
		}
	}
	return len(ops) > 0
}

func onlySets(ops []*storage.Operation) bool {
	for _, op := range ops {
		if op.Type != storage.Set {
			return false
		}
	}
	return true
}

func writesMetadata(ops []*storage.Operation) bool {
	for _, op := range ops {
		if op.Type == storage.Set && op.Key == queueMetadataKey {
			return true
		}
	}
	return false
}
