package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProgressThroughBinary: during a slow backfill the built collector
// writes one progress line per 30 s with totals, the rate and, per trail,
// its position, backfill percentage and ETA.
func TestProgressThroughBinary(t *testing.T) {
	s := newStack(t)
	s.seed(t, 40, 5)
	s.s3.SetGetLatency(400 * time.Millisecond) // one worker: ~2.5 objects/s, 160 objects
	col := s.collector(t, "progress.yaml")
	var line map[string]any
	waitFor(t, col, 90*time.Second, "a progress line", func() bool {
		f, err := os.Open(s.logPath)
		require.NoError(t, err)
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if _, fields, ok := strings.Cut(sc.Text(), "CloudTrail progress\t"); ok {
				require.NoError(t, json.Unmarshal([]byte(fields), &line))
				t.Logf("progress line: %s", fields)
				return true
			}
		}
		return false
	})
	assert.Positive(t, line["objects_total"])
	assert.Positive(t, line["records_total"])
	assert.Positive(t, line["records_per_second"])
	trails, _ := line["trails"].([]any)
	require.Len(t, trails, 1, "one trail")
	tr := trails[0].(map[string]any)
	assert.Equal(t, "e2e-bucket/", tr["trail"])
	assert.Regexp(t, `^\d+\.\d%$`, tr["backfill"])
	assert.NotEmpty(t, tr["eta"])
	assert.NotEmpty(t, tr["position"])
	assert.NotContains(t, []string{"100.0%"}, tr["backfill"], "the backfill is not done after 30 s")
}
