package e2e

import (
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBodyModes runs the built collector once per body mode of the
// receiver (map, json, none): every record reaches the logs intake exactly
// once.
func TestBodyModes(t *testing.T) {
	for _, mode := range []string{"map", "json", "none"} {
		t.Run("body="+mode, func(t *testing.T) {
			t.Setenv("E2E_BODY", mode)
			s := newStack(t)
			tree := s.seed(t, 4, 50)
			col := s.collector(t, "bodymode.yaml")
			waitFor(t, col, 90*time.Second, "the logs", func() bool { return len(s.intake.Logs()) >= len(tree.IDs) })
			waitPolls(t, col, s.s3, tree) // more polls: nothing arrives twice
			require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))

			ids := entryIDs(t, s.intake.Logs())
			assert.Len(t, ids, len(tree.IDs))
			for _, id := range tree.IDs {
				assert.Equal(t, 1, ids[id], "record %s", id)
			}
			t.Logf("body %s: %d records, %d log entries", mode, len(tree.IDs), len(s.intake.Logs()))
		})
	}
}

// entryIDs counts the log entries per CloudTrail eventID, wherever the
// entry holds it: at the top level (a CloudTrail entry in the Forwarder's
// shape), as the flattened attribute, or in the message (a JSON body the
// exporter sends as text).
func entryIDs(t *testing.T, entries []map[string]any) map[string]int {
	ids := map[string]int{}
	for _, e := range entries {
		id, _ := e["eventID"].(string)
		if id == "" {
			id, _ = e["aws.cloudtrail.event_id"].(string)
		}
		if msg, ok := e["message"].(string); ok && id == "" {
			var rec struct{ EventID string }
			if json.Unmarshal([]byte(msg), &rec) == nil {
				id = rec.EventID
			}
		}
		require.NotEmpty(t, id, "an entry without an eventID: %v", e)
		ids[id]++
	}
	return ids
}
