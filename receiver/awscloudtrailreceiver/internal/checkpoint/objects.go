package checkpoint

import (
	"context"
	"encoding/json"
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
// many of its records were delivered and when that was last saved
// ("42@UNIX"; "42" written by older versions is read as saved at an
// unknown, old time): an object read again — its message came back —
// resumes after them; or, once it was read to the end, a done marker with
// the time it was finished ("done:UNIX"): a message naming it again (not
// deleted because DeleteMessage failed or the collector stopped before it,
// a duplicate notification) does not read it again.
//
// Both are forgotten after a window (ExpireDone; sqs.done_window), so that
// storage stays bounded: the entries of the objects finished or last
// saved within the window, about 300 bytes each, plus an index. The index
// lists the entries in the order they were written, in chunks of
// doneChunk keys ("objects-done/SEQ": the newest time and the keys)
// between the sequence numbers of "objects-done/meta"; a done marker is
// listed when it is written, progress when this process first saves it.
// Expiring drops chunks from the front once their newest entry left the
// window, with the entries they list that are older than the window;
// progress saved since (an object still being read) is listed again in
// the current chunk instead.
//
// Expiring progress is safe because the window is at least the queue's
// message retention plus the visibility timeout: progress not saved for
// that long belongs to an object whose reading was abandoned — handed over
// to another collector, its message sent to the dead-letter queue (poison
// object, permanent consumer error) or expired from the queue — and no
// message naming it can still come back to this collector, except one
// moved back from a dead-letter queue, which then reads the object again
// in full (as after a done marker expired).

const (
	doneChunk   = 256
	donePrefix  = "done:"
	progressAt  = "@"
	doneMetaKey = "objects-done/meta"
)

// objectsIndex is the Store's state of the index of object entries.
type objectsIndex struct {
	mu     sync.Mutex
	loaded bool
	meta   doneMeta
	cur    doneChunkState // the chunk at meta.Next, being filled
	// indexed holds the progress keys this process listed in the index
	// and that were not since marked done or expired.
	indexed map[string]struct{}
	// rolled: a chunk was filled since the last expiry.
	rolled bool
}

type doneMeta struct {
	First int `json:"first"`
	Next  int `json:"next"`
}

type doneChunkState struct {
	Newest int64    `json:"t"`
	Keys   []string `json:"k"`
}

// indexEntry is a key to list in the index, with its time.
type indexEntry struct {
	key string
	at  int64
}

func progressKey(bucket, key string) string { return "object/" + bucket + "/" + key }

func chunkKey(seq int) string { return "objects-done/" + strconv.Itoa(seq) }

// parseObject decodes the value kept for an object: at is when its
// progress was last saved (zero for the legacy "N") or when it was done.
func parseObject(b []byte) (delivered int, at time.Time, done bool, err error) {
	s := string(b)
	if t, ok := strings.CutPrefix(s, donePrefix); ok {
		sec, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return 0, time.Time{}, false, err
		}
		return 0, time.Unix(sec, 0), true, nil
	}
	if n, t, ok := strings.Cut(s, progressAt); ok {
		sec, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return 0, time.Time{}, false, err
		}
		delivered, err := strconv.Atoi(n)
		return delivered, time.Unix(sec, 0), false, err
	}
	n, err := strconv.Atoi(s)
	return n, time.Time{}, false, err
}

// LoadProgress returns the records of an object already delivered, and
// whether it was read to the end (and its done marker not yet expired).
func (st *Store) LoadProgress(ctx context.Context, bucket, key string) (delivered int, done bool, err error) {
	b, err := st.client.Get(ctx, progressKey(bucket, key))
	if err != nil || b == nil {
		return 0, false, err
	}
	n, _, done, err := parseObject(b)
	if err != nil {
		return 0, false, fmt.Errorf("decode progress of %s/%s: %w", bucket, key, err)
	}
	return n, done, nil
}

// SaveProgress stores the records of an object already delivered, at now.
// The first save of an object by this process also lists it in the index
// (one atomic write), so that it expires if it is never finished here.
func (st *Store) SaveProgress(ctx context.Context, bucket, key string, n int, now time.Time) error {
	c := st.client
	ix := &st.objects
	ix.mu.Lock()
	defer ix.mu.Unlock()
	pk := progressKey(bucket, key)
	val := []byte(strconv.Itoa(n) + progressAt + strconv.FormatInt(now.Unix(), 10))
	if _, ok := ix.indexed[pk]; ok {
		return c.Set(ctx, pk, val)
	}
	if err := ix.load(ctx, c); err != nil {
		return err
	}
	if err := ix.add(ctx, c, []indexEntry{{pk, now.Unix()}}, storage.SetOperation(pk, val)); err != nil {
		return fmt.Errorf("save progress of %s/%s: %w", bucket, key, err)
	}
	if ix.indexed == nil {
		ix.indexed = map[string]struct{}{}
	}
	ix.indexed[pk] = struct{}{}
	return nil
}

