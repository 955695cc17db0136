package awscloudtrailreceiver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Fault-injecting object stores and consumers of the adversarial polling tests.

// releaseStore wraps an objectStore: GetObject of chosen keys blocks until
// the key's release channel is closed (or the context ends); started[key]
// is closed when such a GetObject began. Bodies of keys in cut are cut
// once, after cutAfter bytes, with io.ErrUnexpectedEOF (a connection reset
// mid-transfer).
type releaseStore struct {
	objectStore
	mu       sync.Mutex
	release  map[string]chan struct{}
	started  map[string]chan struct{}
	cut      map[string]bool
	cutAfter int
}

func newReleaseStore() *releaseStore {
	return &releaseStore{release: map[string]chan struct{}{}, started: map[string]chan struct{}{}, cut: map[string]bool{}}
}

// hold makes GetObject of key block until the returned func is called.
func (g *releaseStore) hold(key string) (started <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rel, st := make(chan struct{}), make(chan struct{})
	g.release[key], g.started[key] = rel, st
	var once sync.Once
	return st, func() { once.Do(func() { close(rel) }) }
}

func (g *releaseStore) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	g.mu.Lock()
	rel, held := g.release[key]
	st := g.started[key]
	cut := g.cut[key]
	delete(g.cut, key)
	g.mu.Unlock()
	if held {
		select {
		case <-st:
		default:
			close(st)
		}
		select {
		case <-rel:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out, err := g.objectStore.GetObject(ctx, in, opts...)
	if err == nil && cut {
		out.Body = &cutBody{ReadCloser: out.Body, left: g.cutAfter}
	}
	return out, err
}

type cutBody struct {
	io.ReadCloser
	left int
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.ReadCloser.Read(p)
	c.left -= n
	return n, err
}

// dispatchBlocked reports whether a folder loop waits in dispatch for a
// free reader (a goroutine blocked in select inside dispatch).
func dispatchBlocked() bool {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		header, _, _ := bytes.Cut(g, []byte("\n"))
		if bytes.Contains(header, []byte("[select")) && bytes.Contains(g, []byte("(*poller).dispatch(")) {
			return true
		}
	}
	return false
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// filterConsumer hands each batch's eventIDs to f, which may refuse the
// batch or pass it to the sink.
type filterConsumer struct {
	*sink
	f func(ctx context.Context, ids []string, pass func() error) error
}

func advFilter(f func(ctx context.Context, ids []string, pass func() error) error, s *sink) *filterConsumer {
	return &filterConsumer{sink: s, f: f}
}

func (c *filterConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	return c.f(ctx, eventIDs(ld), func() error { return c.sink.ConsumeLogs(ctx, ld) })
}

// partialConsumer accepts the first half of its first batch and refuses
// the rest with consumererror.Logs; it accepts every later batch whole.
type partialConsumer struct {
	*sink
	mu   sync.Mutex
	done bool
}

func (p *partialConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	p.mu.Lock()
	first := !p.done
	p.done = true
	p.mu.Unlock()
	if !first {
		return p.sink.ConsumeLogs(ctx, ld)
	}
	n := ld.LogRecordCount()
	accepted, rest := plog.NewLogs(), plog.NewLogs()
	ld.CopyTo(accepted)
	ld.CopyTo(rest)
	i := 0
	accepted.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().RemoveIf(func(plog.LogRecord) bool { i++; return i > n/2 })
	i = 0
	rest.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().RemoveIf(func(plog.LogRecord) bool { i++; return i <= n/2 })
	if err := p.sink.ConsumeLogs(ctx, accepted); err != nil {
		return err
	}
	return consumererror.NewLogs(errors.New("503 Service Unavailable"), rest)
}

// stallStore stalls the body of chosen keys once, after stallAfter bytes,
// until the read's context ends (a slow transfer cut by a stop).
type stallStore struct {
	objectStore
	mu         sync.Mutex
	stall      map[string]bool
	stallAfter int
	stalled    chan struct{}
}

func (g *stallStore) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	g.mu.Lock()
	stall := g.stall[key]
	delete(g.stall, key)
	g.mu.Unlock()
	out, err := g.objectStore.GetObject(ctx, in, opts...)
	if err == nil && stall {
		out.Body = &stallBody{ReadCloser: out.Body, left: g.stallAfter, ctx: ctx, stalled: g.stalled}
	}
	return out, err
}

type stallBody struct {
	io.ReadCloser
	left    int
	ctx     context.Context
	stalled chan struct{}
	once    sync.Once
}

func (b *stallBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		b.once.Do(func() { close(b.stalled) })
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= n
	return n, err
}
