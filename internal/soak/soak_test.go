package soak

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	apiKey = "soak0123456789abcdef0123456789ab"
	bucket = "soak-trail"
	// shortScenarios is how many scenarios `make test` runs.
	shortScenarios = 6
)

// totals are the counts a run reports (the lead quotes them).
type totals struct {
	mu                                   sync.Mutex
	scenarios, failed                    int
	polling, sqsMode, fanout, persistent int
	stops, crashes, lateFiles            int
	records, logDups, eventDups          int
	faults                               map[string]int
	failures                             []string
}

func (t *totals) add(f func(t *totals)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(t)
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	seed := uint64(time.Now().UnixNano() % 1_000_000_000)
	if s := os.Getenv("SOAK_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q: %v", s, err)
		}
		seed = v
	}
	var duration time.Duration
	if s := os.Getenv("SOAK_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("SOAK_DURATION=%q: %v", s, err)
		}
		duration = d
	}
	maxScenarios := shortScenarios
	if duration > 0 {
		maxScenarios = 1 << 30
	}
	if s := os.Getenv("SOAK_SCENARIOS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("SOAK_SCENARIOS=%q: %v", s, err)
		}
		maxScenarios = n
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSOAK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	tot := &totals{faults: map[string]int{}}
	start := time.Now()
	t.Logf("soak: first seed %d, %s", seed, map[bool]string{true: "for " + duration.String(), false: fmt.Sprintf("%d scenarios", maxScenarios)}[duration > 0])
	for i := 0; i < maxScenarios; i++ {
		if duration > 0 && time.Since(start) > duration {
			break
		}
		s := seed + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) { runScenario(t, s, tot) })
	}
	tot.mu.Lock()
	defer tot.mu.Unlock()
	var kinds []string
	for k := range tot.faults {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var fs []string
	for _, k := range kinds {
		fs = append(fs, fmt.Sprintf("%s=%d", k, tot.faults[k]))
	}
	t.Logf("soak summary: first seed %d, %s: %d scenarios (%d polling, %d SQS; %d fan-out to both exporters, %d persistent queues), %d failed; %d graceful stops, %d crashes, %d late files; faults injected: %s; %d records checked, %d log duplicates, %d event duplicates",
		seed, time.Since(start).Round(time.Second), tot.scenarios, tot.polling, tot.sqsMode, tot.fanout, tot.persistent, tot.failed,
		tot.stops, tot.crashes, tot.lateFiles, strings.Join(fs, " "), tot.records, tot.logDups, tot.eventDups)
	for _, f := range tot.failures {
		t.Logf("FAILED %s", f)
	}
}
