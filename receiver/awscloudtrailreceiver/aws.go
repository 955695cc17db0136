package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// objectStore is the part of the S3 API the receiver uses.
type objectStore interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	GetBucketLocation(ctx context.Context, in *s3.GetBucketLocationInput, opts ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error)
}

// trailAPI is the part of the CloudTrail API discovery uses.
type trailAPI interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
}

// orgAPI is the part of the Organizations API discovery uses.
type orgAPI interface {
	DescribeOrganization(ctx context.Context, in *organizations.DescribeOrganizationInput, opts ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

// awsClients builds the AWS API clients, one per region where needed, all
// sharing the credentials (assumed role when configured) and one HTTP
// transport, and knows the region of each bucket.
type awsClients struct {
	base     aws.Config
	region   string // the receiver's
	endpoint string
	logger   *zap.Logger

	s3            regional[objectStore]
	cloudTrail    regional[trailAPI]
	organizations func() orgAPI

	regionMu      sync.Mutex
	bucketRegions map[string]string

	transportMu sync.Mutex
	transport   *http.Transport
}

// regional is a cache of one client per region.
type regional[T any] struct {
	mu    sync.Mutex
	m     map[string]T
	build func(region string) T
}

// get returns the client of region, built on first use.
func (c *regional[T]) get(region string) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.m[region]; ok {
		return cl
	}
	if c.m == nil {
		c.m = map[string]T{}
	}
	cl := c.build(region)
	c.m[region] = cl
	return cl
}

func newAWSClients(ctx context.Context, cfg *Config, logger *zap.Logger) (*awsClients, error) {
	c := &awsClients{region: cfg.Region, endpoint: cfg.Endpoint, logger: logger, bucketRegions: map[string]string{}}
	// Remember the transport the SDK builds, to close its connections on Shutdown.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		c.transportMu.Lock()
		c.transport = t
		c.transportMu.Unlock()
	})
	base, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion(cfg.Region),
		awsconfig.WithHTTPClient(httpClient),
		// Throttling is retried with backoff, at a rate the adaptive mode
		// lowers while AWS keeps throttling; what still fails is retried on
		// the next poll.
		awsconfig.WithRetryer(func() aws.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) { so.MaxAttempts = 5 })
			})
		}),
	)
	if err != nil {
		return nil, err
	}
	if cfg.RoleARN != "" {
		stsClient := sts.NewFromConfig(base, func(o *sts.Options) {
			if cfg.Endpoint != "" {
				o.BaseEndpoint = aws.String(cfg.Endpoint)
			}
		})
		provider := stscreds.NewAssumeRoleProvider(stsClient, cfg.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "otelcol-cloudtrail"
			if cfg.ExternalID != "" {
				o.ExternalID = aws.String(cfg.ExternalID)
			}
		})
		// The cache refreshes the credentials before they expire.
		base.Credentials = aws.NewCredentialsCache(provider)
	}
	c.base = base
	c.s3.build = func(region string) objectStore {
		return s3.NewFromConfig(base, func(o *s3.Options) {
			o.Region = region
			c.setEndpoint(&o.BaseEndpoint)
			o.UsePathStyle = cfg.S3ForcePathStyle
			// S3-compatible stores often send no checksums; the SDK would log each time.
			o.DisableLogOutputChecksumValidationSkipped = true
		})
	}
	c.cloudTrail.build = func(region string) trailAPI {
		return cloudtrail.NewFromConfig(base, func(o *cloudtrail.Options) {
			o.Region = region
			c.setEndpoint(&o.BaseEndpoint)
		})
	}
	// Organizations is a global service.
	c.organizations = sync.OnceValue(func() orgAPI {
		return organizations.NewFromConfig(base, func(o *organizations.Options) {
			o.Region = "us-east-1"
			c.setEndpoint(&o.BaseEndpoint)
		})
	})
	return c, nil
}

// setEndpoint applies the endpoint override to a client's options.
func (c *awsClients) setEndpoint(base **string) {
	if c.endpoint != "" {
		*base = aws.String(c.endpoint)
	}
}

// s3ForBucket returns the S3 client of a bucket's region.
func (c *awsClients) s3ForBucket(ctx context.Context, bucket string) objectStore {
	return c.s3.get(c.bucketRegion(ctx, bucket))
}

// bucketRegion returns the region of a bucket (GetBucketLocation, asked
// once per bucket), so that each bucket is read through a client of its
// own region; the receiver's region when it cannot be asked.
func (c *awsClients) bucketRegion(ctx context.Context, bucket string) string {
	c.regionMu.Lock()
	region, ok := c.bucketRegions[bucket]
	c.regionMu.Unlock()
	if ok {
		return region
	}
	out, err := c.s3.get(c.region).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	if err != nil {
		if ctx.Err() == nil {
			logAWSError(c.logger, zapcore.WarnLevel, awsCall{"GetBucketLocation", "s3://" + bucket, "s3:GetBucketLocation", "using the receiver's region"},
				err, zap.String("bucket", bucket), zap.String("region", c.region))
		}
		return c.region
	}
	region = string(out.LocationConstraint)
	switch region {
	case "":
		region = "us-east-1" // buckets of us-east-1 have no location constraint
	case "EU":
		region = "eu-west-1"
	}
	c.regionMu.Lock()
	c.bucketRegions[bucket] = region
	c.regionMu.Unlock()
	return region
}

// sqsFor returns the SQS client of a region.
func (c *awsClients) sqsFor(region string) sqsAPI {
	return sqs.NewFromConfig(c.base, func(o *sqs.Options) {
		o.Region = region
		c.setEndpoint(&o.BaseEndpoint)
	})
}

// close releases idle connections.
func (c *awsClients) close() {
	c.transportMu.Lock()
	defer c.transportMu.Unlock()
	if c.transport != nil {
		c.transport.CloseIdleConnections()
	}
}

// Reasons an AWS call fails, as counted in objects_failed.
const (
	reasonNotFound     = "not_found"
	reasonAccessDenied = "access_denied"
	reasonThrottled    = "throttled"
	reasonS3Error      = "s3_error"
	reasonConsumer     = "consumer_rejected"
)

// classifyS3Error names the reason of an AWS error and whether trying the
// same call again later may succeed.
func classifyS3Error(err error) (reason string, retryable bool) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return reasonNotFound, false
		case "AccessDenied", "AccessDeniedException", "Forbidden", "AllAccessDisabled", "InvalidObjectState", "UnauthorizedOperation":
			return reasonAccessDenied, true
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable", "TooManyRequestsException":
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

// awsCall names a failed AWS call for its log line: the call, the
// resource, the IAM action it needs, and what the receiver does next.
type awsCall struct {
	call, resource, action, next string
}

// message is the log line of a call that failed for reason: a denied one
// names the IAM action the receiver's identity needs.
func (c awsCall) message(reason string) string {
	if reason == reasonAccessDenied {
		return fmt.Sprintf("%s on %s was denied: the receiver's identity needs %s; %s", c.call, c.resource, c.action, c.next)
	}
	return fmt.Sprintf("%s on %s failed; %s", c.call, c.resource, c.next)
}

// logAWSError logs a failed AWS call at level, with its reason, and
// returns the reason and whether the call may succeed later. Every AWS
// error of the receiver is logged through it.
func logAWSError(logger *zap.Logger, level zapcore.Level, c awsCall, err error, fields ...zap.Field) (reason string, retryable bool) {
	reason, retryable = classifyS3Error(err)
	logger.Log(level, c.message(reason), append(fields, zap.String("reason", reason), zap.Error(err))...)
	return reason, retryable
}
