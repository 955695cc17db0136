package datadogtest

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"
)

// ReceiverBatches returns the batches the awscloudtrail receiver emits in
// a body mode (ModeMap, ModeJSON, ModeNone) when it reads files log files
// of 1000 generated records each (internal/trailgen) from an S3 server:
// the records as the exporters get them in a collector, with every
// attribute the receiver sets, for the exporters' benchmarks.
func ReceiverBatches(tb testing.TB, files int, mode string) []plog.Logs {
	tb.Helper()
	s3srv := startS3(tb)
	defer s3srv.Close()
	end := time.Now().UTC().Add(-time.Minute)
	tree, err := devstack.SeedTrailTree(s3srv, devstack.TreeSpec{
		Bucket: "bench-bucket", Accounts: []string{"123456789012"}, Regions: []string{"us-east-1"},
		Files: files, Every: time.Minute, End: end, RecordsPerFile: 1000, Seed: 77,
	})
	if err != nil {
		tb.Fatal(err)
	}
	start := end.Add(-time.Duration(files+5) * time.Minute).Format(time.RFC3339)
	return receive(tb, s3srv, tree.Bucket, start, len(tree.IDs), func(cfg *awscloudtrailreceiver.Config) { cfg.Body = mode })
}
