package datadog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

func TestInstanceFromARN(t *testing.T) {
	tests := []struct {
		name, arn, want string
	}{
		{"17 hex", "arn:aws:sts::123456789012:assumed-role/web-role/i-0123456789abcdef0", "i-0123456789abcdef0"},
		{"8 hex", "arn:aws:sts::123456789012:assumed-role/web-role/i-0a1b2c3d", "i-0a1b2c3d"},
		{"gov partition", "arn:aws-us-gov:sts::123456789012:assumed-role/r/i-0123456789abcdef0", "i-0123456789abcdef0"},
		{"session not an instance", "arn:aws:sts::123456789012:assumed-role/admin/alice", ""},
		{"9 hex", "arn:aws:sts::123456789012:assumed-role/r/i-0a1b2c3d4", ""},
		{"upper-case hex", "arn:aws:sts::123456789012:assumed-role/r/i-0123456789ABCDEF0", ""},
		{"suffix after the id", "arn:aws:sts::123456789012:assumed-role/r/i-0a1b2c3d/x", ""},
		{"no role", "arn:aws:sts::123456789012:assumed-role/i-0a1b2c3d", ""},
		{"iam user named like an instance", "arn:aws:iam::123456789012:user/i-0a1b2c3d", ""},
		{"not sts", "arn:aws:iam::123456789012:assumed-role/r/i-0a1b2c3d", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, InstanceFromARN(tt.arn))
		})
	}
}

func TestRecordTags(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want []string
	}{
		{"cloudtrail", Record{CloudTrail: true, Account: "123456789012", Region: "eu-west-1", Service: "ec2", EventName: "RunInstances", Priority: "normal"},
			[]string{"aws_account:123456789012", "region:eu-west-1", "aws_service:ec2", "event_name:RunInstances", "priority:normal", "env:prod"}},
		{"missing fields are left out", Record{CloudTrail: true, Account: "123456789012", EventName: "X"},
			[]string{"aws_account:123456789012", "event_name:X", "env:prod"}},
		{"not cloudtrail: the user's tags only", Record{Service: "billing"}, []string{"env:prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.rec.Tags([]string{"env:prod"}))
		})
	}
}

// TestReadRecordRecognisesCloudTrail: a record is the receiver's by an
// attribute only the receiver sets (aws.cloudtrail.priority on every
// record, aws.cloudtrail.event_id when the record has eventID).
func TestReadRecordRecognisesCloudTrail(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]any
		want  bool
	}{
		{"event id and priority", map[string]any{ctattr.AttrEventID: "e", ctattr.AttrPriority: "low"}, true},
		{"no event id (priority only)", map[string]any{ctattr.AttrPriority: "normal", ctattr.AttrRPCMethod: "RunInstances"}, true},
		{"event id only", map[string]any{ctattr.AttrEventID: "e"}, true},
		{"gRPC log with rpc.service and rpc.method", map[string]any{"rpc.system": "grpc", "rpc.service": "svc", "rpc.method": "Get"}, false},
		{"integrity finding (it has a priority)", map[string]any{ctattr.AttrIntegrityStatus: "missing", ctattr.AttrS3Bucket: "b", ctattr.AttrPriority: "normal"}, false},
		{"no attributes", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := plog.NewLogRecord()
			require.NoError(t, lr.Attributes().FromRaw(tt.attrs))
			lr.Body().SetStr(`{"eventName":"RunInstances"}`)
			assert.Equal(t, tt.want, ReadRecord(pcommon.NewResource(), lr).CloudTrail)
		})
	}
}

// TestReadRecordExtra: the receiver's attributes are not Extra (each
// alone, whichever case of ReadRecord's switch finds it); another
// attribute is.
func TestReadRecordExtra(t *testing.T) {
	contract := []string{
		ctattr.AttrEventVersion, ctattr.AttrEventID, ctattr.AttrAPIVersion, ctattr.AttrRPCMethod, ctattr.AttrRPCSystem,
		ctattr.AttrRPCService, ctattr.AttrRequestID, ctattr.AttrEventCategory, ctattr.AttrReadOnly, ctattr.AttrManagement,
		ctattr.AttrSourceAddress, ctattr.AttrUserAgent, ctattr.AttrSessionConsole, ctattr.AttrTLSVersion, ctattr.AttrTLSCipher,
		ctattr.AttrServerAddress, ctattr.AttrErrorCode, ctattr.AttrErrorMessage, ctattr.AttrSharedEventID,
		ctattr.AttrRequestParameters, ctattr.AttrResponseElements, ctattr.AttrAdditionalEventData, ctattr.AttrResources,
		ctattr.AttrInsightDetails, ctattr.AttrUserID, ctattr.AttrUserName, ctattr.AttrIdentityAccountID, ctattr.AttrInvokedBy,
		ctattr.AttrAccessKeyID, ctattr.AttrIdentityStoreARN, ctattr.AttrPrincipalID, ctattr.AttrPrincipalARN,
		ctattr.AttrPrincipalType, ctattr.AttrSessionMFA, ctattr.AttrSessionCreationDate, ctattr.AttrIssuerType,
		ctattr.AttrIssuerPrincipalID, ctattr.AttrIssuerARN, ctattr.AttrIssuerAccountID, ctattr.AttrIssuerUserName,
		ctattr.AttrPriority, ctattr.AttrService, ctattr.AttrS3Bucket, ctattr.AttrS3Key,
	}
	tests := map[string]bool{"env": true, "service.name": true, "aws.cloudtrail.other": true, "rpc": true}
	for _, k := range contract {
		require.True(t, ctattr.IsContract(k), k)
		tests[k] = false
	}
	for k, want := range tests {
		lr := plog.NewLogRecord()
		lr.Attributes().PutStr(ctattr.AttrPriority, "low")
		lr.Attributes().PutStr(k, "x")
		assert.Equal(t, want, ReadRecord(pcommon.NewResource(), lr).Extra, k)
	}
}