// lockIndex locks the index of objects and loads it; the caller unlocks
// it (ix.mu.Unlock) when err is nil.
func (st *Store) lockIndex(ctx context.Context) (*objectsIndex, error) {
	ix := &st.objects
	ix.mu.Lock()
	if err := ix.load(ctx, st.client); err != nil {
		ix.mu.Unlock()
		return nil, err
	}
	return ix, nil
}

// MarkDone records that an object was read to the end at now, in place of
// its progress (one atomic write with its index entry), and forgets the
// entries older than now - window.
func (st *Store) MarkDone(ctx context.Context, bucket, key string, now time.Time, window time.Duration) error {
	c := st.client
	ix, err := st.lockIndex(ctx)
	if err != nil {
		return err
	}
	defer ix.mu.Unlock()
	pk := progressKey(bucket, key)
	if err := ix.add(ctx, c, []indexEntry{{pk, now.Unix()}}, storage.SetOperation(pk, []byte(donePrefix+strconv.FormatInt(now.Unix(), 10)))); err != nil {
		return fmt.Errorf("mark %s/%s done: %w", bucket, key, err)
	}
	delete(ix.indexed, pk)
	if ix.rolled {
		ix.rolled = false
		return ix.expire(ctx, c, now.Add(-window))
	}
	return nil
}

// ExpireDone forgets the done markers and the progress older than before
// (a restart expires what passed the window while the collector was down).
func (st *Store) ExpireDone(ctx context.Context, before time.Time) error {
	ix, err := st.lockIndex(ctx)
	if err != nil {
		return err
	}
	defer ix.mu.Unlock()
	return ix.expire(ctx, st.client, before)
}

// DoneMarkers returns how many entries (done markers and progress) the
// index lists (for tests and telemetry).
func (st *Store) DoneMarkers(ctx context.Context) (int, error) {
	ix, err := st.lockIndex(ctx)
	if err != nil {
		return 0, err
	}
	defer ix.mu.Unlock()
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

// add lists entries in the index, in the same atomic write as ops.
func (ix *objectsIndex) add(ctx context.Context, c storage.Client, entries []indexEntry, ops ...*storage.Operation) error {
	meta := ix.meta
	cur := doneChunkState{Newest: ix.cur.Newest, Keys: ix.cur.Keys[:len(ix.cur.Keys):len(ix.cur.Keys)]}
	rolled := false
	for _, e := range entries {
		cur.Keys = append(cur.Keys, e.key)
		cur.Newest = max(cur.Newest, e.at)
		if len(cur.Keys) >= doneChunk {
			chunk, err := json.Marshal(cur)
			if err != nil {
				return err
			}
			ops = append(ops, storage.SetOperation(chunkKey(meta.Next), chunk))
			meta.Next++
			cur = doneChunkState{}
			rolled = true
		}
	}
	if len(cur.Keys) > 0 {
		chunk, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		ops = append(ops, storage.SetOperation(chunkKey(meta.Next), chunk))
	}
	if rolled {
		mb, _ := json.Marshal(meta)
		ops = append(ops, storage.SetOperation(doneMetaKey, mb))
	}
	if err := c.Batch(ctx, ops...); err != nil {
		return err
	}
	ix.meta, ix.cur = meta, cur
	ix.rolled = ix.rolled || rolled
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

// expire drops the chunks whose newest entry is older than before — the
// chunk being filled too, once all of it is — with the entries they list
// that are still older than before (an object marked done again later is
// listed in a later chunk too; progress saved since is listed again).
func (ix *objectsIndex) expire(ctx context.Context, c storage.Client, before time.Time) error {
	for {
		if ix.meta.First == ix.meta.Next {
			if len(ix.cur.Keys) == 0 || ix.cur.Newest >= before.Unix() {
				return nil
			}
			// The chunk being filled left the window as a whole: close it.
			meta := ix.meta
			meta.Next++
			mb, _ := json.Marshal(meta)
			if err := c.Set(ctx, doneMetaKey, mb); err != nil {
				return fmt.Errorf("expire done objects: %w", err)
			}
			ix.meta, ix.cur = meta, doneChunkState{}
		}
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
		var again []indexEntry
		var gone []string
		for _, op := range ops {
			if op.Value == nil {
				continue
			}
			_, at, done, err := parseObject(op.Value)
			switch {
			case err != nil:
			case at.Before(before):
				dels = append(dels, storage.DeleteOperation(op.Key))
				gone = append(gone, op.Key)
			case !done:
				again = append(again, indexEntry{op.Key, at.Unix()})
			}
		}
		if len(again) > 0 {
			if err := ix.add(ctx, c, again); err != nil {
				return fmt.Errorf("expire done objects: %w", err)
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
		for _, k := range gone {
			delete(ix.indexed, k)
		}
	}
}
