package datadoglogsexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

func startIntake(t *testing.T) *devstack.Intake {
	return datadogtest.StartIntake(t, time.Time{})
}

func testConfig(endpoint string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.API.Key = datadogtest.APIKey
	cfg.ClientConfig.Endpoint = endpoint
	cfg.ExtraTags = []string{"env:test"}
	cfg.Hostname = "collector-1"
	return cfg
}

type testExporter struct {
	exp  *logsExporter
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
}

// newTestExporter builds the exporter itself, without exporterhelper: the
// tests see every error pushLogs returns.
func newTestExporter(t testing.TB, cfg *Config) *testExporter {
	t.Helper()
	require.NoError(t, confmap.Validate(cfg))
	set, tel, logs := datadogtest.Settings(t, metadata.Type)
	exp, err := newLogsExporter(set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return &testExporter{exp: exp, tel: tel, logs: logs}
}

func (te *testExporter) counter(name string) int64 {
	return devstack.Counter(te.tel, name, "", "")
}

// cloudTrailLogs returns n CloudTrail-shaped log records with distinct IDs.
func cloudTrailLogs(n int, params string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ctattr.ResourceAccountID, "123456789012")
	rl.Resource().Attributes().PutStr(ctattr.ResourceRegion, "us-east-1")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for i := 0; i < n; i++ {
		lr := lrs.AppendEmpty()
		id := fmt.Sprintf("event-%05d", i)
		body := lr.Body().SetEmptyMap()
		body.PutStr("eventID", id)
		body.PutStr("eventName", "RunInstances")
		body.PutStr("eventSource", "ec2.amazonaws.com")
		body.PutStr("eventTime", "2026-11-20T10:00:00Z")
		if params != "" {
			body.PutEmptyMap("requestParameters").PutStr("policyDocument", params)
		}
		lr.Attributes().PutStr(ctattr.AttrEventID, id)
		lr.Attributes().PutStr(ctattr.AttrRPCMethod, "RunInstances")
		lr.Attributes().PutStr(ctattr.AttrService, "ec2")
		lr.Attributes().PutStr(ctattr.AttrPriority, ctattr.PriorityNormal)
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
	}
	return ld
}

// idCounts counts the accepted entries by eventID.
func idCounts(in *devstack.Intake) map[string]int {
	out := map[string]int{}
	for _, e := range in.Logs() {
		id, _ := e["eventID"].(string)
		out[id]++
	}
	return out
}
