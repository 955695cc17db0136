package devstack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Collector is a collector binary running as a child process.
type Collector struct {
	cmd         *exec.Cmd
	done        chan struct{}
	err         error
	MetricsPort int
}

// FreePort returns a free TCP port on the loopback interface.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartCollector runs binary with --config config and args, the environment
// env added to this process's, and its output written to out. The
// collector's own metrics are served on MetricsPort (DEMO_METRICS_PORT in env).
func StartCollector(binary, config string, env map[string]string, out io.Writer, args ...string) (*Collector, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, append([]string{"--config", config}, args...)...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "DEMO_METRICS_PORT="+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &Collector{cmd: cmd, done: make(chan struct{}), MetricsPort: port}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Pid is the process ID of the collector.
func (c *Collector) Pid() int { return c.cmd.Process.Pid }

// Done is closed when the process has exited.
func (c *Collector) Done() <-chan struct{} { return c.done }

// Stop sends sig (SIGTERM for a graceful stop, SIGKILL for a crash) and
// waits up to timeout for the process to exit.
func (c *Collector) Stop(sig syscall.Signal, timeout time.Duration) error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
		if sig == syscall.SIGKILL {
			return nil
		}
		return c.err
	case <-time.After(timeout):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("collector did not stop within %s after %s", timeout, sig)
	}
}

// Metrics scrapes the collector's Prometheus endpoint and sums the samples
// of every metric whose name starts with prefix and whose labels contain
// every label="value" given.
func (c *Collector) Metrics(ctx context.Context, prefix string, labels ...string) (float64, error) {
	sum, _, err := c.Series(ctx, prefix, labels...)
	return sum, err
}

// Series is Metrics that also counts the samples summed: 0 when no such
// series is served (yet).
func (c *Collector) Series(ctx context.Context, prefix string, labels ...string) (sum float64, samples int, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/metrics", c.MetricsPort), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(line, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		fields := strings.Fields(line)
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			sum += v
			samples++
		}
	}
	return sum, samples, sc.Err()
}
