package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// objectStore is the part of the S3 API the receiver uses.
type objectStore interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// newS3Client builds the S3 client from the SDK's default credential chain.
func newS3Client(ctx context.Context, cfg *Config, httpClient *awshttp.BuildableClient) (*s3.Client, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion(cfg.Region),
		awsconfig.WithHTTPClient(httpClient),
		awsconfig.WithRetryer(func() aws.Retryer {
			// Throttling (SlowDown, 503) is retried with backoff by the SDK;
			// what still fails is retried on the next poll.
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 5 })
		}),
	)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.S3ForcePathStyle
		// S3-compatible stores often send no checksums; the SDK would log each time.
		o.DisableLogOutputChecksumValidationSkipped = true
	}), nil
}

// Reasons an S3 call fails, as counted in objects_failed.
const (
	reasonNotFound     = "not_found"
	reasonAccessDenied = "access_denied"
	reasonThrottled    = "throttled"
	reasonS3Error      = "s3_error"
	reasonConsumer     = "consumer_rejected"
)

// classifyS3Error names the reason of an S3 error and whether trying the
// same object again later may succeed.
func classifyS3Error(err error) (reason string, retryable bool) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return reasonNotFound, false
		case "AccessDenied", "Forbidden", "AllAccessDisabled", "InvalidObjectState":
			return reasonAccessDenied, true
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable":
			return reasonThrottled, true
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		switch respErr.HTTPStatusCode() {
		case http.StatusNotFound:
			return reasonNotFound, false
		case http.StatusForbidden:
			return reasonAccessDenied, true
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			return reasonThrottled, true
		}
	}
	return reasonS3Error, true
}
