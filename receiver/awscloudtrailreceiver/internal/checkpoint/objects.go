package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Objects announced by SQS notifications.
//
// For each object the store keeps, under "object/BUCKET/KEY", either how
// many of its records were delivered ("42": an object read again — its
// message came back — resumes after them) or, once it was read to the
// end, a done marker with the time it was finished ("done:UNIX"): a
// message naming it again (not deleted because DeleteMessage failed or the
// collector stopped before it, a duplicate notification) does not read it
// again.
//
// Done markers are forgotten after a window (ExpireDone), so that storage
// stays bounded: the markers of the objects finished within the window,
// about 300 bytes each, plus an index. The index lists the markers in the
// order they were written, in chunks of doneChunk keys
// ("objects-done/SEQ": the newest time and the keys) between the sequence
// numbers of "objects-done/meta"; expiring drops whole chunks from the
// front once their newest marker left the window.
//
// Store works through its storage client; without one (no storage
// extension) the same keys live in memory.

const (
	doneChunk   = 256
	donePrefix  = "done:"
	doneMetaKey = "objects-done/meta"
)

// objectsIndex is the Store's state of the done-marker index.
type objectsIndex struct {
	mu     sync.Mutex
	loaded bool
	meta   doneMeta
	cur    doneChunkState // the chunk at meta.Next, being filled
}

type doneMeta struct {
	First int `json:"first"`
	Next  int `json:"next"`
}

type doneChunkState struct {
	Newest int64    `json:"t"`
	Keys   []string `json:"k"`
}

func progressKey(bucket, key string) string { return "object/" + bucket + "/" + key }

func chunkKey(seq int) string { return "objects-done/" + strconv.Itoa(seq) }

// objectsClient returns the storage client (the in-memory stand-in
// without a storage extension: see NewStore).
func (st *Store) objectsClient() storage.Client {
	return st.client
}

// parseObject decodes the value kept for an object.
func parseObject(b []byte) (delivered int, doneAt time.Time, done bool, err error) {
	s := string(b)
	if t, ok := strings.CutPrefix(s, donePrefix); ok {
		sec, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return 0, time.Time{}, false, err
		}
		return 0, time.Unix(sec, 0), true, nil
	}
	n, err := strconv.Atoi(s)
	return n, time.Time{}, false, err
}

// LoadProgress returns the records of an object already delivered, and
// whether it was read to the end (and its done marker not yet expired).
func (st *Store) LoadProgress(ctx context.Context, bucket, key string) (delivered int, done bool, err error) {
	b, err := st.objectsClient().Get(ctx, progressKey(bucket, key))
	if err != nil || b == nil {
		return 0, false, err
	}
	n, _, done, err := parseObject(b)
	if err != nil {
		return 0, false, fmt.Errorf("decode progress of %s/%s: %w", bucket, key, err)
	}
	return n, done, nil
}

// SaveProgress stores the records of an object already delivered.
func (st *Store) SaveProgress(ctx context.Context, bucket, key string, n int) error {
	return st.objectsClient().Set(ctx, progressKey(bucket, key), []byte(strconv.Itoa(n)))
}

// MarkDone records that an object was read to the end at now, in place of
// its progress (one atomic write with its index entry), and forgets the
// done markers older than now - window.
func (st *Store) MarkDone(ctx context.Context, bucket, key string, now time.Time, window time.Duration) error {
	c := st.objectsClient()
	ix := &st.objects
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.load(ctx, c); err != nil {
		return err
	}
	pk := progressKey(bucket, key)
	cur := doneChunkState{Newest: max(ix.cur.Newest, now.Unix()), Keys: append(ix.cur.Keys[:len(ix.cur.Keys):len(ix.cur.Keys)], pk)}
	chunk, err := json.Marshal(cur)
	if err != nil {
		return err
	}
	ops := []*storage.Operation{
		storage.SetOperation(pk, []byte(donePrefix+strconv.FormatInt(now.Unix(), 10))),
		storage.SetOperation(chunkKey(ix.meta.Next), chunk),
	}
	meta := ix.meta
	full := len(cur.Keys) >= doneChunk
	if full {
		meta.Next++
		mb, _ := json.Marshal(meta)
		ops = append(ops, storage.SetOperation(doneMetaKey, mb))
	}
	if err := c.Batch(ctx, ops...); err != nil {
		return fmt.Errorf("mark %s/%s done: %w", bucket, key, err)
	}
	ix.meta, ix.cur = meta, cur
	if full {
		ix.cur = doneChunkState{}
		return ix.expire(ctx, c, now.Add(-window))
	}
	return nil
}

