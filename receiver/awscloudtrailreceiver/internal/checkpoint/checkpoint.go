// Package checkpoint keeps the reading position of every CloudTrail folder
// (account, kind, region) and persists it in a collector storage client.
package checkpoint

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// MaxPending bounds the objects kept for retry in one folder.
const MaxPending = 10000

// Pending is an object that was started but not finished: part of it may
// have been delivered, or reading it failed with an error worth retrying.
type Pending struct {
	// FileTime is the delivery time from the object's name.
	FileTime time.Time `json:"t"`
	// Delivered counts the records of the object already accepted downstream.
	Delivered int `json:"n,omitempty"`
	// Attempts counts failed attempts to read the object.
	Attempts int `json:"a,omitempty"`
	// Retry is when the object may be tried again after a failure
	// (exponential backoff per object).
	Retry time.Time `json:"r,omitzero"`
}

// State is the checkpoint of one folder.
type State struct {
	// Floor is where the folder's reading started (start_time when it was first seen).
	Floor time.Time `json:"floor"`
	// Newest is the newest delivery time of an object read to the end.
	Newest time.Time `json:"newest"`
	// Done holds the objects read to the end whose delivery time is within
	// the lookback window, so that late files are read exactly once.
	Done map[string]time.Time `json:"done,omitempty"`
	// Pending holds objects started but not finished.
	Pending map[string]Pending `json:"pending,omitempty"`
	// Held is the delivery time of the oldest object the listing wanted to
	// start but could not (MaxPending objects pending): the window does not
	// pass it until a whole listing starts every object it wants.
	Held time.Time `json:"held,omitzero"`
}

// New returns the state of a folder seen for the first time.
func New(floor time.Time) *State {
	return &State{Floor: floor.UTC(), Done: map[string]time.Time{}, Pending: map[string]Pending{}}
}

// ListFrom returns the earliest delivery time the next listing must cover:
// the floor, or lookback before the newest object read, whichever is
// later, but never after an object that was started and has not failed
// yet (it may be in flight: the window must not pass it, whatever order
// the workers finish in). Objects that failed are retried from Pending,
// not from the listing, so they do not hold the window.
func (s *State) ListFrom(lookback time.Duration) time.Time {
	from := s.Floor
	if !s.Newest.IsZero() {
		if w := s.Newest.Add(-lookback); w.After(from) {
			from = w
		}
	}
	for _, p := range s.Pending {
		if p.Attempts == 0 && p.FileTime.Before(from) {
			from = p.FileTime
		}
	}
	if !s.Held.IsZero() && s.Held.Before(from) {
		from = s.Held
	}
	return from
}

// Hold keeps the window at fileTime or before: an object the listing
// wanted to start could not be recorded (MaxPending).
func (s *State) Hold(fileTime time.Time) {
	if s.Held.IsZero() || fileTime.Before(s.Held) {
		s.Held = fileTime
	}
}

// Release ends a Hold once a whole listing started every object it wanted.
func (s *State) Release() { s.Held = time.Time{} }

// ShouldRead reports whether a listed object has to be started: it is
// neither finished nor pending (pending objects are retried from Pending)
// and it is inside the window.
func (s *State) ShouldRead(key string, fileTime time.Time, lookback time.Duration) bool {
	if _, done := s.Done[key]; done {
		return false
	}
	if _, pending := s.Pending[key]; pending {
		return false
	}
	return !fileTime.Before(s.ListFrom(lookback))
}

// Start records that key was listed and is about to be read: it is
// pending until Finish, so that no later save lets the window pass it. It
// reports false when the folder already has MaxPending objects waiting;
// the object must then not be read now, and Hold keeps it in the window.
func (s *State) Start(key string, fileTime time.Time) bool {
	if _, ok := s.Pending[key]; ok {
		return true
	}
	if len(s.Pending) >= MaxPending {
		return false
	}
	s.Pending[key] = Pending{FileTime: fileTime}
	return true
}

