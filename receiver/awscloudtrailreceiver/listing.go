package awscloudtrailreceiver

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// listPages lists a bucket (ListObjectsV2 with in) page by page and calls
// page for each; page returns false to stop. A failed listing is counted
// and logged with next, what happens then (not when ctx ended: the
// receiver is stopping). listPages returns whether every page was listed
// and taken. A failed listing enters the component's error state at once.
func (t *telemetry) listPages(ctx context.Context, store objectStore, in *s3.ListObjectsV2Input, next string, page func(*s3.ListObjectsV2Output) bool) bool {
	pages := s3.NewListObjectsV2Paginator(store, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				bucket, prefix := aws.ToString(in.Bucket), aws.ToString(in.Prefix)
				// Into the error state now, not at the end of the poll
				// interval (status.go: failAtOnce).
				t.failNow(err)
				logAWSError(t.logger, zapcore.ErrorLevel, awsCall{"ListObjectsV2", "s3://" + bucket + "/" + prefix, "s3:ListBucket", next},
					err, zap.String("bucket", bucket), zap.String("prefix", prefix))
			}
			return false
		}
		if !page(out) {
			return false
		}
	}
	return true
}
