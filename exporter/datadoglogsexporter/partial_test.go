package datadoglogsexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// shape is how records are spread over resources and scopes.
type shape struct {
	resources, scopes, records int // records per scope
}

func (s shape) total() int { return s.resources * s.scopes * s.records }

// multiResourceLogs returns CloudTrail-shaped records spread over several
// resources (accounts) and scope logs, with distinct event IDs in order.
func multiResourceLogs(s shape) plog.Logs {
	template := cloudTrailLogs(1, "").ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	return datadogtest.MultiResource(s.resources, s.scopes, s.records, "us-east-1", func(n, r, sc int, lr plog.LogRecord) {
		template.CopyTo(lr)
		id := fmt.Sprintf("r%d-s%d-%05d", r, sc, n)
		lr.Body().Map().PutStr("eventID", id)
		lr.Attributes().PutStr(ctattr.AttrEventID, id)
	})
}

// eventIDs returns the eventIDs of ld's records.
func eventIDs(ld plog.Logs) map[string]int {
	return datadogtest.CountBy(ld, func(lr plog.LogRecord) (string, bool) {
		v, _ := lr.Attributes().Get(ctattr.AttrEventID)
		return v.Str(), true
	})
}

var partialShapes = []struct {
	name       string
	shape      shape
	maxEntries int
}{
	{name: "2 resources x 15 records", shape: shape{resources: 2, scopes: 1, records: 15}, maxEntries: 10},
	{name: "3 resources x 2 scopes x 7 records", shape: shape{resources: 3, scopes: 2, records: 7}, maxEntries: 10},
	{name: "4 resources x 3 scopes x 1 record", shape: shape{resources: 4, scopes: 3, records: 1}, maxEntries: 5},
	{name: "requests end on resource boundaries", shape: shape{resources: 3, scopes: 1, records: 10}, maxEntries: 10},
}

// TestPartialFailureAcrossResources: a request that fails in a batch of
// several resources and scopes makes pushLogs return exactly the records
// the intake has not accepted, wherever the failing request is.
func TestPartialFailureAcrossResources(t *testing.T) {
	for _, tt := range partialShapes {
		requests := (tt.shape.total() + tt.maxEntries - 1) / tt.maxEntries
		for fail := 0; fail < requests; fail++ {
			for _, mode := range bodyModes {
				t.Run(fmt.Sprintf("%s/request %d of %d fails/%s body", tt.name, fail+1, requests, mode), func(t *testing.T) {
					in := startIntake(t)
					in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, After: fail, Times: 1})
					cfg := testConfig(in.URL)
					cfg.MaxEntries = tt.maxEntries
					te := newTestExporter(t, cfg)
					ld := inBodyMode(mode, multiResourceLogs(tt.shape))
					all := eventIDs(ld)

					err := te.exp.pushLogs(context.Background(), ld)
					rest := datadogtest.AssertSplit(t, err, idCounts(in), eventIDs, all)
					require.NoError(t, te.exp.pushLogs(context.Background(), rest))
					assertExactlyOnce(t, in, all)
				})
			}
		}
	}
}

// TestPartialFailureThroughExporterHelper: the same failures with the
// collector's retry (no queue, so ConsumeLogs returns when all is sent).
func TestPartialFailureThroughExporterHelper(t *testing.T) {
	for _, tt := range partialShapes {
		requests := (tt.shape.total() + tt.maxEntries - 1) / tt.maxEntries
		for fail := 0; fail < requests; fail++ {
			t.Run(fmt.Sprintf("%s/request %d of %d fails", tt.name, fail+1, requests), func(t *testing.T) {
				in := startIntake(t)
				in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, After: fail, Times: 1})
				cfg := testConfig(in.URL)
				cfg.MaxEntries = tt.maxEntries
				cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
				cfg.RetryConfig.InitialInterval = time.Millisecond
				cfg.RetryConfig.MaxInterval = 5 * time.Millisecond
				exp := createExporter(t, cfg, nil)
				ld := multiResourceLogs(tt.shape)
				all := eventIDs(ld)
				require.NoError(t, exp.ConsumeLogs(context.Background(), ld))
				assertExactlyOnce(t, in, all)
				assert.Equal(t, 1, in.Rejected(503))
			})
		}
	}
}

func assertExactlyOnce(t *testing.T, in *devstack.Intake, want map[string]int) {
	t.Helper()
	datadogtest.AssertExactlyOnce(t, idCounts(in), want)
}

// TestTimeoutIsPerRequest: `timeout` bounds each request, not a batch of
// several requests: a batch that takes longer than the timeout in all is
// sent without a request being cut (and maybe stored twice).
func TestTimeoutIsPerRequest(t *testing.T) {
	in := startIntake(t)
	// Each of the 5 requests takes 700 ms, 3.5 s in all: longer than the
	// timeout, while each request stays 2.3 s within it (a loaded machine).
	in.SetDelay(700 * time.Millisecond)
	cfg := testConfig(in.URL)
	cfg.MaxEntries = 10
	cfg.ClientConfig.Timeout = 3 * time.Second
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.InitialInterval = time.Millisecond
	exp := createExporter(t, cfg, nil)
	ld := multiResourceLogs(shape{resources: 5, scopes: 1, records: 10})
	require.NoError(t, exp.ConsumeLogs(context.Background(), ld))
	assertExactlyOnce(t, in, eventIDs(ld))
	assert.Equal(t, 5, in.Requests("/api/v2/logs"), "no request was cut by the timeout and sent again")
}
