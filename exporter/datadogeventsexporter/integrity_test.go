package datadogeventsexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// TestIntegrityFinding: a finding of the receiver's integrity validation is
// an error event with normal priority titled by the finding, also with
// min_priority normal; a record with status valid is not special.
func TestIntegrityFinding(t *testing.T) {
	in := startIntake(t, now)
	cfg := testConfig(in.URL)
	cfg.MinPriority = ctattr.PriorityNormal
	te := newTestExporter(t, cfg, now)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ctattr.ResourceAccountID, "111111111111")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Body().SetStr("CloudTrail integrity: log file modified in 111111111111 us-east-1\nthe SHA-256 differs: s3://b/k")
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(now))
	lr.Attributes().PutStr(ctattr.AttrIntegrityStatus, "modified")
	lr.Attributes().PutStr(ctattr.AttrPriority, ctattr.PriorityNormal)
	require.NoError(t, te.exp.pushLogs(context.Background(), ld))
	require.Len(t, in.Events(), 1)
	ev := in.Events()[0]
	assert.Equal(t, "CloudTrail integrity: log file modified in 111111111111 us-east-1", ev.Title)
	assert.Equal(t, "error", ev.AlertType)
	assert.Equal(t, "normal", ev.Priority)
	assert.Contains(t, ev.Tags, "integrity_status:modified")
	assert.Contains(t, ev.Text, "s3://b/k")
}