// Delivered records that the first n records of key were accepted.
func (s *State) Delivered(key string, fileTime time.Time, n int) {
	p := s.Pending[key]
	p.FileTime, p.Delivered = fileTime, n
	s.Pending[key] = p
}

// Failed records a failed attempt at key, to be retried from Pending no
// sooner than base·2^(attempts-1) after now, at most limit. It reports false
// when the folder already has MaxPending objects waiting.
func (s *State) Failed(key string, fileTime, now time.Time, base, limit time.Duration) bool {
	p, ok := s.Pending[key]
	if !ok && len(s.Pending) >= MaxPending {
		return false
	}
	p.FileTime = fileTime
	p.Attempts++
	delay := base
	for i := 1; i < p.Attempts && delay < limit; i++ {
		delay *= 2
	}
	p.Retry = now.Add(min(delay, limit)).UTC()
	s.Pending[key] = p
	return true
}

// Failing counts the pending objects whose last attempt failed.
func (s *State) Failing() int {
	n := 0
	for _, p := range s.Pending {
		if p.Attempts > 0 {
			n++
		}
	}
	return n
}

// Due reports whether a pending object may be tried now.
func (s *State) Due(key string, now time.Time) bool {
	return !now.Before(s.Pending[key].Retry)
}

// FutureSlack is how far past the clock an object's name time may be and
// still move the window: a little for producers whose clocks run ahead.
const FutureSlack = time.Hour

// Finish marks key as read to the end (or given up) and forgets the done
// objects that left the lookback window. It reports whether the time in
// the object's name is more than FutureSlack past the clock: such an
// object (stray, planted, or from a producer with a wrong clock) is
// remembered as done but does not move Newest, else the window would jump
// to it and every genuine file delivered afterwards would be behind it.
func (s *State) Finish(key string, fileTime time.Time, lookback time.Duration) (future bool) {
	return s.FinishAt(key, fileTime, lookback, time.Now())
}

// FinishAt is Finish with the clock given.
func (s *State) FinishAt(key string, fileTime time.Time, lookback time.Duration, now time.Time) (future bool) {
	delete(s.Pending, key)
	s.Done[key] = fileTime
	future = fileTime.After(now.Add(FutureSlack))
	if !future && fileTime.After(s.Newest) {
		s.Newest = fileTime
	}
	from := s.ListFrom(lookback)
	for k, t := range s.Done {
		if t.Before(from) {
			delete(s.Done, k)
		}
	}
	return future
}

// Store loads and saves folder states in a storage client. Without a
// storage extension the receiver gives it an in-memory client
// (memstorage), so that there is one code path: states then survive a
// folder leaving and coming back, but not a restart.
type Store struct {
	client storage.Client

	objects objectsIndex // objects.go: SQS object progress and done markers
	claims  claims       // object.go: the objects being read in this process
}

// NewStore returns a Store over client.
func NewStore(client storage.Client) *Store {
	return &Store{client: client}
}

func storageKey(id string) string { return "folder/" + id }

// Load returns the saved state of folder id, or nil when there is none.
func (st *Store) Load(ctx context.Context, id string) (*State, error) {
	b, err := st.client.Get(ctx, storageKey(id))
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", id, err)
	}
	if b == nil {
		return nil, nil
	}
	s := &State{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("decode checkpoint %s: %w", id, err)
	}
	if s.Done == nil {
		s.Done = map[string]time.Time{}
	}
	if s.Pending == nil {
		s.Pending = map[string]Pending{}
	}
	return s, nil
}

// Save stores the state of folder id.
func (st *Store) Save(ctx context.Context, id string, s *State) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := st.client.Set(ctx, storageKey(id), b); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", id, err)
	}
	return nil
}

// Close closes the storage client.
func (st *Store) Close(ctx context.Context) error {
	return st.client.Close(ctx)
}
