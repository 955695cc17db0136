package checkpoint

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
)

func fileClient(t *testing.T, dir string) storage.Client {
	t.Helper()
	ext := storagetest.NewFileBackedStorageExtension("test", dir)
	client, err := ext.GetClient(context.Background(), component.KindReceiver, component.MustNewID("awscloudtrail"), "")
	require.NoError(t, err)
	return client
}

func TestObjectProgress(t *testing.T) {
	ctx := context.Background()
	for name, st := range map[string]*Store{"storage": NewStore(fileClient(t, t.TempDir())), "memory": NewStore(memstorage.NewClient())} {
		t.Run(name, func(t *testing.T) {
			n, done, err := st.LoadProgress(ctx, "b", "k")
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.False(t, done)
			require.NoError(t, st.SaveProgress(ctx, "b", "k", 42, t0))
			n, done, err = st.LoadProgress(ctx, "b", "k")
			require.NoError(t, err)
			assert.Equal(t, 42, n)
			assert.False(t, done)
			require.NoError(t, st.MarkDone(ctx, "b", "k", t0, time.Hour))
			n, done, err = st.LoadProgress(ctx, "b", "k")
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.True(t, done)
		})
	}
}

// TestDoneMarkersSurviveRestart: a done marker is on disk, with its index,
// when the store is opened again.
func TestDoneMarkersSurviveRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := NewStore(fileClient(t, dir))
	for i := range doneChunk + 10 {
		require.NoError(t, st.MarkDone(ctx, "b", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second), 24*time.Hour))
	}
	require.NoError(t, st.Close(ctx))

	st = NewStore(fileClient(t, dir))
	_, done, err := st.LoadProgress(ctx, "b", "0")
	require.NoError(t, err)
	assert.True(t, done)
	n, err := st.DoneMarkers(ctx)
	require.NoError(t, err)
	assert.Equal(t, doneChunk+10, n)
	// The index goes on where it stopped.
	require.NoError(t, st.MarkDone(ctx, "b", "x", t0.Add(time.Hour), 24*time.Hour))
	n, err = st.DoneMarkers(ctx)
	require.NoError(t, err)
	assert.Equal(t, doneChunk+11, n)
}

// TestDoneMarkersExpire: markers older than the window are deleted, so that
// storage stays bounded; the newer ones and progress of objects being
// read stay.
func TestDoneMarkersExpire(t *testing.T) {
	ctx := context.Background()
	client := fileClient(t, t.TempDir())
	st := NewStore(client)
	window := time.Hour
	// Four chunks over four hours, a marker every 1000/256 s.
	total := 4 * doneChunk
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 4 * time.Hour / time.Duration(total)) }
	for i := range total {
		require.NoError(t, st.MarkDone(ctx, "b", fmt.Sprint(i), at(i), window))
	}
	// An object being read: its progress was saved lately (listed in the
	// index too, in the chunk being filled).
	require.NoError(t, st.SaveProgress(ctx, "b", "reading", 7, at(total).Add(2*time.Hour)))
	// Object 5 was marked again late (its message came back after a
	// restart that lost the marker); its new marker is kept.
	require.NoError(t, st.MarkDone(ctx, "b", "5", at(total), window))

	// Rolling over the 4th chunk expired the chunks older than the window
	// (the first two, whose newest markers are > 1h before at(total)).
	n, err := st.DoneMarkers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2*doneChunk+2, n)
	for i, want := range map[int]bool{0: false, doneChunk - 1: false, 5: true, 2 * doneChunk: true, total - 1: true} {
		_, done, err := st.LoadProgress(ctx, "b", fmt.Sprint(i))
		require.NoError(t, err)
		assert.Equal(t, want, done, "object %d", i)
	}
	b, err := client.Get(ctx, chunkKey(0))
	require.NoError(t, err)
	assert.Nil(t, b, "the expired chunk is deleted")

	// A restart long after expires the rest but the newest chunk (not all
	// of it left the window: the progress of "reading").
	require.NoError(t, st.ExpireDone(ctx, at(total).Add(2*time.Hour)))
	n, err = st.DoneMarkers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, done, err := st.LoadProgress(ctx, "b", fmt.Sprint(total-1))
	require.NoError(t, err)
	assert.False(t, done)
	p, done, err := st.LoadProgress(ctx, "b", "reading")
	require.NoError(t, err)
	assert.Equal(t, 7, p)
	assert.False(t, done)
}

func TestDoneMarkersMemoryStore(t *testing.T) {
	ctx := context.Background()
	mem := memstorage.New()
	st := NewStore(mem.Client(""))
	for i := range 3 * doneChunk {
		require.NoError(t, st.MarkDone(ctx, "b", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), time.Hour))
	}
	n, err := st.DoneMarkers(ctx)
	require.NoError(t, err)
	assert.LessOrEqual(t, n, 2*doneChunk, "bounded by the window")
	assert.LessOrEqual(t, len(mem.Data()), 2*doneChunk+4)
}

// TestAbandonedProgressExpires: progress of an object never finished here
// (handed over to another collector, sent to the dead-letter queue) is
// listed in the index and expires with the window, also from a store
// opened later, also when the chunk listing it is not full; progress
// saved again since it was listed is kept and listed again.
func TestAbandonedProgressExpires(t *testing.T) {
	ctx := context.Background()
	client := fileClient(t, t.TempDir())
	st := NewStore(client)
	require.NoError(t, st.SaveProgress(ctx, "b", "abandoned", 300, t0))
	require.NoError(t, st.SaveProgress(ctx, "b", "reading", 10, t0))
	require.NoError(t, st.SaveProgress(ctx, "b", "reading", 20, t0.Add(3*time.Hour)))
	require.NoError(t, st.SaveProgress(ctx, "b", "abandoned", 400, t0.Add(time.Minute))) // not listed twice
	require.NoError(t, client.Set(ctx, progressKey("b", "legacy"), []byte("12")))
	n, err := st.DoneMarkers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	p, done, err := st.LoadProgress(ctx, "b", "legacy")
	require.NoError(t, err)
	assert.Equal(t, 12, p, "progress written by older versions is read")
	assert.False(t, done)

	reopened := NewStore(client)
	require.NoError(t, reopened.ExpireDone(ctx, t0.Add(time.Hour)))
	b, err := client.Get(ctx, progressKey("b", "abandoned"))
	require.NoError(t, err)
	assert.Nil(t, b, "abandoned progress expired")
	p, done, err = reopened.LoadProgress(ctx, "b", "reading")
	require.NoError(t, err)
	assert.Equal(t, 20, p)
	assert.False(t, done)
	n, err = reopened.DoneMarkers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "progress saved since is listed again")

	require.NoError(t, reopened.ExpireDone(ctx, t0.Add(4*time.Hour)))
	b, err = client.Get(ctx, progressKey("b", "reading"))
	require.NoError(t, err)
	assert.Nil(t, b)
	n, err = reopened.DoneMarkers(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)

	// Progress saved again after its entry expired is listed anew.
	require.NoError(t, reopened.SaveProgress(ctx, "b", "x", 1, t0.Add(5*time.Hour)))
	require.NoError(t, reopened.ExpireDone(ctx, t0.Add(6*time.Hour)))
	require.NoError(t, reopened.SaveProgress(ctx, "b", "x", 2, t0.Add(7*time.Hour)))
	n, err = reopened.DoneMarkers(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}
