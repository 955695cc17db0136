// Package memstorage is the project's one in-memory implementation of the
// collector's storage API: the client the receiver uses when no storage
// extension is configured, and the storage extension of tests (counted
// writes, snapshots, crash semantics, several collectors sharing one
// backend).
package memstorage

import (
	"context"
	"errors"
	"maps"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Storage is an in-memory storage extension. As with file_storage, each
// component (kind, ID and name) has a key space of its own, which the next
// client of the same component finds as the previous one left it; a
// storage made by NewShared gives every client one key space, as
// collectors sharing a storage backend have (contrib's db_storage on one
// database).
//
// Crash marks the instant of a crash: the clients opened before it keep
// working for the components that were abandoned, but their writes after
// it are discarded, so the components started next find the data exactly
// as it was last written before the crash.
type Storage struct {
	component.StartFunc
	component.ShutdownFunc

	id        component.ID
	shared    bool
	mu        sync.Mutex
	data      map[string]map[string][]byte // by component, then key
	epoch     int
	discarded int // writes of crashed clients
	writes    int // Set operations applied
	bytes     int // bytes of the values set

	// Fault, when set (before the clients are used), is called with every
	// batch of every client before it is applied (Get, Set and Delete are
	// batches of one): an error fails the batch, nothing of it applied, as
	// a storage fault; it may also call Crash.
	Fault func(ops []*storage.Operation) error
}

var _ storage.Extension = (*Storage)(nil)

// New returns an empty storage whose extension ID is mem_storage.
func New() *Storage { return NewWithID(component.MustNewID("mem_storage")) }

// NewWithID returns an empty storage with the given extension ID.
func NewWithID(id component.ID) *Storage {
	return &Storage{id: id, data: map[string]map[string][]byte{}}
}

// NewShared returns an empty storage whose clients all see one key space.
func NewShared(id component.ID) *Storage {
	s := NewWithID(id)
	s.shared = true
	return s
}

// NewClient returns a client of a storage of its own: the in-memory
// stand-in when no storage extension is configured.
func NewClient() storage.Client { return New().Client("") }

// ID is the extension's ID, to put in the components' storage settings.
func (s *Storage) ID() component.ID { return s.id }

// Host returns a host that offers the storage as an extension.
func (s *Storage) Host() component.Host {
	return &Host{Host: componenttest.NewNopHost(), Extensions: map[component.ID]component.Component{s.id: s}}
}

// GetClient implements storage.Extension.
func (s *Storage) GetClient(_ context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	return s.Client(kind.String() + "/" + id.String() + "/" + name), nil
}

// Client returns a client of the key space of component (every client's
// in a shared storage), alive until the next Crash.
func (s *Storage) Client(component string) storage.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shared {
		component = ""
	}
	if s.data[component] == nil {
		s.data[component] = map[string][]byte{}
	}
	return &client{s: s, space: component, epoch: s.epoch}
}

// Crash is the crash instant: every client opened so far is dead.
func (s *Storage) Crash() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
}

// Discarded returns how many writes of dead clients were discarded.
func (s *Storage) Discarded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.discarded
}

// Written returns how many values were set and their total size in bytes.
func (s *Storage) Written() (writes, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes, s.bytes
}

// Snapshot returns a new storage (same ID) holding what s holds now, as a
// crash leaves the storage as last written.
func (s *Storage) Snapshot() *Storage {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Storage{id: s.id, shared: s.shared, data: map[string]map[string][]byte{}}
	for k, m := range s.data {
		c.data[k] = maps.Clone(m)
	}
	return c
}

// Data returns a copy of the keys and values of every component (for
// tests of one component).
func (s *Storage) Data() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]byte{}
	for _, m := range s.data {
		maps.Copy(out, m)
	}
	return out
}

type client struct {
	s     *Storage
	space string
	epoch int
}

func (c *client) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := c.Batch(ctx, op)
	return op.Value, err
}

func (c *client) Set(ctx context.Context, key string, value []byte) error {
	return c.Batch(ctx, storage.SetOperation(key, value))
}

func (c *client) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, storage.DeleteOperation(key))
}

// Batch applies ops atomically; a dead client's writes are discarded (the
// process that made them is gone: nothing it does reaches the disk).
func (c *client) Batch(_ context.Context, ops ...*storage.Operation) error {
	s := c.s
	if s.Fault != nil {
		if err := s.Fault(ops); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dead := c.epoch != s.epoch
	m := s.data[c.space]
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
			if !dead {
				s.writes++
				s.bytes += len(op.Value)
			}
		case storage.Delete:
			delete(m, op.Key)
		default:
			return errors.New("unknown storage operation")
		}
		if dead && op.Type != storage.Get {
			s.discarded++
		}
	}
	return nil
}

func (*client) Close(context.Context) error { return nil }

// Host is a component host offering the given extensions.
type Host struct {
	component.Host
	Extensions map[component.ID]component.Component
}

// GetExtensions implements component.Host.
func (h *Host) GetExtensions() map[component.ID]component.Component { return h.Extensions }
