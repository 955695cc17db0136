package main

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestProcessCPU: the CPU time read from /proc/PID/stat is the process's
// own, as getrusage reports it.
func TestProcessCPU(t *testing.T) {
	start := cpuTime()
	x := 0
	for cpuTime()-start < 200*time.Millisecond {
		for i := range 100000 {
			x += i
		}
	}
	_ = x
	got, want := processCPU(os.Getpid()), cpuTime()
	assert.InDelta(t, want.Seconds(), got.Seconds(), 0.05)
	assert.Equal(t, time.Duration(0), processCPU(-1))
}
