package awscloudtrailreceiver

import (
	"context"
	"fmt"
	"go.opentelemetry.io/collector/pdata/plog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// faultProxy stands between one collector and the AWS test servers: it can
// make an SQS operation fail, or cut the collector off entirely (a crash:
// whatever it does afterwards reaches nothing).
type faultProxy struct {
	*httptest.Server
	mu     sync.Mutex
	failOp map[string]bool
	dead   bool
	// failed counts the requests refused by operation.
	failed map[string]int
	// onFail runs (once per call) when an operation is refused.
	onFail func(op string)
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &faultProxy{failOp: map[string]bool{}, failed: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "AmazonSQS.")
		p.mu.Lock()
		refuse := p.dead || p.failOp[op]
		if refuse {
			p.failed[op]++
		}
		onFail := p.onFail
		p.mu.Unlock()
		if !refuse {
			rp.ServeHTTP(w, req)
			return
		}
		if onFail != nil {
			onFail(op)
		}
		// A client error, which the SDK does not retry.
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.sqs#InvalidAddress","message":"fault injected by the test"}`)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *faultProxy) fail(op string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failOp[op] = true
}

func (p *faultProxy) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dead = true
}

func (p *faultProxy) failures(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed[op]
}

// freezingSink accepts batches until frozen, then blocks every call until
// its context ends: a collector that crashed delivers nothing more.
type freezingSink struct {
	*sink
	limit  int // batches accepted before freezing by itself (0: no limit)
	mu     sync.Mutex
	n      int
	frozen atomic.Bool
}

func (f *freezingSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	f.mu.Lock()
	f.n++
	if f.limit > 0 && f.n > f.limit {
		f.frozen.Store(true)
	}
	f.mu.Unlock()
	if f.frozen.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.sink.ConsumeLogs(ctx, ld)
}

// copyStorage copies a file_storage directory as it is on disk now (the
// state a crashed collector left behind) and opens a file_storage on it.
func copyStorage(t *testing.T, dir string) (component.Host, component.ID) {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600))
	}
	return devstack.FileStorageHost(t, dst)
}

// restartCase runs a first collector (through a fault proxy) until
// interrupted, then a second one on the storage the first left: after a
// Shutdown (restart) or after a crash (the first is cut off and abandoned,
// and the second opens a copy of its storage files as last written).
type restartCase struct {
	s3srv     *devstack.S3Server
	queueURL  string
	cfg       *Config
	dir       string
	host      component.Host
	storageID component.ID
	proxy     *faultProxy
	first     *freezingSink
	h1        *harness
}

func newRestartCase(t *testing.T, s3srv *devstack.S3Server, queueURL string, firstLimit int) *restartCase {
	c := &restartCase{s3srv: s3srv, queueURL: queueURL, dir: t.TempDir()}
	c.host, c.storageID = devstack.FileStorageHost(t, c.dir)
	c.proxy = newFaultProxy(t, s3srv.URL)
	c.cfg = sqsConfig(c.proxy.URL, queueURL)
	c.cfg.MaxBatchRecords = 100
	c.cfg.SQS.GetOrInsertDefault().VisibilityTimeout = time.Second // a message the first one left comes back soon
	c.cfg.Storage = &c.storageID
	c.first = &freezingSink{sink: newSink(), limit: firstLimit}
	c.h1 = startReceiver(t, c.cfg, c.first, c.host)
	c.h1.rcv.drain = 200 * time.Millisecond
	return c
}

// second starts the second collector after the first one stopped (crash
// false) or crashed, and returns its sink.
func (c *restartCase) second(t *testing.T, crash bool) *sink {
	host := c.host
	if crash {
		c.proxy.kill()
		c.first.frozen.Store(true)
		host, _ = copyStorage(t, c.dir)
	} else {
		require.NoError(t, c.h1.stop())
	}
	cfg := *c.cfg
	cfg.Endpoint = c.s3srv.URL
	sk := newSink()
	h2 := startReceiver(t, &cfg, sk, host)
	require.Eventually(t, func() bool { return c.s3srv.SQS().Stats("cloudtrail").Deleted == 1 }, 40*time.Second, 10*time.Millisecond)
	require.NoError(t, h2.stop())
	return sk
}

// TestSQSFinishedObjectsNotReadAgain: an object read to the end is not read
// again when its message comes back after a restart or a crash.
func TestSQSFinishedObjectsNotReadAgain(t *testing.T) {
	for _, crash := range []bool{false, true} {
		mode := "restart"
		if crash {
			mode = "crash"
		}
		// A CloudTrail SNS notification names two objects; the collector
		// finishes the first and is interrupted in the second.
		t.Run("message of two objects interrupted in the second/"+mode, func(t *testing.T) {
			e := newSQSEnv(t, 30*time.Second, 5, 2, 1000, 11000)
			s3srv, queueURL, keys, want := e.s3srv, e.queueURL, e.keys, e.ids
			e.send(t, []string{snsEnvelope(fmt.Sprintf(`{"s3Bucket":%q,"s3ObjectKey":[%q,%q]}`, testBucket, keys[0], keys[1]))})
			c := newRestartCase(t, s3srv, queueURL, 13) // 10 batches of the first object, 3 of the second
			require.Eventually(t, func() bool { return c.first.frozen.Load() }, 40*time.Second, 5*time.Millisecond)
			second := c.second(t, crash)
			assert.Equal(t, 1300, c.first.count())
			assert.Zero(t, assertUnion(t, c.first.sink, second, want))
			assert.Equal(t, 700, second.count(), "only the rest of the second object")
			assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]), "the finished object is not read again")
		})
		// DeleteMessage fails after the object was read; the collector is
		// then restarted (or crashes).
		t.Run("DeleteMessage failed/"+mode, func(t *testing.T) {
			e := newSQSEnv(t, 30*time.Second, 5, 1, 500, 12000)
			s3srv, queueURL, keys, want := e.s3srv, e.queueURL, e.keys, e.ids
			e.send(t, []string{s3Notification(testBucket, keys[0])})
			c := newRestartCase(t, s3srv, queueURL, 0)
			c.proxy.fail("DeleteMessage")
			require.Eventually(t, func() bool { return c.proxy.failures("DeleteMessage") > 0 }, 40*time.Second, 5*time.Millisecond)
			second := c.second(t, crash)
			assertExactlyOnce(t, c.first.sink, want)
			assert.Zero(t, second.count(), "the object is not read again")
			assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]))
		})
	}
	// The collector crashes after it finished the object, before its
	// DeleteMessage reached the queue.
	t.Run("crash before DeleteMessage", func(t *testing.T) {
		e := newSQSEnv(t, 30*time.Second, 5, 1, 500, 13000)
		s3srv, queueURL, keys, want := e.s3srv, e.queueURL, e.keys, e.ids
		e.send(t, []string{s3Notification(testBucket, keys[0])})
		c := newRestartCase(t, s3srv, queueURL, 0)
		c.proxy.mu.Lock()
		c.proxy.failOp["DeleteMessage"] = true
		c.proxy.onFail = func(string) { c.proxy.kill() } // the crash: nothing more gets out
		c.proxy.mu.Unlock()
		require.Eventually(t, func() bool { return c.proxy.failures("DeleteMessage") > 0 }, 40*time.Second, 5*time.Millisecond)
		second := c.second(t, true)
		assertExactlyOnce(t, c.first.sink, want)
		assert.Zero(t, second.count(), "the object is not read again")
		assert.Equal(t, 1, s3srv.Gets(testBucket, keys[0]))
	})
}
