package datadoglogsexporter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// ctRecord returns one CloudTrail-shaped record of ec2 RunInstances made by
// the principal arn ("" for a service event without userIdentity.arn), with
// resource host.name set when resHost is not empty.
func ctRecord(arn, resHost string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(ctattr.ResourceAccountID, "123456789012")
	rl.Resource().Attributes().PutStr(ctattr.ResourceRegion, "eu-west-1")
	if resHost != "" {
		rl.Resource().Attributes().PutStr("host.name", resHost)
	}
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	body := lr.Body().SetEmptyMap()
	body.PutStr("eventID", "e-1")
	body.PutStr("eventName", "RunInstances")
	body.PutStr("eventSource", "ec2.amazonaws.com")
	if arn != "" {
		body.PutEmptyMap("userIdentity").PutStr("arn", arn)
		lr.Attributes().PutStr(ctattr.AttrPrincipalARN, arn)
	}
	lr.Attributes().PutStr(ctattr.AttrEventID, "e-1")
	lr.Attributes().PutStr(ctattr.AttrRPCMethod, "RunInstances")
	lr.Attributes().PutStr(ctattr.AttrService, "ec2")
	lr.Attributes().PutStr(ctattr.AttrPriority, ctattr.PriorityNormal)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)))
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	return ld
}

// TestCloudTrailConventions: by default a CloudTrail entry carries what
// Datadog's Forwarder sends; each setting brings back the former behaviour.
func TestCloudTrailConventions(t *testing.T) {
	const (
		instanceARN = "arn:aws:sts::123456789012:assumed-role/web-role/i-0123456789abcdef0"
		userARN     = "arn:aws:sts::123456789012:assumed-role/admin/alice"
	)
	tests := []struct {
		name     string
		arn      string
		resHost  string
		cfg      func(c *CloudTrailConfig)
		service  string
		host     any // nil: no hostname field
		status   any // nil: no status field
		wantTags string
	}{
		{name: "defaults, instance-role session", arn: instanceARN, service: "cloudtrail", host: "i-0123456789abcdef0",
			wantTags: "aws_account:123456789012,region:eu-west-1,aws_service:ec2,event_name:RunInstances,priority:normal,env:test"},
		{name: "defaults, 8-hex instance", arn: "arn:aws:sts::123456789012:assumed-role/r/i-0a1b2c3d", service: "cloudtrail", host: "i-0a1b2c3d"},
		{name: "defaults, user session: no host, not even the collector's", arn: userARN, resHost: "collector-host", service: "cloudtrail"},
		{name: "defaults, service event without arn", service: "cloudtrail"},
		{name: "custom service", arn: userARN, cfg: func(c *CloudTrailConfig) { c.Service = "aws-audit" }, service: "aws-audit"},
		{name: "service from the AWS service", arn: userARN, cfg: func(c *CloudTrailConfig) { c.ServiceFromAWSService = true }, service: "ec2"},
		{name: "host from instance role off", arn: instanceARN, cfg: func(c *CloudTrailConfig) { c.HostFromInstanceRole = false }, service: "cloudtrail"},
		{name: "collector hostname opted in", arn: userARN, cfg: func(c *CloudTrailConfig) { c.UseCollectorHostname = true }, service: "cloudtrail", host: "collector-1"},
		{name: "collector hostname from the resource", arn: userARN, resHost: "collector-host", cfg: func(c *CloudTrailConfig) { c.UseCollectorHostname = true }, service: "cloudtrail", host: "collector-host"},
		{name: "instance wins over the collector hostname", arn: instanceARN, cfg: func(c *CloudTrailConfig) { c.UseCollectorHostname = true }, service: "cloudtrail", host: "i-0123456789abcdef0"},
		{name: "status opted in", arn: userARN, cfg: func(c *CloudTrailConfig) { c.SetStatus = true }, service: "cloudtrail", status: "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := startIntake(t)
			cfg := testConfig(in.URL)
			if tt.cfg != nil {
				tt.cfg(&cfg.CloudTrail)
			}
			te := newTestExporter(t, cfg)
			require.NoError(t, te.exp.pushLogs(context.Background(), ctRecord(tt.arn, tt.resHost)))
			require.Len(t, in.Logs(), 1)
			e := in.Logs()[0]
			assert.Equal(t, tt.service, e["service"])
			assert.Equal(t, tt.host, e["hostname"])
			assert.Equal(t, tt.status, e["status"])
			tags, _ := e["ddtags"].(string)
			if tt.wantTags != "" {
				assert.Equal(t, tt.wantTags, tags)
			}
			assert.NotContains(t, ","+tags, ",service:")
			assert.NotContains(t, ","+tags, ",account:")
			assert.Contains(t, tags, "aws_service:ec2")
		})
	}
}
