package notification

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const s3Event = `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put",
"s3":{"s3SchemaVersion":"1.0","bucket":{"name":"trail-bucket","arn":"arn:aws:s3:::trail-bucket"},
"object":{"key":"my+prefix/AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/111111111111_CloudTrail_us-east-1_20261120T1005Z_a%3Db.json.gz","size":1024}}}]}`

func sns(inner string) string {
	b, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": inner})
	return string(b)
}

func TestParse(t *testing.T) {
	key := "my prefix/AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/111111111111_CloudTrail_us-east-1_20261120T1005Z_a=b.json.gz"
	tests := []struct {
		name    string
		body    string
		want    []Object
		kind    string
		wantErr bool
	}{
		{name: "s3 event", body: s3Event, want: []Object{{"trail-bucket", key}}, kind: KindS3Event},
		{name: "s3 event in sns", body: sns(s3Event), want: []Object{{"trail-bucket", key}}, kind: KindS3Event},
		{name: "test event", body: `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-20T10:00:00.000Z","Bucket":"trail-bucket"}`, kind: KindTestEvent},
		{name: "test event in sns", body: sns(`{"Service":"Amazon S3","Event":"s3:TestEvent"}`), kind: KindTestEvent},
		{name: "eventbridge", body: `{"version":"0","detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"AWSLogs/1/k:1.json.gz","size":5}}}`,
			want: []Object{{"b", "AWSLogs/1/k:1.json.gz"}}, kind: KindEventBridge},
		{name: "eventbridge other type", body: `{"version":"0","detail-type":"Object Deleted","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`, kind: KindEventBridge},
		{name: "cloudtrail sns", body: sns(`{"s3Bucket":"b","s3ObjectKey":["AWSLogs/1/a.json.gz","AWSLogs/1/b.json.gz"]}`),
			want: []Object{{"b", "AWSLogs/1/a.json.gz"}, {"b", "AWSLogs/1/b.json.gz"}}, kind: KindCloudTrail},
		{name: "not json", body: `hello`, wantErr: true},
		{name: "unknown", body: `{"foo":1}`, wantErr: true},
		{name: "other event source", body: `{"Records":[{"eventSource":"aws:sqs"}]}`, wantErr: true},
		{name: "bad escape", body: `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{"key":"%zz"}}}]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind, err := Parse(tt.body)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.kind, kind)
		})
	}
}

func s3Record(eventName, key string) string {
	b, _ := json.Marshal(map[string]any{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventName": eventName,
		"s3": map[string]any{"bucket": map[string]any{"name": "b"}, "object": map[string]any{"key": key}}})
	return string(b)
}

func s3Records(records ...string) string {
	return `{"Records":[` + strings.Join(records, ",") + `]}`
}

// TestParseIgnoresEventsOtherThanCreated: S3 sends many kinds of events to
// a notification destination; only ObjectCreated announces a file to read.
// The others are no error (their message is deleted, not retried into the
// dead-letter queue) and announce nothing.
func TestParseIgnoresEventsOtherThanCreated(t *testing.T) {
	const k = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/111111111111_CloudTrail_us-east-1_20261120T1005Z_x.json.gz"
	ignored := []string{
		"ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated",
		"LifecycleExpiration:Delete", "LifecycleExpiration:DeleteMarkerCreated", "LifecycleTransition",
		"ObjectRestore:Post", "ObjectRestore:Completed", "ObjectRestore:Delete",
		"ObjectTagging:Put", "ObjectTagging:Delete", "ObjectAcl:Put",
		"Replication:OperationFailedReplication", "Replication:OperationMissedThreshold",
		"IntelligentTiering", "ReducedRedundancyLostObject",
	}
	for _, name := range ignored {
		for _, wrap := range []struct {
			name string
			f    func(string) string
		}{{"direct", func(s string) string { return s }}, {"sns", sns}} {
			t.Run(name+"/"+wrap.name, func(t *testing.T) {
				got, kind, err := Parse(wrap.f(s3Records(s3Record(name, k))))
				require.NoError(t, err)
				assert.Empty(t, got)
				assert.Equal(t, KindS3Event, kind)
			})
		}
	}
	for _, dt := range []string{"Object Deleted", "Object Restore Initiated", "Object Restore Completed", "Object Restore Expired",
		"Object Storage Class Changed", "Object Access Tier Changed", "Object ACL Updated", "Object Tags Added", "Object Tags Deleted"} {
		t.Run("eventbridge "+dt, func(t *testing.T) {
			b, _ := json.Marshal(map[string]any{"version": "0", "detail-type": dt, "source": "aws.s3",
				"detail": map[string]any{"bucket": map[string]any{"name": "b"}, "object": map[string]any{"key": k}}})
			got, kind, err := Parse(string(b))
			require.NoError(t, err)
			assert.Empty(t, got)
			assert.Equal(t, KindEventBridge, kind)
		})
	}
	t.Run("created among others", func(t *testing.T) {
		got, _, err := Parse(s3Records(s3Record("ObjectRemoved:Delete", "AWSLogs/a.json.gz"), s3Record("ObjectCreated:CompleteMultipartUpload", k),
			s3Record("LifecycleTransition", "AWSLogs/b.json.gz")))
		require.NoError(t, err)
		assert.Equal(t, []Object{{"b", k}}, got)
	})
	for _, created := range []string{"ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload"} {
		t.Run(created, func(t *testing.T) {
			got, _, err := Parse(s3Records(s3Record(created, k)))
			require.NoError(t, err)
			assert.Equal(t, []Object{{"b", k}}, got)
		})
	}
}