// ExpireDone forgets the done markers older than before (a restart
// expires what passed the window while the collector was down).
func (st *Store) ExpireDone(ctx context.Context, before time.Time) error {
	c := st.objectsClient()
	ix := &st.objects
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.load(ctx, c); err != nil {
		return err
	}
	return ix.expire(ctx, c, before)
}

// DoneMarkers returns how many done markers the index holds (for tests
// and telemetry).
func (st *Store) DoneMarkers(ctx context.Context) (int, error) {
	c := st.objectsClient()
	ix := &st.objects
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.load(ctx, c); err != nil {
		return 0, err
	}
	return (ix.meta.Next-ix.meta.First)*doneChunk + len(ix.cur.Keys), nil
}

func (ix *objectsIndex) load(ctx context.Context, c storage.Client) error {
	if ix.loaded {
		return nil
	}
	b, err := c.Get(ctx, doneMetaKey)
	if err != nil {
		return fmt.Errorf("load the index of done objects: %w", err)
	}
	if b != nil {
		if err := json.Unmarshal(b, &ix.meta); err != nil {
			return fmt.Errorf("decode the index of done objects: %w", err)
		}
	}
	cur, err := loadChunk(ctx, c, ix.meta.Next)
	if err != nil {
		return err
	}
	ix.cur, ix.loaded = cur, true
	return nil
}

func loadChunk(ctx context.Context, c storage.Client, seq int) (doneChunkState, error) {
	var ch doneChunkState
	b, err := c.Get(ctx, chunkKey(seq))
	if err != nil || b == nil {
		return ch, err
	}
	if err := json.Unmarshal(b, &ch); err != nil {
		return ch, fmt.Errorf("decode %s: %w", chunkKey(seq), err)
	}
	return ch, nil
}

// expire drops the full chunks whose newest marker is older than before,
// with the markers they list that are still older than before (an object
// marked again later is listed in a later chunk too).
func (ix *objectsIndex) expire(ctx context.Context, c storage.Client, before time.Time) error {
	for ix.meta.First < ix.meta.Next {
		ch, err := loadChunk(ctx, c, ix.meta.First)
		if err != nil {
			return err
		}
		if ch.Newest >= before.Unix() {
			return nil
		}
		var ops []*storage.Operation
		for _, k := range ch.Keys {
			ops = append(ops, storage.GetOperation(k))
		}
		if err := c.Batch(ctx, ops...); err != nil {
			return fmt.Errorf("expire done objects: %w", err)
		}
		var dels []*storage.Operation
		for _, op := range ops {
			if op.Value == nil {
				continue
			}
			if _, at, done, err := parseObject(op.Value); err == nil && done && at.Before(before) {
				dels = append(dels, storage.DeleteOperation(op.Key))
			}
		}
		meta := ix.meta
		meta.First++
		mb, _ := json.Marshal(meta)
		dels = append(dels, storage.DeleteOperation(chunkKey(ix.meta.First)), storage.SetOperation(doneMetaKey, mb))
		if err := c.Batch(ctx, dels...); err != nil {
			return fmt.Errorf("expire done objects: %w", err)
		}
		ix.meta = meta
	}
	return nil
}

// memClient is the in-memory storage client that stands in without a
// storage extension (folder states and object progress).
type memClient struct {
	mu   sync.Mutex
	data map[string][]byte
}

func (m *memClient) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data[key], nil
}

func (m *memClient) Set(_ context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[key] = value
	return nil
}

func (m *memClient) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, key)
	return nil
}

func (m *memClient) Batch(_ context.Context, ops ...*storage.Operation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			op.Value = m.data[op.Key]
		case storage.Set:
			m.data[op.Key] = op.Value
		case storage.Delete:
			delete(m.data, op.Key)
		default:
			return errors.New("unknown storage operation")
		}
	}
	return nil
}

func (*memClient) Close(context.Context) error { return nil }
