package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// healthGate is the collector flag that makes health_check report the
// components' status.
const healthGate = "--feature-gates=+extension.healthcheck.useComponentStatus"

// healthStatus is what /health/status answers: the HTTP status and the
// receiver's own entry.
type healthStatus struct {
	code     int
	healthy  bool
	receiver string // status and error of receiver:awscloudtrail
}

func getHealth(port int) (healthStatus, error) {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health/status?verbose", port))
	if err != nil {
		return healthStatus{}, err
	}
	defer resp.Body.Close()
	var body struct {
		Healthy    bool `json:"healthy"`
		Components map[string]struct {
			Components map[string]struct {
				Healthy bool   `json:"healthy"`
				Status  string `json:"status"`
				Error   string `json:"error"`
			} `json:"components"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return healthStatus{}, err
	}
	st := healthStatus{code: resp.StatusCode, healthy: body.Healthy}
	if c, ok := body.Components["pipeline:logs"].Components["receiver:awscloudtrail"]; ok {
		st.receiver = c.Status + " " + c.Error
	}
	return st, nil
}

// healthCollector starts the built collector with testdata/config on a
// local stack whose bucket does not exist yet (before, optional, prepares
// the stack first); port serves /health/status.
func healthCollector(t *testing.T, config string, before func(*stack)) (s *stack, col *devstack.Collector, port int) {

	s = &stack{bin: binary(t), start: time.Now().UTC().Add(-time.Hour)}
	var err error
	s.s3, err = devstack.StartS3("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(s.s3.Close)
	s.intake, err = devstack.StartIntake("127.0.0.1:0", apiKey)
	require.NoError(t, err)
	t.Cleanup(s.intake.Close)
	port, err = devstack.FreePort()
	require.NoError(t, err)
	if before != nil {
		before(s)
	}

	logPath := filepath.Join(t.TempDir(), "collector.log")
	out, err := os.Create(logPath)
	require.NoError(t, err)
	col, err = devstack.StartCollector(s.bin, filepath.Join("testdata", config), map[string]string{
		"E2E_S3": s.s3.URL, "E2E_DD": s.intake.URL, "DD_API_KEY": apiKey, "E2E_HEALTH_PORT": strconv.Itoa(port),
		"E2E_START_TIME": s.start.Format(time.RFC3339), "AWS_ACCESS_KEY_ID": "e2e", "AWS_SECRET_ACCESS_KEY": "e2e",
		"AWS_EC2_METADATA_DISABLED": "true",
	}, out, healthGate)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = col.Stop(syscall.SIGTERM, 30*time.Second)
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("collector log:\n%s", tail(b, 8<<10))
		}
	})
	return s, col, port
}

// waitHealth waits up to timeout until /health/status on port meets cond.
func waitHealth(t *testing.T, col *devstack.Collector, port int, timeout time.Duration, what string, cond func(healthStatus) bool) {
	t.Helper()
	var last healthStatus
	var lastErr error
	waitFor(t, col, timeout, what, func() bool {
		last, lastErr = getHealth(port)
		return lastErr == nil && cond(last)
	})
	t.Logf("%s: HTTP %d healthy=%v receiver: %s", what, last.code, last.healthy, last.receiver)
}

// unhealthy: HTTP 500, with reason in the receiver's error.
func unhealthy(reason string) func(healthStatus) bool {
	return func(h healthStatus) bool {
		return h.code == http.StatusInternalServerError && !h.healthy && strings.Contains(h.receiver, reason)
	}
}

func healthy(h healthStatus) bool {
	return h.code == http.StatusOK && h.healthy && strings.HasPrefix(h.receiver, "StatusOK")
}

// TestHealthStatus: /health/status of the built collector turns unhealthy
// while the trail's bucket is missing and while listing it is denied, and
// healthy again once each is fixed.
func TestHealthStatus(t *testing.T) {
	s, col, port := healthCollector(t, "health.yaml", nil)
	waitHealth := func(what string, cond func(healthStatus) bool) {
		t.Helper()
		waitHealth(t, col, port, 60*time.Second, what, cond)
	}

	// The bucket does not exist yet.
	waitHealth("unhealthy while the bucket is missing", unhealthy("NoSuchBucket"))
	tree := s.seed(t, 2, 5) // creates the bucket
	waitHealth("healthy once the bucket exists", healthy)
	waitFor(t, col, 60*time.Second, "the records", func() bool { return len(s.intake.Logs()) >= len(tree.IDs) })

	s.s3.FailList(bucket, devstack.Fault{Status: 403, Code: "AccessDenied"})
	waitHealth("unhealthy while listing is denied", unhealthy("AccessDenied"))
	s.s3.FailList(bucket, devstack.Fault{Status: 403, Code: "AccessDenied", Times: 1}) // the last denial
	waitHealth("healthy once access is granted again", healthy)
}

// TestHealthStatusDiscovery: with trail discovery, a denied DescribeTrails
// makes /health/status unhealthy once recovery_duration (2 s) has passed
// since the call failed — not a poll interval (30 s) later, when the poll
// ends — and healthy again once DescribeTrails is allowed.
func TestHealthStatusDiscovery(t *testing.T) {
	const pollInterval = 30 * time.Second // testdata/health_discovery.yaml
	s, col, port := healthCollector(t, "health_discovery.yaml", func(s *stack) {
		s.s3.AWS().PutTrail(devstack.Trail{Name: "e2e", HomeRegion: "us-east-1", Account: "111111111111", Bucket: bucket, Logging: true})
		s.s3.AWS().Deny("DescribeTrails", true)
	})
	// The extension serves before the receiver starts: from here, the
	// receiver's first poll ends no sooner than pollInterval.
	waitFor(t, col, 60*time.Second, "the health endpoint", func() bool { _, err := getHealth(port); return err == nil })
	waitHealth(t, col, port, pollInterval-5*time.Second, "unhealthy before the first poll interval ends (25 s of margin for a loaded machine)", unhealthy("AccessDenied"))

	tree := s.seed(t, 2, 5)
	s.s3.AWS().Deny("DescribeTrails", false)
	waitHealth(t, col, port, 4*pollInterval, "healthy once DescribeTrails is allowed", healthy)
	waitFor(t, col, 60*time.Second, "the records", func() bool { return len(s.intake.Logs()) >= len(tree.IDs) })
}

// TestLagThroughBinary: the built collector's lag gauge, per trail, is
// now − the newest eventTime delivered, computed when scraped: it grows
// while the trail delivers nothing.
func TestLagThroughBinary(t *testing.T) {
	s, col, _ := healthCollector(t, "health.yaml", nil)
	tree := s.seed(t, 2, 5)
	waitFor(t, col, 60*time.Second, "the records", func() bool { return len(s.intake.Logs()) >= len(tree.IDs) })
	var newest time.Time
	for _, e := range s.intake.Logs() {
		et, _ := time.Parse(time.RFC3339, fmt.Sprint(e["eventTime"]))
		newest = maxTime(newest, et)
	}
	lag := func() float64 {
		v, err := col.Metrics(context.Background(), "otelcol_receiver_awscloudtrail_lag", `trail="e2e-bucket/"`)
		require.NoError(t, err)
		return v
	}
	// The intake can hold the newest records before the receiver notes
	// their delivery (it does when the exporter's ConsumeLogs returns and
	// the checkpoint is written; the exporter's queue may send first), and
	// an older file's records read 60 s more: wait for the newest.
	var first float64
	waitFor(t, col, 60*time.Second, "the lag gauge of the newest record", func() bool {
		first = lag()
		return first > 0 && first < time.Since(newest).Seconds()+30
	})
	require.InDelta(t, time.Since(newest).Seconds(), first, 30)
	waitFor(t, col, 60*time.Second, "the lag to grow while nothing is delivered", func() bool { return lag() >= first+1 })
	checkDashboard(t, col)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestNeverReadBucket: with the trail's bucket missing from the start, the
// built collector reports it on /health/status before the first poll
// interval (15 s) ends, serves the trail's lag from the start — counting
// from start_time and growing, so a stall alert fires — and serves the
// failure counters at 0, so that increase() sees their first failure.
func TestNeverReadBucket(t *testing.T) {
	const pollInterval = 15 * time.Second // testdata/health_slowpoll.yaml
	s, col, port := healthCollector(t, "health_slowpoll.yaml", nil)
	waitFor(t, col, 60*time.Second, "the health endpoint", func() bool { _, err := getHealth(port); return err == nil })
	waitHealth(t, col, port, pollInterval-5*time.Second, "unhealthy before the first poll interval ends", unhealthy("NoSuchBucket"))

	lag := func() (float64, int) {
		v, n, err := col.Series(context.Background(), "otelcol_receiver_awscloudtrail_lag", `trail="e2e-bucket/"`)
		require.NoError(t, err)
		return v, n
	}
	first, n := lag()
	require.Equal(t, 1, n, "the lag of a trail never read is served")
	require.InDelta(t, time.Since(s.start).Seconds(), first, 30, "now − start_time")
	waitFor(t, col, 30*time.Second, "the lag to grow while nothing is delivered", func() bool { v, _ := lag(); return v >= first+1 })

	failed, n, err := col.Series(context.Background(), "otelcol_receiver_awscloudtrail_objects_failed")
	require.NoError(t, err)
	assert.Zero(t, failed)
	assert.GreaterOrEqual(t, n, 11, "one series per reason, at 0")
}
