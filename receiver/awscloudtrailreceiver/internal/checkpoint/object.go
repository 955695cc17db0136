package checkpoint

import (
	"context"
	"sync"
	"time"
)

// Object is the progress of one object announced by an SQS notification,
// held by one reader of the process at a time (Claim) and written only
// through it: what was delivered after each accepted batch, and the done
// marker at the end.
type Object struct {
	st          *Store
	bucket, key string
	delivered   int
	done        bool
	release     func()
}

// claims holds the objects claimed in this process, each with a channel
// closed when it is released.
type claims struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// Claim makes the caller the only reader in this process of bucket/key
// until Release, and loads the object's progress. When another reader
// holds it (a duplicate notification), waiting is called and Claim waits
// for its release: then the object is done, or its progress tells where
// to resume. ok is false when ctx ended first. A reader claims one object
// at a time and waits holding none, so readers cannot wait for each other
// in a cycle.
func (st *Store) Claim(ctx context.Context, bucket, key string, waiting func()) (o *Object, ok bool, err error) {
	release, ok := st.claims.take(ctx, bucket+"/"+key, waiting)
	if !ok {
		return nil, false, nil
	}
	delivered, done, err := st.LoadProgress(ctx, bucket, key)
	if err != nil {
		release()
		return nil, true, err
	}
	return &Object{st: st, bucket: bucket, key: key, delivered: delivered, done: done, release: release}, true, nil
}

func (c *claims) take(ctx context.Context, id string, waiting func()) (release func(), ok bool) {
	for {
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]chan struct{}{}
		}
		busy, taken := c.m[id]
		if !taken {
			ch := make(chan struct{})
			c.m[id] = ch
			c.mu.Unlock()
			return func() {
				c.mu.Lock()
				delete(c.m, id)
				c.mu.Unlock()
				close(ch)
			}, true
		}
		c.mu.Unlock()
		if waiting != nil {
			waiting()
		}
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// Delivered returns how many records of the object were delivered.
func (o *Object) Delivered() int { return o.delivered }

// Done reports whether the object was read to the end (within the window).
func (o *Object) Done() bool { return o.done }

// SaveDelivered records and writes at once that the first n records were
// accepted downstream: a restart resumes after them.
func (o *Object) SaveDelivered(ctx context.Context, n int, now time.Time) error {
	o.delivered = n
	return o.st.SaveProgress(ctx, o.bucket, o.key, n, now)
}

// Finish writes the object's done marker in place of its progress, so
// that a message naming it again within window does not read it again.
func (o *Object) Finish(ctx context.Context, now time.Time, window time.Duration) error {
	o.done = true
	return o.st.MarkDone(ctx, o.bucket, o.key, now, window)
}

// Release lets another reader claim the object.
func (o *Object) Release() { o.release() }
