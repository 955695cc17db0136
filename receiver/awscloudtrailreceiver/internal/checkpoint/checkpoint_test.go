package checkpoint

import (
	"context"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
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

	assert.True(t, s.Failed("f", t0, t0, time.Minute, time.Hour))
	assert.True(t, s.Failed("f", t0, t0, time.Minute, time.Hour))
	assert.Equal(t, 2, s.Pending["f"].Attempts)
}

func TestStateFailedBounded(t *testing.T) {
	s := New(t0)
	for i := 0; i < MaxPending; i++ {
		require.True(t, s.Failed(string(rune(i)), t0, t0, time.Minute, time.Hour))
	}
	assert.False(t, s.Failed("one too many", t0, t0, time.Minute, time.Hour))
	assert.True(t, s.Failed(string(rune(0)), t0, t0, time.Minute, time.Hour), "an object already waiting is still counted")
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	ext := storagetest.NewFileBackedStorageExtension("test", t.TempDir())
	client, err := ext.GetClient(ctx, component.KindReceiver, component.MustNewID("awscloudtrail"), "")
	require.NoError(t, err)
	st := NewStore(client)
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

	// Without a storage extension the states live in memory, through the
	// same code path.
	mem := NewStore(memstorage.NewClient())
	got, err = mem.Load(ctx, "x")
	require.NoError(t, err)
	assert.Nil(t, got)
	require.NoError(t, mem.Save(ctx, "x", s))
	got, err = mem.Load(ctx, "x")
	require.NoError(t, err)
	assert.Equal(t, s, got)
}

// TestStateWindowHeldByUnfinished: a started object holds the window, whatever
// order the objects finish in; once it failed it is retried from Pending
// and no longer holds it.
func TestStateWindowHeldByUnfinished(t *testing.T) {
	for _, lookback := range []time.Duration{0, 5 * time.Minute} {
		s := New(t0.Add(-time.Hour))
		require.True(t, s.ShouldRead("old", t0, lookback))
		require.True(t, s.Start("old", t0))
		assert.False(t, s.ShouldRead("old", t0, lookback), "a pending object is not started again from the listing")
		require.True(t, s.Start("new", t0.Add(time.Hour)))
		s.Finish("new", t0.Add(time.Hour), lookback)
		assert.Equal(t, t0, s.ListFrom(lookback), "the window stops at the unfinished object")
		assert.Contains(t, s.Pending, "old")
		assert.Zero(t, s.Failing())
		s.Failed("old", t0, t0, time.Minute, time.Hour)
		assert.Equal(t, 1, s.Failing())
		assert.Equal(t, t0.Add(time.Hour).Add(-lookback), s.ListFrom(lookback), "a failed object is retried from Pending")
		assert.Contains(t, s.Pending, "old")
	}
}

// TestStateBackoff: a failing object waits longer after each failure, up
// to a limit, and the wait is kept in the checkpoint.
func TestStateBackoff(t *testing.T) {
	s := New(t0)
	now := t0
	var waits []time.Duration
	for range 8 {
		require.True(t, s.Failed("k", t0, now, time.Minute, 30*time.Minute))
		assert.False(t, s.Due("k", now))
		waits = append(waits, s.Pending["k"].Retry.Sub(now))
		now = s.Pending["k"].Retry
		assert.True(t, s.Due("k", now))
	}
	assert.Equal(t, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute}, waits)

	st := NewStore(memstorage.NewClient())
	require.NoError(t, st.Save(context.Background(), "f", s))
	got, err := st.Load(context.Background(), "f")
	require.NoError(t, err)
	assert.Equal(t, s.Pending["k"].Retry, got.Pending["k"].Retry)
	assert.Equal(t, 8, got.Pending["k"].Attempts)
}

func TestStateFinishFutureName(t *testing.T) {
	const lookback = time.Hour
	now := t0.Add(24 * time.Hour)
	tests := []struct {
		name       string
		newest     time.Time // Newest before the object is finished
		fileTime   time.Time
		wantFuture bool
		wantNewest time.Time
	}{
		{"past", t0, t0.Add(time.Hour), false, t0.Add(time.Hour)},
		{"now", t0, now, false, now},
		{"within the slack", t0, now.Add(FutureSlack), false, now.Add(FutureSlack)},
		{"past the slack", t0, now.Add(FutureSlack + time.Second), true, t0},
		{"400 days ahead", t0, now.Add(400 * 24 * time.Hour), true, t0},
		{"400 days ahead, first object", time.Time{}, now.Add(400 * 24 * time.Hour), true, time.Time{}},
		{"older than Newest", t0, t0.Add(-10 * time.Minute), false, t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(t0.Add(-time.Hour))
			s.Newest = tt.newest
			require.True(t, s.Start("k", tt.fileTime))
			assert.Equal(t, tt.wantFuture, s.FinishAt("k", tt.fileTime, lookback, now))
			assert.Equal(t, tt.wantNewest, s.Newest)
			assert.Empty(t, s.Pending)
			assert.False(t, s.ShouldRead("k", tt.fileTime, lookback), "read once")
			if tt.wantFuture {
				later := t0.Add(30 * time.Minute)
				if !tt.newest.IsZero() {
					later = tt.newest.Add(time.Minute)
				}
				assert.True(t, s.ShouldRead("later", later, lookback), "a genuine file after the future-named one is read")
				s.FinishAt("later", later, lookback, now)
				assert.Contains(t, s.Done, "k", "the future-named object stays done")
			}
		})
	}
}
