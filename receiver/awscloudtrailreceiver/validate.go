package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.opentelemetry.io/collector/confmap"
)

// Configuration errors. Each is wrapped with the key and the value refused,
// so errors.Is finds the kind of mistake and the message names where it is.
var (
	ErrNoSource              = errors.New("at least one entry in trails is required, or discovery.enabled: true, or sqs.queue_url")
	ErrRegion                = errors.New("is not an AWS region name (such as us-east-1)")
	ErrPollInterval          = errors.New("is shorter than the minimum")
	ErrDurationUnit          = errors.New("is a number without a unit: write it as a duration, such as 30s, 5m or 1h")
	ErrBucket                = errors.New("is not an S3 bucket name")
	ErrPrefix                = errors.New("must not start with /: it is the trail's S3KeyPrefix, the part of the key before AWSLogs/")
	ErrStartTime             = errors.New("is not an RFC 3339 time (such as 2026-11-01T00:00:00Z)")
	ErrRoleARN               = errors.New("is not an IAM role ARN (arn:aws:iam::123456789012:role/name)")
	ErrExternalIDWithoutRole = errors.New("external_id needs role_arn")
	ErrOrganizationID        = errors.New("is not an organization ID (o-xxxxxxxxxx)")
	ErrAccount               = errors.New("is not a 12-digit account ID")
	ErrServiceName           = errors.New("is not a service short name (such as ec2)")
	ErrQueueURL              = errors.New("is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
	ErrNegative              = errors.New("must not be negative")
	ErrNotPositive           = errors.New("must be positive")
	ErrAtLeastOne            = errors.New("must be at least 1")
	ErrOutOfRange            = errors.New("must be between")
)

const (
	// minPollInterval bounds the listings of AWS S3, whose LIST calls are
	// paid: every poll lists every folder of every trail.
	minPollInterval = 10 * time.Second
	// minPollIntervalLocal is the floor for an S3-compatible store outside
	// AWS (endpoint set to a host outside amazonaws.com) and for tests.
	minPollIntervalLocal = 10 * time.Millisecond
)

var (
	accountRe = regexp.MustCompile(`^\d{12}$`)
	orgRe     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	roleARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)
	// bucketRe: today's rules are 3 to 63 lower-case letters, digits, dots
	// and hyphens; buckets made in us-east-1 before March 2018 may also have
	// upper-case letters and underscores, up to 255 characters.
	bucketRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$`)
)

// durationKeys are the duration settings, as confmap paths, with the
// field each sets.
var durationKeys = []struct {
	key   string
	field func(*Config) *time.Duration
}{
	{"poll_interval", func(c *Config) *time.Duration { return &c.PollInterval }},
	{"lookback", func(c *Config) *time.Duration { return &c.Lookback }},
	{"discovery::refresh_interval", func(c *Config) *time.Duration { return &c.Discovery.RefreshInterval }},
	{"sqs::wait_time", func(c *Config) *time.Duration { return &c.SQS.GetOrInsertDefault().WaitTime }},
	{"sqs::visibility_timeout", func(c *Config) *time.Duration { return &c.SQS.GetOrInsertDefault().VisibilityTimeout }},
	{"sqs::done_window", func(c *Config) *time.Duration { return &c.SQS.GetOrInsertDefault().DoneWindow }},
}

// Unmarshal reads the configuration. Beyond the default decoding it
// accepts start_time as a YAML timestamp (unquoted, which YAML reads as a
// time rather than a string) and refuses a duration written as a bare
// number, which would otherwise be read as nanoseconds (the collector's
// own decoding, v0.160.0, accepts `poll_interval: 5` as 5ns). The refusal
// is not a decoding error, which would stop `validate` before the other
// mistakes of the file: the setting keeps its default and Validate
// reports the bare number with the rest.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	c.decodeErrs = nil
	fixes := map[string]any{}
	if t, ok := conf.Get("start_time").(time.Time); ok {
		fixes["start_time"] = t.Format(time.RFC3339Nano)
	}
	defaults := createDefaultConfig().(*Config)
	for _, d := range durationKeys {
		switch v := conf.Get(d.key).(type) {
		case int, int64, uint64, float64:
			if fmt.Sprint(v) != "0" {
				c.decodeErrs = append(c.decodeErrs, fmt.Errorf("%s %v %w", strings.ReplaceAll(d.key, confmap.KeyDelimiter, "."), v, ErrDurationUnit))
				fixes[d.key] = d.field(defaults).String()
			}
		}
	}
	if len(fixes) > 0 {
		if err := conf.Merge(confmap.NewFromStringMap(fixes)); err != nil {
			return err
		}
	}
	return conf.Unmarshal(c)
}

// checkRegion checks a region setting named key.
func checkRegion(key, region string) error {
	if !regionRe.MatchString(region) {
		return fmt.Errorf("%s %q %w", key, region, ErrRegion)
	}
	return nil
}

// checkRegions checks a regions list.
func checkRegions(regions []string) []error {
	var errs []error
	for i, r := range regions {
		if err := checkRegion(fmt.Sprintf("regions[%d]", i), r); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// checkBucket checks a bucket name and, for an S3 URL or a path, says
// which bucket and prefix were meant.
func checkBucket(bucket string) error {
	if bucketRe.MatchString(bucket) && !strings.Contains(bucket, "..") {
		return nil
	}
	if bucket == "" {
		return fmt.Errorf("bucket %q %w (it must be set)", bucket, ErrBucket)
	}
	hint := "3 to 63 lower-case letters, digits, dots and hyphens"
	if rest, ok := strings.CutPrefix(bucket, "s3://"); ok || strings.Contains(bucket, "/") {
		name, prefix, _ := strings.Cut(rest, "/")
		if !ok {
			name, prefix, _ = strings.Cut(bucket, "/")
		}
		if i := strings.Index(prefix, "AWSLogs"); i >= 0 {
			prefix = prefix[:i]
		}
		hint = fmt.Sprintf("the name only, without s3:// or a key: bucket: %s, prefix: %q", name, strings.TrimSuffix(prefix, "/"))
	}
	return fmt.Errorf("bucket %q %w (%s)", bucket, ErrBucket, hint)
}

// isAWSEndpoint reports whether endpoint is an AWS host (a VPC or FIPS
// endpoint of S3 is still paid per request).
func isAWSEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return true
	}
	h := u.Hostname()
	return strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn") || strings.HasSuffix(h, ".api.aws")
}
