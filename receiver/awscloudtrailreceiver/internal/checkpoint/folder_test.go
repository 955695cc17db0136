package checkpoint

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
)

// TestFolderWrites: a Folder writes what must be durable at once, coalesces
// failures, and Close writes what is left; a reopened folder resumes from
// what was written.
func TestFolderWrites(t *testing.T) {
	ctx := context.Background()
	mem := memstorage.New()
	st := NewStore(mem.Client(""))
	f, resumed, err := st.OpenFolder(ctx, "b/p/", t0, nil)
	require.NoError(t, err)
	assert.False(t, resumed)
	writes := func() int { n, _ := mem.Written(); return n }

	require.Equal(t, Read, f.Want("k1", t0, time.Hour))
	assert.Equal(t, Skip, f.Want("k1", t0, time.Hour), "pending: not started twice")
	assert.Zero(t, writes(), "Want writes nothing by itself")
	assert.Zero(t, f.Begin("k1"))
	f.Delivered("k1", t0, 7)
	assert.Equal(t, 1, writes(), "a delivered batch is written at once")

	// Reopened now (a crash): k1 pending with 7 delivered.
	g, resumed, err := st.OpenFolder(ctx, "b/p/", t0, nil)
	require.NoError(t, err)
	assert.True(t, resumed)
	_, retries := g.Plan(t0, time.Hour)
	require.Len(t, retries, 1)
	assert.Equal(t, 7, g.Begin("k1"))

	_, retries = f.Plan(t0, time.Hour)
	assert.Empty(t, retries, "an object being read is not retried")
	f.Finish("k1", t0, time.Hour)
	f.End("k1")
	assert.Equal(t, 2, writes(), "a finish is written at once")

	for i := range 5 {
		f.Failed(string(rune('a'+i)), t0, time.Now(), time.Minute, time.Hour)
	}
	assert.LessOrEqual(t, writes(), 3, "failures within SaveEvery are coalesced")
	f.Close()
	h, _, err := st.OpenFolder(ctx, "b/p/", t0, nil)
	require.NoError(t, err)
	assert.Equal(t, 5, h.Failing(), "Close writes the failures not written yet")
	before := writes()
	f.Failed("z", t0, time.Now(), time.Minute, time.Hour)
	assert.Equal(t, before+1, writes(), "after Close a change is written at once")
}

// TestFolderCoalescedWriteHappens: the last coalesced failure is written
// by the timer without any further change.
func TestFolderCoalescedWriteHappens(t *testing.T) {
	ctx := context.Background()
	mem := memstorage.New()
	st := NewStore(mem.Client(""))
	f, _, err := st.OpenFolder(ctx, "b/p/", t0, nil)
	require.NoError(t, err)
	f.Failed("a", t0, time.Now(), time.Minute, time.Hour) // written at once
	f.Failed("b", t0, time.Now(), time.Minute, time.Hour) // coalesced
	require.Eventually(t, func() bool {
		s, err := st.Load(ctx, "b/p/")
		return err == nil && s != nil && len(s.Pending) == 2
	}, 5*SaveEvery, 10*time.Millisecond)
}

func TestFolderHeldAtMaxPending(t *testing.T) {
	st := NewStore(memstorage.NewClient())
	f, _, err := st.OpenFolder(context.Background(), "b/p/", t0, nil)
	require.NoError(t, err)
	for i := range MaxPending {
		require.Equal(t, Read, f.Want(string(rune(i+1000)), t0.Add(time.Hour), time.Hour))
	}
	assert.Equal(t, Held, f.Want("late", t0.Add(time.Minute), time.Hour))
	f.Finish(string(rune(1000)), t0.Add(3*time.Hour), time.Hour) // Newest moves on
	from, _ := f.Plan(t0, time.Hour)
	assert.Equal(t, t0.Add(time.Minute), from, "the window holds at the refused object")
	f.ListedAll()
	from, _ = f.Plan(t0, time.Hour)
	assert.Equal(t, t0.Add(time.Hour), from, "released: the oldest pending object holds it")
}

var errBroken = errors.New("disk full")

// errClient is a storage client whose writes fail.
type errClient struct{ storage.Client }

func (errClient) Set(context.Context, string, []byte) error { return errBroken }

func TestFolderWriteErrorReported(t *testing.T) {
	st := NewStore(errClient{memstorage.NewClient()})
	var got []error
	f, _, err := st.OpenFolder(context.Background(), "b/p/", t0, func(err error) { got = append(got, err) })
	require.NoError(t, err)
	f.Delivered("k", t0, 1)
	require.Len(t, got, 1)
	assert.ErrorIs(t, got[0], errBroken)
}

// TestClaim: one reader at a time per object; a second one waits for the
// first, then sees its progress; a cancelled wait reports !ok.
func TestClaim(t *testing.T) {
	ctx := context.Background()
	st := NewStore(memstorage.NewClient())
	a, ok, err := st.Claim(ctx, "b", "k", nil)
	require.True(t, ok)
	require.NoError(t, err)
	require.NoError(t, a.SaveDelivered(ctx, 3, t0))

	waiting := make(chan struct{}, 1)
	got := make(chan *Object)
	go func() {
		o, _, _ := st.Claim(ctx, "b", "k", func() { waiting <- struct{}{} })
		got <- o
	}()
	<-waiting
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, ok, _ = st.Claim(cctx, "b", "k", nil)
	assert.False(t, ok, "a cancelled wait")
	require.NoError(t, a.Finish(ctx, t0, time.Hour))
	a.Release()
	b := <-got
	assert.True(t, b.Done(), "the waiter finds the object done")
	b.Release()
}
