package notification

import (
	"encoding/json"
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
