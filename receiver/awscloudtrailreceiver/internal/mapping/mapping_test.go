package mapping

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

func logRecord(t *testing.T, record string) plog.LogRecord {
	t.Helper()
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(record), &raw))
	lr := plog.NewLogRecord()
	require.NoError(t, lr.Body().SetEmptyMap().FromRaw(raw))
	return lr
}

func TestMap(t *testing.T) {
	const full = `{"eventVersion":"1.09","eventID":"id-1","eventTime":"2026-11-20T10:11:12Z","eventName":"TerminateInstances",
	"eventType":"AwsApiCall","eventSource":"ec2.amazonaws.com","apiVersion":"2016-11-15","requestID":"req-1","eventCategory":"Management",
	"readOnly":false,"managementEvent":true,"sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","sessionCredentialFromConsole":"true",
	"errorCode":"Client.UnauthorizedOperation","errorMessage":"denied","sharedEventID":"shared-1","recipientAccountId":"123456789012","awsRegion":"eu-west-1",
	"userIdentity":{"type":"AssumedRole","principalId":"AROA:alice","arn":"arn:aws:sts::123456789012:assumed-role/Admin/alice","accountId":"123456789012",
	  "accessKeyId":"ASIA1","userName":"alice","userId":"uid","invokedBy":"cloudformation.amazonaws.com","identityStoreArn":"arn:idstore",
	  "sessionContext":{"attributes":{"mfaAuthenticated":"true","creationDate":"2026-11-20T09:00:00Z"},
	    "sessionIssuer":{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::123456789012:role/Admin","accountId":"123456789012","userName":"Admin"}}},
	"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"ec2.eu-west-1.amazonaws.com"},
	"requestParameters":{"instancesSet":{"items":[{"instanceId":"i-1"}]}},"responseElements":{"ok":true},"additionalEventData":{"x":1},
	"resources":[{"accountId":"123456789012","type":"AWS::EC2::Instance","ARN":"arn:aws:ec2:eu-west-1:123456789012:instance/i-1"}]}`
	base := map[string]any{
		ctattr.AttrEventVersion: "1.09", ctattr.AttrEventID: "id-1", ctattr.AttrRPCMethod: "TerminateInstances", ctattr.AttrRPCSystem: "AwsApiCall",
		ctattr.AttrRPCService: "ec2.amazonaws.com", ctattr.AttrAPIVersion: "2016-11-15", ctattr.AttrRequestID: "req-1", ctattr.AttrEventCategory: "Management",
		ctattr.AttrReadOnly: false, ctattr.AttrManagement: true, ctattr.AttrSourceAddress: "198.51.100.7", ctattr.AttrUserAgent: "aws-cli/2", ctattr.AttrSessionConsole: true,
		ctattr.AttrErrorCode: "Client.UnauthorizedOperation", ctattr.AttrErrorMessage: "denied", ctattr.AttrSharedEventID: "shared-1",
		ctattr.AttrPrincipalType: "AssumedRole", ctattr.AttrPrincipalID: "AROA:alice", ctattr.AttrPrincipalARN: "arn:aws:sts::123456789012:assumed-role/Admin/alice",
		ctattr.AttrIdentityAccountID: "123456789012", ctattr.AttrAccessKeyID: "ASIA1", ctattr.AttrUserName: "alice", ctattr.AttrUserID: "uid",
		ctattr.AttrInvokedBy: "cloudformation.amazonaws.com", ctattr.AttrIdentityStoreARN: "arn:idstore",
		ctattr.AttrSessionMFA: true, ctattr.AttrSessionCreationDate: "2026-11-20T09:00:00Z", ctattr.AttrIssuerType: "Role", ctattr.AttrIssuerPrincipalID: "AROA",
		ctattr.AttrIssuerARN: "arn:aws:iam::123456789012:role/Admin", ctattr.AttrIssuerAccountID: "123456789012", ctattr.AttrIssuerUserName: "Admin",
		ctattr.AttrTLSVersion: "1.3", ctattr.AttrTLSCipher: "TLS_AES_128_GCM_SHA256", ctattr.AttrServerAddress: "ec2.eu-west-1.amazonaws.com",
		ctattr.AttrService: "ec2", ctattr.AttrPriority: ctattr.PriorityNormal,
	}
	withPayload := map[string]any{}
	for k, v := range base {
		withPayload[k] = v
	}
	withPayload[ctattr.AttrRequestParameters] = map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": "i-1"}}}}
	withPayload[ctattr.AttrResponseElements] = map[string]any{"ok": true}
	withPayload[ctattr.AttrAdditionalEventData] = map[string]any{"x": 1.0}
	withPayload[ctattr.AttrResources] = []any{map[string]any{"account.id": "123456789012", "type": "AWS::EC2::Instance", "arn": "arn:aws:ec2:eu-west-1:123456789012:instance/i-1"}}

	tests := []struct {
		name        string
		record      string
		copyPayload bool
		account     string
		region      string
		wantAttrs   map[string]any
		want        Result
		severity    plog.SeverityNumber
	}{
		{name: "every field", record: full, wantAttrs: base, severity: plog.SeverityNumberWarn,
			want: Result{AccountID: "123456789012", Region: "eu-west-1", Priority: ctattr.PriorityNormal, EventTime: time.Date(2026, 11, 20, 10, 11, 12, 0, time.UTC)}},
		{name: "payload copied", record: full, copyPayload: true, wantAttrs: withPayload, severity: plog.SeverityNumberWarn,
			want: Result{AccountID: "123456789012", Region: "eu-west-1", Priority: ctattr.PriorityNormal, EventTime: time.Date(2026, 11, 20, 10, 11, 12, 0, time.UTC)}},
		{name: "low priority, no error, fallbacks from the key", account: "999999999999", region: "us-east-2",
			record:    `{"eventID":"e","eventTime":"2026-11-20T10:11:12.345Z","eventSource":"kms.amazonaws.com","readOnly":"true"}`,
			wantAttrs: map[string]any{ctattr.AttrEventID: "e", ctattr.AttrRPCService: "kms.amazonaws.com", ctattr.AttrReadOnly: true, ctattr.AttrService: "kms", ctattr.AttrPriority: ctattr.PriorityLow},
			severity:  plog.SeverityNumberInfo,
			want:      Result{AccountID: "999999999999", Region: "us-east-2", Priority: ctattr.PriorityLow, EventTime: time.Date(2026, 11, 20, 10, 11, 12, 345e6, time.UTC)}},
		{name: "insight takes the service from insightDetails",
			record:    `{"eventID":"i","eventType":"AwsCloudTrailInsight","eventTime":"2026-11-20T10:11:12Z","insightDetails":{"eventSource":"iam.amazonaws.com"}}`,
			wantAttrs: map[string]any{ctattr.AttrEventID: "i", ctattr.AttrRPCSystem: "AwsCloudTrailInsight", ctattr.AttrService: "iam", ctattr.AttrPriority: ctattr.PriorityNormal},
			severity:  plog.SeverityNumberInfo,
			want:      Result{Priority: ctattr.PriorityNormal, EventTime: time.Date(2026, 11, 20, 10, 11, 12, 0, time.UTC)}},
		{name: "missing and invalid eventTime", record: `{"eventID":"x","eventTime":"yesterday"}`,
			wantAttrs: map[string]any{ctattr.AttrEventID: "x", ctattr.AttrPriority: ctattr.PriorityLow}, severity: plog.SeverityNumberInfo,
			want: Result{Priority: ctattr.PriorityLow}},
		{name: "fields of the wrong type are ignored", record: `{"eventID":7,"userIdentity":"root","tlsDetails":[1],"errorCode":""}`,
			wantAttrs: map[string]any{ctattr.AttrPriority: ctattr.PriorityLow}, severity: plog.SeverityNumberInfo, want: Result{Priority: ctattr.PriorityLow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := logRecord(t, tt.record)
			body := lr.Body().Map().AsRaw()
			res := New(ctattr.DefaultNormalServices, tt.copyPayload).Map(lr, tt.account, tt.region)
			assert.Equal(t, tt.want, res)
			assert.Equal(t, tt.wantAttrs, lr.Attributes().AsRaw())
			assert.Equal(t, tt.severity, lr.SeverityNumber())
			assert.Equal(t, body, lr.Body().Map().AsRaw(), "the body is left as it was")
			if !res.EventTime.IsZero() {
				assert.Equal(t, res.EventTime, lr.Timestamp().AsTime())
			} else {
				assert.Zero(t, lr.Timestamp())
			}
		})
	}
}

