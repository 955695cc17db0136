package devstack

import (
	"context"
	"maps"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// CrashStorage is an in-memory storage extension with crash semantics, for
// tests that simulate a crash in process (contrib's file_storage cannot
// be opened twice by one process). Crash marks the instant of the crash:
// the clients opened before it keep working for the components that were
// abandoned, but their writes after it are discarded, so the components
// started next find the data exactly as it was last written before the
// crash.
type CrashStorage struct {
	mu    sync.Mutex
	data  map[string]map[string][]byte // by client name, then key
	epoch int
	id    component.ID
	// discarded counts the writes of crashed clients.
	discarded int
}

// NewCrashStorage returns an empty storage; its extension ID is
// crash_storage.
func NewCrashStorage() *CrashStorage {
	return &CrashStorage{data: map[string]map[string][]byte{}, id: component.MustNewID("crash_storage")}
}

// ID is the extension's ID, to put in the components' storage settings.
func (s *CrashStorage) ID() component.ID { return s.id }

// Host returns a host that offers the storage as an extension.
func (s *CrashStorage) Host() component.Host {
	return &storageHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{s.id: s}}
}

// Crash is the crash instant: every client opened so far is dead.
func (s *CrashStorage) Crash() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
}

// Discarded returns how many writes of dead clients were discarded.
func (s *CrashStorage) Discarded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.discarded
}

// Start implements component.Component.
func (s *CrashStorage) Start(context.Context, component.Host) error { return nil }

// Shutdown implements component.Component.
func (s *CrashStorage) Shutdown(context.Context) error { return nil }

// GetClient implements storage.Extension.
func (s *CrashStorage) GetClient(_ context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	full := kind.String() + "/" + id.String() + "/" + name
	if s.data[full] == nil {
		s.data[full] = map[string][]byte{}
	}
	return &crashClient{s: s, name: full, epoch: s.epoch}, nil
}

var _ storage.Extension = (*CrashStorage)(nil)

type crashClient struct {
	s     *CrashStorage
	name  string
	epoch int
}

func (c *crashClient) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := c.Batch(ctx, op)
	return op.Value, err
}

func (c *crashClient) Set(ctx context.Context, key string, value []byte) error {
	return c.Batch(ctx, storage.SetOperation(key, value))
}

func (c *crashClient) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, storage.DeleteOperation(key))
}

// Batch applies ops atomically; a dead client's writes are discarded (the
// process that made them is gone: nothing it does reaches the disk).
func (c *crashClient) Batch(_ context.Context, ops ...*storage.Operation) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	dead := c.epoch != c.s.epoch
	m := c.s.data[c.name]
	if dead {
		m = maps.Clone(m) // reads see the data; writes go nowhere
	}
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			if v, ok := m[op.Key]; ok {
				op.Value = append([]byte(nil), v...)
			} else {
				op.Value = nil
			}
		case storage.Set:
			m[op.Key] = append([]byte(nil), op.Value...)
		case storage.Delete:
			delete(m, op.Key)
		}
		if dead && op.Type != storage.Get {
			c.s.discarded++
		}
	}
	return nil
}

func (c *crashClient) Close(context.Context) error { return nil }
