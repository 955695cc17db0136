package integrity

import (
	"fmt"
	"testing"
	"time"
)

// TestOverdueChecksCappedPerSweep: one sweep asks for at most maxChecks
// existence checks, the oldest first; the next sweeps ask for the rest.
func TestOverdueChecksCappedPerSweep(t *testing.T) {
	s := NewFolderState()
	const n = maxChecks + 44
	for i := range n {
		s.Expected[id(bucket, fmt.Sprintf("k%03d", i))] = Expected{Hash: "h", End: t0.Add(time.Duration(i) * time.Second)}
	}
	s.Latest = t0.Add(72 * time.Hour) // all expired
	first := s.Sweep(time.Hour, 48*time.Hour).Overdue
	if len(first) != maxChecks || first[0].Key != "k000" || first[maxChecks-1].Key != fmt.Sprintf("k%03d", maxChecks-1) {
		t.Fatalf("first sweep: %d checks (%s..%s), want the %d oldest", len(first), first[0].Key, first[len(first)-1].Key, maxChecks)
	}
	if second := s.Sweep(time.Hour, 48*time.Hour).Overdue; len(second) != n-maxChecks {
		t.Fatalf("second sweep: %d checks, want %d", len(second), n-maxChecks)
	}
	if len(s.Expected) != 0 {
		t.Fatalf("%d expected left", len(s.Expected))
	}
}

// TestOverdueBackoff: after a failed check, the next waits twice the grace
// period, then twice as long each time, at most the window.
func TestOverdueBackoff(t *testing.T) {
	for _, tt := range []struct {
		fails int
		want  time.Duration
	}{{1, 2 * time.Hour}, {2, 4 * time.Hour}, {3, 8 * time.Hour}, {5, 32 * time.Hour}, {6, 48 * time.Hour}, {40, 48 * time.Hour}} {
		if got := backoff(tt.fails, time.Hour, 48*time.Hour); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.fails, got, tt.want)
		}
	}
}
