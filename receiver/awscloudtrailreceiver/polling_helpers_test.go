package awscloudtrailreceiver

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
)

// startReceiverHooked is startReceiver with a hook run before Start.
func startReceiverHooked(t testing.TB, cfg *Config, next consumer.Logs, host component.Host, hook func(*cloudtrailReceiver)) *harness {
	t.Helper()
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	core, logs := observer.New(zap.DebugLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	rcv, err := newReceiver(set, cfg, next)
	require.NoError(t, err)
	if hook != nil {
		hook(rcv)
	}
	require.NoError(t, rcv.Start(context.Background(), host))
	h := &harness{rcv: rcv, tel: tel, logs: logs}
	t.Cleanup(func() { _ = h.stop() })
	return h
}

// memStorage is the in-memory storage extension of the tests (one key
// space for every client, counted writes, snapshots as a crash leaves the
// storage as last written), with helpers reading the folder checkpoints.
type memStorage struct{ *memstorage.Storage }

func newMemStorage() *memStorage {
	return &memStorage{memstorage.NewShared(component.MustNewID("memstorage"))}
}

// snapshot returns a new storage holding what s holds now.
func (s *memStorage) snapshot() *memStorage { return &memStorage{s.Snapshot()} }

// put stores a value, as a previous run would have.
func (s *memStorage) put(t testing.TB, key string, value []byte) {
	require.NoError(t, s.Client("").Set(context.Background(), key, value))
}

// bytesWritten returns the bytes of the values set so far.
func (s *memStorage) bytesWritten() int {
	_, b := s.Written()
	return b
}

// folderStates decodes the folder checkpoints stored in s.
func (s *memStorage) folderStates(t testing.TB) map[string]*checkpoint.State {
	out := map[string]*checkpoint.State{}
	for k, v := range s.Data() {
		if id, ok := strings.CutPrefix(k, "folder/"); ok {
			st := &checkpoint.State{}
			require.NoError(t, json.Unmarshal(v, st))
			out[id] = st
		}
	}
	return out
}

// done reports whether key is among the finished objects of a folder.
func (s *memStorage) done(t testing.TB, key string) bool {
	for _, st := range s.folderStates(t) {
		if _, ok := st.Done[key]; ok {
			return true
		}
	}
	return false
}

// pending counts the objects started but not finished in every folder.
func (s *memStorage) pending(t testing.TB) int {
	n := 0
	for _, st := range s.folderStates(t) {
		n += len(st.Pending)
	}
	return n
}

func memStorageHost(s *memStorage) (component.Host, component.ID) {
	return s.Host(), s.ID()
}

// memConfig is testConfig(endpoint) keeping its checkpoints in mem, and
// the host that holds mem.
func memConfig(endpoint string, mem *memStorage) (*Config, component.Host) {
	host, id := memStorageHost(mem)
	cfg := testConfig(endpoint)
	cfg.Storage = &id
	return cfg, host
}

// gatedStore wraps an objectStore: GetObject of chosen keys blocks until
// the context ends (a slow S3 response), and closing the body of chosen
// keys blocks until the context ends.
type gatedStore struct {
	objectStore
	// holdGet: GetObject of these keys blocks; the channel is closed when it started.
	holdGet map[string]chan struct{}
	// holdEOF: closing the body of these keys (after reading it to its end)
	// blocks; the channel is closed when Close is called.
	holdEOF map[string]chan struct{}
	once    sync.Map

	mu    sync.Mutex
	gets  map[string]int // GetObject calls by key
	lists map[string]int // ListObjectsV2 calls by prefix
}

func (g *gatedStore) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	g.mu.Lock()
	if g.lists == nil {
		g.lists = map[string]int{}
	}
	g.lists[aws.ToString(in.Prefix)]++
	g.mu.Unlock()
	return g.objectStore.ListObjectsV2(ctx, in, opts...)
}

func (g *gatedStore) calls(key, prefix string) (gets, lists int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gets[key], g.lists[prefix]
}

func (g *gatedStore) signal(ch chan struct{}) {
	if _, loaded := g.once.LoadOrStore(ch, true); !loaded {
		close(ch)
	}
}

func (g *gatedStore) GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	g.mu.Lock()
	if g.gets == nil {
		g.gets = map[string]int{}
	}
	g.gets[key]++
	g.mu.Unlock()
	if ch, ok := g.holdGet[key]; ok {
		g.signal(ch)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	out, err := g.objectStore.GetObject(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	if ch, ok := g.holdEOF[key]; ok {
		out.Body = &eofGate{ReadCloser: out.Body, ctx: ctx, reached: func() { g.signal(ch) }}
	}
	return out, nil
}

type eofGate struct {
	io.ReadCloser
	ctx     context.Context
	reached func()
}

// Close blocks until the context ends: the object was read to its end and
// every batch was delivered, but reading has not returned.
func (e *eofGate) Close() error {
	e.reached()
	<-e.ctx.Done()
	return e.ReadCloser.Close()
}

// holdingSink passes batches to a sink, except that batches for which hold
// returns true block until their context ends (a consumer that stops
// answering).
type holdingSink struct {
	*sink
	hold func(ld plog.Logs) bool
	held chan struct{}
	once sync.Once
}

func (g *holdingSink) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if g.hold != nil && g.hold(ld) {
		g.once.Do(func() { close(g.held) })
		<-ctx.Done()
		return ctx.Err()
	}
	return g.sink.ConsumeLogs(ctx, ld)
}

// eventIDs returns the eventIDs of a batch.
func eventIDs(ld plog.Logs) []string {
	var out []string
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				id, _ := lrs.At(k).Attributes().Get(ctattr.AttrEventID)
				out = append(out, id.Str())
			}
		}
	}
	return out
}