func TestServiceName(t *testing.T) {
	for in, want := range map[string]string{"ec2.amazonaws.com": "ec2", "s3-outposts.amazonaws.com": "s3-outposts", "": "", "custom": "custom"} {
		assert.Equal(t, want, ServiceName(in))
	}
}

func TestParseTime(t *testing.T) {
	for in, ok := range map[string]bool{"2026-02-29T00:00:00Z": false, "2024-02-29T23:59:59Z": true, "2026-13-01T00:00:00Z": false, "2026-11-20T10:11:12+01:00": true, "": false} {
		_, got := parseTime(in)
		assert.Equal(t, ok, got, in)
	}
}

func BenchmarkMap(b *testing.B) {
	lr := plog.NewLogRecord()
	var raw map[string]any
	_ = json.Unmarshal([]byte(`{"eventVersion":"1.09","eventID":"id-1","eventTime":"2026-11-20T10:11:12Z","eventName":"RunInstances","eventSource":"ec2.amazonaws.com","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}}`), &raw)
	_ = lr.Body().SetEmptyMap().FromRaw(raw)
	m := New(ctattr.DefaultNormalServices, false)
	b.ReportAllocs()
	for b.Loop() {
		lr.Attributes().Clear()
		m.Map(lr, "", "")
	}
}
