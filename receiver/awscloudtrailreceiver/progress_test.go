package awscloudtrailreceiver

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestProgressLine: one line per progressEvery with totals, the rate since
// the previous line and, per trail, how far the backfill has come with an
// ETA; none before progressEvery or when nothing was read.
func TestProgressLine(t *testing.T) {
	start := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	floor := start.Add(-10 * time.Hour)
	pos := map[string]time.Time{"b/": floor, "c/org": start.Add(time.Minute)}
	p := newProgressLog(start, 2*time.Minute, func() []trailPosition {
		return []trailPosition{{trail: "b/", floor: floor, position: pos["b/"]}, {trail: "c/org", floor: floor, position: pos["c/org"]}}
	})
	core, logs := observer.New(zapcore.InfoLevel)
	logger := zap.New(core)
	write := func(now time.Time) bool {
		f := p.line(now)
		if f != nil {
			logger.Info("CloudTrail progress", f...)
		}
		return f != nil
	}

	p.add(0, 1) // the first batch: no line at once
	assert.False(t, write(start.Add(time.Second)), "the first line comes progressEvery after the start")
	p.add(10, 3000)
	pos["b/"] = floor.Add(time.Hour)
	require.True(t, write(start.Add(progressEvery)))
	assert.False(t, write(start.Add(progressEvery+time.Second)), "one line per interval")

	p.add(20, 6000)
	pos["b/"] = floor.Add(4 * time.Hour) // 3 h of trail in 60 s of wall time
	require.True(t, write(start.Add(progressEvery+time.Minute)))
	assert.False(t, write(start.Add(progressEvery+3*time.Minute)), "nothing read since the last line")

	lines := logs.All()
	require.Len(t, lines, 2)
	first := lines[0].ContextMap()
	assert.Equal(t, int64(10), first["objects_total"])
	assert.Equal(t, int64(3001), first["records_total"])
	assert.Equal(t, 100.0, first["records_per_second"])

	second := lines[1].ContextMap()
	assert.Equal(t, int64(30), second["objects_total"], "totals, not counts since the last line")
	assert.Equal(t, int64(9001), second["records_total"])
	assert.Equal(t, 100.0, second["records_per_second"])
	trails := second["trails"].([]any)
	require.Len(t, trails, 2)
	b := trails[0].(map[string]any)
	assert.Equal(t, "b/", b["trail"])
	assert.Equal(t, "6h1m30s", b["behind"])
	// 4 h read of the 10 h 1.5 min from the floor to now.
	assert.Equal(t, "39.9%", b["backfill"])
	// 3 h per minute is 179 s of trail per second beyond now's own second:
	// 6 h 1.5 min behind / 179 ≈ 2 min 1 s.
	assert.Equal(t, "2m1s", b["eta"])
	c := trails[1].(map[string]any)
	assert.Equal(t, "100.0%", c["backfill"])
	assert.Equal(t, "caught up", c["eta"])
}
