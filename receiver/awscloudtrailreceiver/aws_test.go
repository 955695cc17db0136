package awscloudtrailreceiver

import (
	"errors"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestLogAWSError: every failed AWS call is logged with its call and
// resource; a denied one names the IAM action, with what happens next.
func TestLogAWSError(t *testing.T) {
	call := awsCall{"GetObject", "s3://b/k", "s3:GetObject", "it is retried later"}
	for _, tc := range []struct {
		name      string
		err       error
		want      string
		reason    string
		retryable bool
	}{
		{"denied", &smithy.GenericAPIError{Code: "AccessDenied"},
			"GetObject on s3://b/k was denied: the receiver's identity needs s3:GetObject; it is retried later", reasonAccessDenied, true},
		{"gone", &smithy.GenericAPIError{Code: "NoSuchKey"}, "GetObject on s3://b/k failed; it is retried later", reasonNotFound, false},
		{"network", errors.New("connection reset"), "GetObject on s3://b/k failed; it is retried later", reasonS3Error, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			reason, retryable := logAWSError(zap.New(core), zapcore.WarnLevel, call, tc.err, zap.String("bucket", "b"))
			assert.Equal(t, tc.reason, reason)
			assert.Equal(t, tc.retryable, retryable)
			e := logs.All()
			if assert.Len(t, e, 1) {
				assert.Equal(t, tc.want, e[0].Message)
				assert.Equal(t, zapcore.WarnLevel, e[0].Level)
				assert.Equal(t, tc.reason, e[0].ContextMap()["reason"])
				assert.Equal(t, "b", e[0].ContextMap()["bucket"])
			}
		})
	}
}

// TestRegionalCache: one client per region, built once.
func TestRegionalCache(t *testing.T) {
	built := map[string]int{}
	c := regional[string]{build: func(region string) string { built[region]++; return "client-" + region }}
	assert.Equal(t, "client-us-east-1", c.get("us-east-1"))
	assert.Equal(t, "client-us-east-1", c.get("us-east-1"))
	assert.Equal(t, "client-eu-west-1", c.get("eu-west-1"))
	assert.Equal(t, map[string]int{"us-east-1": 1, "eu-west-1": 1}, built)
}
