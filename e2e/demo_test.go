//go:build linux

package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// demoRun is cmd/demo (or make run) running with its output captured.
type demoRun struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func (d *demoRun) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.Write(b)
}

func (d *demoRun) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

var collectorPid = regexp.MustCompile(`\(pid (\d+),`)

// waitOutput waits until the output contains text and returns the pid of
// the collector the demo started.
func (d *demoRun) waitOutput(t *testing.T, text string) int {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !bytes.Contains([]byte(d.output()), []byte(text)) {
		select {
		case <-d.done:
			if !bytes.Contains([]byte(d.output()), []byte(text)) {
				t.Fatalf("the demo exited (%v) before printing %q:\n%s", d.err, text, d.output())
			}
		case <-time.After(50 * time.Millisecond):
		}
		require.False(t, time.Now().After(deadline), "no %q in:\n%s", text, d.output())
	}
	m := collectorPid.FindStringSubmatch(d.output())
	require.NotNil(t, m, d.output())
	pid, _ := strconv.Atoi(m[1])
	return pid
}

func (d *demoRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(2 * time.Minute):
		_ = d.cmd.Process.Kill()
		t.Fatalf("the demo did not exit:\n%s", d.output())
	}
	return d.cmd.ProcessState.ExitCode()
}

// startDemo runs cmd with TMPDIR=tmp from the repository root.
func startDemo(t *testing.T, tmp string, cmd *exec.Cmd, attr *syscall.SysProcAttr, stdio *os.File) *demoRun {
	t.Helper()
	d := &demoRun{cmd: cmd, done: make(chan struct{})}
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.SysProcAttr = attr
	if stdio != nil {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio, stdio, stdio
	} else {
		cmd.Stdout, cmd.Stderr = d, d
	}
	require.NoError(t, cmd.Start())
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
	})
	return d
}

func buildDemo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/demo").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// gone waits until no process has pid (a child that exited is reaped by
// init once its parent died; until then it may linger as a zombie).
func gone(t *testing.T, pid int, what string) {
	t.Helper()
	require.Eventually(t, func() bool {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err != nil || bytes.Contains(stat, []byte(") Z "))
	}, 60*time.Second, 50*time.Millisecond, what)
}

func leftovers(t *testing.T, tmp string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(tmp, "otelcol-cloudtrail-demo-*"))
	require.NoError(t, err)
	return m
}

// TestDemoExits: the demo removes its storage directory and stops the
// collector on each way it can end: after the summary, on SIGINT/SIGTERM;
// killed with SIGKILL, its collector dies with it (parent-death signal) and
// the next demo removes the directory left behind.
func TestDemoExits(t *testing.T) {
	bin := binary(t)
	demo := buildDemo(t)
	tmp := t.TempDir()
	args := func(extra ...string) *exec.Cmd {
		return exec.Command(demo, append([]string{"-collector", bin, "-log", filepath.Join(tmp, "collector.log")}, extra...)...)
	}

	t.Run("exit after summary", func(t *testing.T) {
		d := startDemo(t, tmp, args("-exit-after-summary"), nil, nil)
		pid := d.waitOutput(t, "Summary")
		assert.Equal(t, 0, d.wait(t), d.output())
		gone(t, pid, "the collector stopped")
		assert.Empty(t, leftovers(t, tmp))
	})
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			d := startDemo(t, tmp, args(), nil, nil)
			pid := d.waitOutput(t, "Press Ctrl-C")
			require.NotEmpty(t, leftovers(t, tmp), "the storage directory exists while the demo runs")
			require.NoError(t, d.cmd.Process.Signal(sig))
			assert.Equal(t, 0, d.wait(t), d.output())
			gone(t, pid, "the collector stopped")
			assert.Empty(t, leftovers(t, tmp))
		})
	}
	t.Run("SIGKILL", func(t *testing.T) {
		d := startDemo(t, tmp, args(), nil, nil)
		pid := d.waitOutput(t, "Waiting for the records")
		require.NoError(t, d.cmd.Process.Kill())
		d.wait(t)
		gone(t, pid, "the collector died with its parent")
		require.Len(t, leftovers(t, tmp), 1, "no code runs on SIGKILL: the directory stays until the next demo")

		next := startDemo(t, tmp, args("-exit-after-summary"), nil, nil)
		next.waitOutput(t, "Summary")
		assert.Equal(t, 0, next.wait(t), next.output())
		assert.Empty(t, leftovers(t, tmp), "the next demo removed the directory of the killed one")
	})
}

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	require.NoError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestMakeRunCtrlC types Ctrl-C into the terminal `make run` runs in, as a
// person does: make exits with status 0 (make itself is interrupted unless
// the demo alone receives the signal), the collector stops and the
// storage directory is removed.
func TestMakeRunCtrlC(t *testing.T) {
	bin := binary(t)
	tmp := t.TempDir()
	master, slave := openPTY(t)
	// -o build: the binary under test is already built.
	cmd := exec.Command("make", "-o", "build", "run", "DEMO_FLAGS=-collector "+bin+" -log "+filepath.Join(tmp, "collector.log"))
	d := startDemo(t, tmp, cmd, &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}, slave)
	go func() { _, _ = io.Copy(d, master) }()
	pid := d.waitOutput(t, "Press Ctrl-C")
	_, err := master.Write([]byte{0x03})
	require.NoError(t, err)
	assert.Equal(t, 0, d.wait(t), d.output())
	assert.Contains(t, d.output(), "Stopping.")
	gone(t, pid, "the collector stopped")
	assert.Empty(t, leftovers(t, tmp))
}
