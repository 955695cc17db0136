// Package datadogtest holds the Datadog exporters' test fixtures: CloudTrail
// log records read by the awscloudtrail receiver from the public samples,
// in each of the receiver's body modes; generated records for benchmarks;
// records spread over resources and scopes; a discarding intake.
package datadogtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"
)

// Bucket is the bucket the samples are stored in.
const Bucket = "sample-trail"

// SamplesDir returns the repository's testdata/samples folder.
func SamplesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "testdata", "samples")
}

// Seed stores the public sample records (testdata/samples) as CloudTrail log
// files in bucket and returns how many records they hold.
func Seed(s3srv *devstack.S3Server, bucket string) (int, error) {
	if err := s3srv.CreateBucket(bucket); err != nil {
		return 0, err
	}
	files := []struct{ name, account, kind, region string }{
		{"console-login.ndjson", "111122223333", "CloudTrail", "us-east-2"},
		{"assume-role.ndjson", "111111111111", "CloudTrail", "us-east-2"},
		{"insight.ndjson", "123456789012", "CloudTrail-Insight", "us-east-1"},
		{"instance-and-service.ndjson", "123456789012", "CloudTrail", "us-east-1"},
	}
	total := 0
	for i, f := range files {
		data, err := os.ReadFile(filepath.Join(SamplesDir(), "records", f.name))
		if err != nil {
			return 0, err
		}
		body, n := devstack.NDJSONToLogFile(data)
		key := fmt.Sprintf("AWSLogs/%s/%s/%s/2026/11/20/%s_%s_%s_20261120T10%02dZ_sample%d.json.gz", f.account, f.kind, f.region, f.account, f.kind, f.region, i, i)
		if err := s3srv.Put(bucket, key, body); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Logs reads the public samples through the awscloudtrail receiver
// (`body: map`) and returns the log records it emitted, in one plog.Logs;
// copyPayload sets copy_payload_attributes.
func Logs(t testing.TB, copyPayload bool) plog.Logs {
	t.Helper()
	s3srv := startS3(t)
	defer s3srv.Close()
	want, err := Seed(s3srv, Bucket)
	if err != nil {
		t.Fatal(err)
	}
	batches := receive(t, s3srv, Bucket, "2026-11-20T00:00:00Z", want, func(cfg *awscloudtrailreceiver.Config) {
		cfg.CopyPayloadAttributes = copyPayload
	})
	out := plog.NewLogs()
	for _, ld := range batches {
		ld.ResourceLogs().MoveAndAppendTo(out.ResourceLogs())
	}
	return out
}

// startS3 starts an S3 server and sets the credentials of the receiver.
func startS3(t testing.TB) *devstack.S3Server {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s3srv, err := devstack.StartS3("")
	if err != nil {
		t.Fatal(err)
	}
	return s3srv
}

// receive runs the awscloudtrail receiver on bucket from start (set
// changes its configuration) until it has emitted want log records, and
// returns its batches.
func receive(t testing.TB, s3srv *devstack.S3Server, bucket, start string, want int, set func(*awscloudtrailreceiver.Config)) []plog.Logs {
	t.Helper()
	f := awscloudtrailreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*awscloudtrailreceiver.Config)
	cfg.Endpoint = s3srv.URL
	cfg.S3ForcePathStyle = true
	cfg.PollInterval = 50 * time.Millisecond
	cfg.StartTime = start
	cfg.Trails = []awscloudtrailreceiver.TrailConfig{{Bucket: bucket}}
	set(cfg)
	sink := &consumertest.LogsSink{}
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for sink.LogRecordCount() < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := rcv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.LogRecordCount() != want {
		t.Fatalf("receiver emitted %d records, want %d", sink.LogRecordCount(), want)
	}
	return sink.AllLogs()
}
