package checkpoint

import (
	"context"
	"sort"
	"sync"
	"time"
)

// SaveEvery bounds how often a folder's checkpoint is written for changes
// that need not be durable at once (failures and their backoff): at most
// one such write per folder per SaveEvery.
const SaveEvery = time.Second

// Folder is the checkpoint of one folder and its only writer. Each method
// takes the folder's lock, changes its state and writes it — at once,
// coalesced, or not at all, as the method says — so no caller can forget
// the lock or the write, and every write stores one consistent state. The
// Folder also knows which of its objects are being read (in memory only).
type Folder struct {
	id    string
	store *Store
	// onError is told of a failed write; reading goes on, and the next
	// write carries every change.
	onError func(error)

	mu      sync.Mutex
	state   *State
	reading map[string]bool
	// dirty: state has changes not written yet (see Failed).
	dirty    bool
	lastSave time.Time
	timer    *time.Timer
	closed   bool
}

// OpenFolder loads the checkpoint of folder id, or starts a new one at
// floor when there is none (resumed is then false).
func (st *Store) OpenFolder(ctx context.Context, id string, floor time.Time, onError func(error)) (f *Folder, resumed bool, err error) {
	s, err := st.Load(ctx, id)
	if err != nil {
		return nil, false, err
	}
	resumed = s != nil
	if s == nil {
		s = New(floor)
	}
	return &Folder{id: id, store: st, onError: onError, state: s, reading: map[string]bool{}}, resumed, nil
}

// ID is the folder's id (its storage key without the prefix).
func (f *Folder) ID() string { return f.id }

// Span reports where the folder's reading stands: the floor it began at,
// the newest object finished, and the name time of the oldest object
// listed but not finished (zero when none). It writes nothing.
func (f *Folder) Span() (floor, newest, oldestPending time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.state.Pending {
		if oldestPending.IsZero() || p.FileTime.Before(oldestPending) {
			oldestPending = p.FileTime
		}
	}
	return f.state.Floor, f.state.Newest, oldestPending
}

// Retry is a pending object due for another attempt.
type Retry struct {
	Key      string
	FileTime time.Time
}

// Plan returns where the next listing starts (ListFrom) and the pending
// objects due for a retry at now that are not being read, in key order.
// It writes nothing.
func (f *Folder) Plan(now time.Time, lookback time.Duration) (from time.Time, retries []Retry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for key, p := range f.state.Pending {
		if !f.reading[key] && f.state.Due(key, now) {
			retries = append(retries, Retry{Key: key, FileTime: p.FileTime})
		}
	}
	sort.Slice(retries, func(i, j int) bool { return retries[i].Key < retries[j].Key })
	return f.state.ListFrom(lookback), retries
}

// Decision is what to do with a listed object.
type Decision int

const (
	// Skip: done, pending, being read, or behind the window.
	Skip Decision = iota
	// Read: recorded as pending; read it.
	Read
	// Held: to be read, but the folder has MaxPending objects pending; the
	// window holds at it, and the listing must stop here.
	Held
)

// Want decides whether a listed object is to be read and, when it is,
// records it as pending (Start) under the same lock as the decision: from
// then on the window cannot pass it, even while it waits for a reader and
// other objects finish. Not written by itself: every later write of the
// folder carries it, and until then the persisted window is older.
func (f *Folder) Want(key string, fileTime time.Time, lookback time.Duration) Decision {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reading[key] || !f.state.ShouldRead(key, fileTime, lookback) {
		return Skip
	}
	if !f.state.Start(key, fileTime) {
		f.state.Hold(fileTime)
		return Held
	}
	return Read
}

// ListedAll ends a hold once a whole listing started every object it
// wanted (Release). Written with the next write.
func (f *Folder) ListedAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Release()
}

// Begin marks key as being read and returns how many of its records were
// already delivered. End must follow.
func (f *Folder) Begin(key string) (delivered int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reading[key] = true
	return f.state.Pending[key].Delivered
}

// End marks key as no longer being read.
func (f *Folder) End(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.reading, key)
}

// Delivered records that the first n records of key were accepted
// downstream, and writes it at once: a crash then resends at most the
// batch whose write did not happen.
func (f *Folder) Delivered(key string, fileTime time.Time, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state.Delivered(key, fileTime, n)
	f.save()
}

// Finish records key as read to the end (or given up), and writes it at
// once: without it a crash would read a whole finished object again. It
// reports a name time in the future (see State.Finish).
func (f *Folder) Finish(key string, fileTime time.Time, lookback time.Duration) (future bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	future = f.state.Finish(key, fileTime, lookback)
	f.save()
	return future
}

// Failed records a failed attempt at key with its backoff (State.Failed).
// The write is coalesced — at most one per SaveEvery, a timer carrying the
// last change — since losing it in a crash only makes the object be tried
// again sooner. It reports false when the object cannot be kept for a retry.
func (f *Folder) Failed(key string, fileTime, now time.Time, base, limit time.Duration) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := f.state.Failed(key, fileTime, now, base, limit)
	f.saveSoon()
	return ok
}

// Failing counts the pending objects whose last attempt failed.
func (f *Folder) Failing() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state.Failing()
}

// Close writes what is not written yet; the folder's reads must have
// ended. A change after Close is written at once.
func (f *Folder) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.timer != nil {
		f.timer.Stop()
	}
	if f.dirty {
		f.save()
	}
	f.closed = true
}

// save writes the state now; f.mu is held.
func (f *Folder) save() {
	f.dirty = false
	f.lastSave = time.Now()
	if err := f.store.Save(context.Background(), f.id, f.state); err != nil && f.onError != nil {
		f.onError(err)
	}
}

// saveSoon writes the state at most once per SaveEvery; f.mu is held. The
// write carries every change made until then.
func (f *Folder) saveSoon() {
	if f.closed {
		f.save()
		return
	}
	f.dirty = true
	wait := SaveEvery - time.Since(f.lastSave)
	if wait <= 0 {
		f.save()
		return
	}
	if f.timer == nil {
		f.timer = time.AfterFunc(wait, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.timer = nil
			if f.dirty && !f.closed {
				f.save()
			}
		})
	}
}
