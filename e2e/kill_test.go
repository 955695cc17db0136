package e2e

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// TestRepeatedSIGKILL kills the collector (durable setup: file_storage
// checkpoints and persistent sending queues) several times at random
// points of one backfill, restarting it on the same storage each time:
// no record may be lost, and each kill may resend at most what was in
// flight. SOAK_SEED replays the kill points.
func TestRepeatedSIGKILL(t *testing.T) {
	s := newStack(t)
	seed := uint64(time.Now().UnixNano() % 1_000_000_000)
	if v, err := strconv.ParseUint(os.Getenv("SOAK_SEED"), 10, 64); err == nil {
		seed = v
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x6b111))
	t.Logf("seed %d (replay: SOAK_SEED=%d make e2e)", seed, seed)
	tree := s.seed(t, 30, 100)
	total := len(tree.IDs)
	var wantEvents []string // durable.yaml: min_priority normal, read-only calls excluded
	for _, id := range tree.IDs {
		info := tree.Records[id]
		if (slices.Contains(ctattr.DefaultNormalServices, info.Service) || info.Insight) && !info.ReadOnly {
			wantEvents = append(wantEvents, id)
		}
	}

	kills := 3 + rng.IntN(3)
	for k := 0; k < kills; k++ {
		col := s.collector(t, "durable.yaml")
		// A random point: now and then early (during start-up or the first
		// reads), otherwise once a random share of the backfill arrived.
		target := int(float64(total) * (float64(k) + rng.Float64()) / float64(kills+1))
		wait := 60 * time.Second
		if rng.IntN(4) == 0 {
			target, wait = total, time.Duration(300+rng.IntN(3000))*time.Millisecond
		}
		deadline := time.Now().Add(wait)
		for time.Now().Before(deadline) && len(s.intake.Logs()) < target {
			select {
			case <-col.Done():
				t.Fatalf("the collector exited before kill %d", k+1)
			case <-time.After(20 * time.Millisecond):
			}
		}
		before := len(s.intake.Logs())
		require.NoError(t, col.Stop(syscall.SIGKILL, 30*time.Second))
		t.Logf("kill %d of %d after %d log entries (%d distinct records of %d)", k+1, kills, before, len(logIDs(s.intake)), total)
	}

	col := s.collector(t, "durable.yaml")
	complete := func() bool {
		if len(logIDs(s.intake)) < total {
			return false
		}
		got := map[string]bool{}
		for _, ev := range s.intake.Events() {
			got[eventID(ev)] = true
		}
		for _, id := range wantEvents {
			if !got[id] {
				return false
			}
		}
		return true
	}
	// Wait until everything arrived, or nothing arrived for 20 s (then
	// the checks below say what is missing).
	last, lastChange, hardStop := -1, time.Now(), time.Now().Add(5*time.Minute)
	for !complete() && time.Since(lastChange) < 20*time.Second && time.Now().Before(hardStop) {
		if n := len(s.intake.Logs()) + len(s.intake.Events()); n != last {
			last, lastChange = n, time.Now()
		}
		select {
		case <-col.Done():
			t.Fatal("the collector exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))

	ids := logIDs(s.intake)
	dups, lost := 0, 0
	for _, id := range tree.IDs {
		if ids[id] == 0 {
			lost++
		}
		dups += max(ids[id]-1, 0)
	}
	assert.Zero(t, lost, "records lost")
	assert.Len(t, ids, total-lost, "no entry but the stored records")
	evCount := map[string]int{}
	for _, ev := range s.intake.Events() {
		evCount[eventID(ev)]++
	}
	evDups, evLost := 0, 0
	for _, id := range wantEvents {
		if evCount[id] == 0 {
			evLost++
		}
		evDups += max(evCount[id]-1, 0)
	}
	assert.Zero(t, evLost, "events lost")
	// Per kill, what was in flight: one receiver batch per worker (4 × 500)
	// and the requests the queue consumers were sending (2 × 2000).
	const perKill = 4*500 + 2*2000
	t.Logf("%d SIGKILLs (seed %d): %d records, %d lost, %d log duplicates; %d events, %d lost, %d event duplicates (bound %d per kind)",
		kills, seed, total, lost, dups, len(wantEvents), evLost, evDups, kills*perKill)
	assert.LessOrEqual(t, dups, kills*perKill)
	assert.LessOrEqual(t, evDups, kills*perKill)
}
