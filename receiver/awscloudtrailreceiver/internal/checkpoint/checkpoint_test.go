package checkpoint

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func TestStateWindow(t *testing.T) {
	s := New(t0.Add(-time.Hour))
	const lookback = 30 * time.Minute
	assert.Equal(t, t0.Add(-time.Hour), s.ListFrom(lookback), "a new folder starts at its floor")
	assert.True(t, s.ShouldRead("k1", t0, lookback))
	assert.False(t, s.ShouldRead("old", t0.Add(-2*time.Hour), lookback), "before the floor")

	s.Delivered("k1", t0, 5)
	assert.Equal(t, 5, s.Pending["k1"].Delivered)
	s.Finish("k1", t0, lookback)
	assert.Empty(t, s.Pending)
	assert.False(t, s.ShouldRead("k1", t0, lookback), "read once")
	assert.Equal(t, t0.Add(-lookback), s.ListFrom(lookback))
	assert.True(t, s.ShouldRead("late", t0.Add(-10*time.Minute), lookback), "late file inside the window")
	assert.False(t, s.ShouldRead("toolate", t0.Add(-40*time.Minute), lookback), "outside the window")

	s.Finish("k2", t0.Add(time.Hour), lookback)
	assert.NotContains(t, s.Done, "k1", "done keys leave with the window")
	assert.Contains(t, s.Done, "k2")

	assert.True(t, s.Failed("f", t0))
	assert.True(t, s.Failed("f", t0))
	assert.Equal(t, 2, s.Pending["f"].Attempts)
}

func TestStateFailedBounded(t *testing.T) {
	s := New(t0)
	for i := 0; i < MaxPending; i++ {
		require.True(t, s.Failed(string(rune(i)), t0))
	}
	assert.False(t, s.Failed("one too many", t0))
	assert.True(t, s.Failed(string(rune(0)), t0), "an object already waiting is still counted")
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	ext := storagetest.NewFileBackedStorageExtension("test", t.TempDir())
	client, err := ext.GetClient(ctx, component.KindReceiver, component.MustNewID("awscloudtrail"), "")
	require.NoError(t, err)
	st := NewStore(client)
	assert.True(t, st.Persistent())
	got, err := st.Load(ctx, "b/p/")
	require.NoError(t, err)
	assert.Nil(t, got)

	s := New(t0)
	s.Delivered("k", t0, 3)
	s.Finish("d", t0, time.Hour)
	require.NoError(t, st.Save(ctx, "b/p/", s))
	got, err = st.Load(ctx, "b/p/")
	require.NoError(t, err)
	assert.Equal(t, s, got)
	require.NoError(t, st.Close(ctx))

	mem := NewStore(nil)
	assert.False(t, mem.Persistent())
	require.NoError(t, mem.Save(ctx, "x", s))
	got, err = mem.Load(ctx, "x")
	require.NoError(t, err)
	assert.Nil(t, got)
}
