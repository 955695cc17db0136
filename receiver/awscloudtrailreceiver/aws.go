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
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
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
// sharing the credentials (assumed role when configured) and one HTTP transport.
type awsClients struct {
	base      aws.Config
	endpoint  string
	pathStyle bool

	mu  sync.Mutex
	s3  map[string]objectStore
	ct  map[string]trailAPI
	org orgAPI

	transportMu sync.Mutex
	transport   *http.Transport
}

func newAWSClients(ctx context.Context, cfg *Config) (*awsClients, error) {
	c := &awsClients{endpoint: cfg.Endpoint, pathStyle: cfg.S3ForcePathStyle, s3: map[string]objectStore{}, ct: map[string]trailAPI{}}
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
	return c, nil
}

// s3For returns the S3 client of a bucket region.
func (c *awsClients) s3For(region string) objectStore {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.s3[region]; ok {
		return cl
	}
	cl := s3.NewFromConfig(c.base, func(o *s3.Options) {
		o.Region = region
		if c.endpoint != "" {
			o.BaseEndpoint = aws.String(c.endpoint)
		}
		o.UsePathStyle = c.pathStyle
		// S3-compatible stores often send no checksums; the SDK would log each time.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	c.s3[region] = cl
	return cl
}

// cloudTrailFor returns the CloudTrail client of a region.
func (c *awsClients) cloudTrailFor(region string) trailAPI {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.ct[region]; ok {
		return cl
	}
	cl := cloudtrail.NewFromConfig(c.base, func(o *cloudtrail.Options) {
		o.Region = region
		if c.endpoint != "" {
			o.BaseEndpoint = aws.String(c.endpoint)
		}
	})
	c.ct[region] = cl
	return cl
}

// organizationsClient returns the Organizations client (a global service).
func (c *awsClients) organizationsClient() orgAPI {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.org == nil {
		c.org = organizations.NewFromConfig(c.base, func(o *organizations.Options) {
			o.Region = "us-east-1"
			if c.endpoint != "" {
				o.BaseEndpoint = aws.String(c.endpoint)
			}
		})
	}
	return c.org
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

// denied builds the message of an AccessDenied error: the call, the
// resource and the IAM action that is missing.
func denied(call, resource, action string) string {
	return fmt.Sprintf("%s on %s was denied: the receiver's identity needs %s", call, resource, action)
}
