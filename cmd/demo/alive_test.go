//go:build unix

package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAlive: a running process is alive, one that ended (and was reaped) is
// not. The same code runs on every Unix (the demo's darwin build used a nil
// signal, which always fails: every process read as dead).
func TestAlive(t *testing.T) {
	assert.True(t, alive(os.Getpid()))
	assert.True(t, alive(1), "init runs as another user: EPERM means it exists")
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	assert.False(t, alive(cmd.Process.Pid))
}
