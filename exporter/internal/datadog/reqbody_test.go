package datadog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configcompression"
)

// TestRequestBodyHolds: the bytes of a request body are given back once,
// after Post and every reader let go of them, and a reader closed reads
// nothing more.
func TestRequestBodyHolds(t *testing.T) {
	buf := []byte("payload")
	b := newRequestBody(&buf)
	r1, r2 := b.reader(), b.reader()
	b.release() // Post returns while the transport still reads
	got, err := io.ReadAll(io.LimitReader(r1, 3))
	require.NoError(t, err)
	assert.Equal(t, "pay", string(got))
	require.NoError(t, r1.Close())
	require.NoError(t, r1.Close()) // a second Close releases nothing
	assert.Equal(t, 1, b.refs, "r2 still holds the bytes")
	_, err = r1.Read(make([]byte, 4))
	assert.ErrorIs(t, err, errBodyClosed)
	got, err = io.ReadAll(r2)
	require.NoError(t, err)
	assert.Equal(t, "payload", string(got))
	require.NoError(t, r2.Close())
	assert.Equal(t, 0, b.refs)
}

// TestPostPooledBodiesIntact: requests posted at the same time, half of
// them to a server that answers before reading the body (the transport
// may still be sending it when Post returns, and the next request reuses
// a body buffer), all arrive whole when read, for each compression.
// Run with -race: a body buffer reused while the transport reads it is a
// data race.
func TestPostPooledBodiesIntact(t *testing.T) {
	for _, zip := range []string{CompressionGzip, CompressionZstd, CompressionNone} {
		t.Run(zip, func(t *testing.T) {
			var mu sync.Mutex
			var bad []string
			received := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/early" {
					w.WriteHeader(http.StatusRequestEntityTooLarge) // without reading the body
					return
				}
				body, err := decode(r)
				mu.Lock()
				defer mu.Unlock()
				received++
				if err != nil || !intact(body) {
					bad = append(bad, fmt.Sprintf("%.80s (%v)", body, err))
				}
				w.WriteHeader(http.StatusAccepted)
			}))
			defer srv.Close()
			c, err := NewCompressor(configcompression.Type(zip), 0)
			require.NoError(t, err)
			good := NewClient(srv.Client(), srv.URL+"/logs", "k", c, "1")
			early := NewClient(srv.Client(), srv.URL+"/early", "k", c, "1")
			var wg sync.WaitGroup
			const workers, posts = 6, 30
			for w := range workers {
				wg.Go(func() {
					payload := []byte{}
					for i := range posts {
						payload = appendPayload(payload[:0], w*posts+i)
						_, err := good.Post(context.Background(), payload)
						assert.NoError(t, err)
						_, _ = early.Post(context.Background(), payload)
					}
				})
			}
			wg.Wait()
			assert.Empty(t, bad)
			assert.Equal(t, workers*posts, received)
		})
	}
}

// TestPostFollowsRedirectWithBody: a 307 answer is followed with the whole
// body again (GetBody of the pooled body).
func TestPostFollowsRedirectWithBody(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			_, _ = io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, "/new", http.StatusTemporaryRedirect)
			return
		}
		got, _ = decode(r)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	c, err := NewCompressor(CompressionGzip, 0)
	require.NoError(t, err)
	payload := appendPayload(nil, 7)
	_, err = NewClient(srv.Client(), srv.URL+"/old", "k", c, "1").Post(context.Background(), payload)
	require.NoError(t, err)
	assert.Equal(t, string(payload), string(got))
}

// appendPayload appends a request of about 300 kB whose content says
// which it is (intact checks it).
func appendPayload(dst []byte, n int) []byte {
	id := fmt.Sprintf("%06d", n)
	dst = append(dst, `[{"id":"`+id+`","fill":"`...)
	for range 300_000 / len(id) {
		dst = append(dst, id...)
	}
	return append(dst, `"}]`...)
}

// intact reports whether body is one whole payload of appendPayload.
func intact(body []byte) bool {
	s := string(body)
	if len(s) < 20 || !strings.HasPrefix(s, `[{"id":"`) || !strings.HasSuffix(s, `"}]`) {
		return false
	}
	n, err := strconv.Atoi(s[8:14])
	return err == nil && s == string(appendPayload(nil, n))
}

// decode returns the request's body, uncompressed.
func decode(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	switch r.Header.Get("Content-Encoding") {
	case CompressionGzip:
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	case CompressionZstd:
		zr, err := zstd.NewReader(nil)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		return zr.DecodeAll(raw, nil)
	}
	return raw, nil
}
