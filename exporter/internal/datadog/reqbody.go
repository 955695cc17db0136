package datadog

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// maxPooledBody bounds the request bodies kept for reuse (a gzipped 5 MB
// request is well under it; a larger one is left to the garbage collector).
const maxPooledBody = 4 << 20

// bodies reuses the buffers of compressed request bodies: allocating (and
// zeroing) a new one per request was the exporters' largest allocation.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// errBodyClosed is what a request body read after its Close returns.
var errBodyClosed = errors.New("request body read after close")

// requestBody holds the bytes of one request body, which go back to bodies
// when nothing uses them any more: Post, and each reader given to the
// transport (the body, and those of GetBody for a redirect or a retry)
// until the transport closes it. The transport may go on reading a body
// after Do returned (a server that answered early), and closes it when
// it is done; a reader never closed keeps the bytes from being reused.
type requestBody struct {
	mu   sync.Mutex
	buf  *[]byte
	refs int
}

// newRequestBody returns the body of the bytes *buf (from bodies), held
// once by the caller (release).
func newRequestBody(buf *[]byte) *requestBody {
	return &requestBody{buf: buf, refs: 1}
}

// reader returns a reader of the body's bytes, which holds them until it
// is closed.
func (b *requestBody) reader() io.ReadCloser {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refs++
	return &bodyReader{body: b, r: bytes.NewReader(*b.buf)}
}

// release drops one hold; the last gives the bytes back to bodies.
func (b *requestBody) release() {
	b.mu.Lock()
	b.refs--
	last := b.refs == 0
	b.mu.Unlock()
	if last && cap(*b.buf) <= maxPooledBody {
		bodies.Put(b.buf)
	}
}

// bodyReader reads a requestBody. Read and Close exclude each other: the
// transport may close a body while another goroutine reads it, and no
// read may see the bytes once they are given back.
type bodyReader struct {
	mu     sync.Mutex
	body   *requestBody
	r      *bytes.Reader
	closed bool
}

func (r *bodyReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, errBodyClosed
	}
	return r.r.Read(p)
}

// Close releases the body's bytes (once).
func (r *bodyReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.body.release()
	}
	return nil
}
