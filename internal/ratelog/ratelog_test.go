package ratelog

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestLimiter(t *testing.T) {
	// The test runs on the wall clock: each step below must happen within
	// one interval of the previous line (the loop before the first flush,
	// the check between two flushes, the last two warnings after the
	// flush). A second leaves a loaded machine ample room; 200 ms did not.
	const interval = time.Second
	core, logs := observer.New(zapcore.DebugLevel)
	l := New(zap.New(core), interval)
	for i := range 140 {
		l.Warn("old timestamps", zap.Int("i", i))
	}
	l.Warn("other")
	require.Equal(t, 2, logs.Len(), "the first of each kind at once")
	require.Eventually(t, func() bool { return logs.Len() == 3 }, 10*interval, 5*time.Millisecond,
		"the repetitions as one line when the interval ends")
	last := logs.All()[2]
	assert.Equal(t, "old timestamps", last.Message)
	assert.Equal(t, int64(139), last.ContextMap()["repeated"])
	assert.Equal(t, int64(139), last.ContextMap()["i"], "with the fields of the last repetition")

	// After a quiet interval the next one is written at once again.
	require.Eventually(t, func() bool { l.Warn("other"); return logs.Len() == 4 }, 10*interval, 50*time.Millisecond)
	l.Warn("old timestamps")
	l.Warn("old timestamps")
	l.Stop()
	assert.Equal(t, int64(2), logs.All()[logs.Len()-1].ContextMap()["repeated"], "Stop writes what is still counted (the line at the end of the interval was its line)")
}
