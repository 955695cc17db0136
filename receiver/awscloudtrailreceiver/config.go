package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"go.opentelemetry.io/collector/component"
)

// Config is the configuration of the awscloudtrail receiver.
type Config struct {
	// Region is the AWS region for API calls (and the default bucket region).
	Region string `mapstructure:"region"`
	// Endpoint overrides every AWS endpoint (S3-compatible stores, tests).
	Endpoint string `mapstructure:"endpoint"`
	// S3ForcePathStyle addresses buckets as endpoint/bucket/key.
	S3ForcePathStyle bool `mapstructure:"s3_force_path_style"`
	// RoleARN, when set, is assumed through STS for every call.
	RoleARN string `mapstructure:"role_arn"`
	// ExternalID is passed when assuming RoleARN.
	ExternalID string `mapstructure:"external_id"`
	// Discovery finds the trails through the CloudTrail API.
	Discovery DiscoveryConfig `mapstructure:"discovery"`
	// SQS, when queue_url is set, makes notifications in an SQS queue drive
	// the receiver instead of listing: many collectors can share one queue.
	SQS SQSConfig `mapstructure:"sqs"`
	// PollInterval is the time between two listings of every prefix.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// StartTime (RFC 3339) is where a prefix without a checkpoint starts;
	// empty means one hour before the receiver starts.
	StartTime string `mapstructure:"start_time"`
	// Lookback is how long files delivered late (whose keys sort behind the
	// newest file read) are still looked for.
	Lookback time.Duration `mapstructure:"lookback"`
	// Workers is how many objects are read in parallel.
	Workers int `mapstructure:"workers"`
	// MaxBatchRecords bounds the records of one ConsumeLogs call.
	MaxBatchRecords int `mapstructure:"max_batch_records"`
	// Storage names a storage extension that keeps checkpoints across
	// restarts; without it checkpoints live in memory.
	Storage *component.ID `mapstructure:"storage"`
	// IncludeInsights also reads CloudTrail-Insight files.
	IncludeInsights bool `mapstructure:"include_insights"`
	// CopyPayloadAttributes also copies requestParameters, responseElements,
	// additionalEventData, resources and insightDetails into attributes.
	CopyPayloadAttributes bool `mapstructure:"copy_payload_attributes"`
	// Trails are the trails' buckets and prefixes to read.
	Trails []TrailConfig `mapstructure:"trails"`
	// Priority sets which records have normal priority.
	Priority PriorityConfig `mapstructure:"priority"`
	// Integrity verifies the trails' digest files (integrity.go).
	Integrity IntegrityConfig `mapstructure:"integrity"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// TrailConfig names where one trail delivers its log files.
type TrailConfig struct {
	// Bucket is the trail's S3 bucket.
	Bucket string `mapstructure:"bucket"`
	// Prefix is the trail's S3KeyPrefix.
	Prefix string `mapstructure:"prefix"`
	// OrganizationID (o-xxxx) reads an organization trail's layout; empty
	// reads every organization folder found as well as account folders.
	OrganizationID string `mapstructure:"organization_id"`
	// Accounts limits the accounts read; empty reads every account found.
	Accounts []string `mapstructure:"accounts"`
	// Regions limits the regions read; empty reads every region found.
	Regions []string `mapstructure:"regions"`
}

// DiscoveryConfig configures the discovery of trails through the AWS APIs.
type DiscoveryConfig struct {
	// Enabled turns discovery on; it may be combined with explicit trails.
	Enabled bool `mapstructure:"enabled"`
	// Regions are the regions to call DescribeTrails in; empty means Region only.
	Regions []string `mapstructure:"regions"`
	// IncludeInactive also reads trails that are not logging.
	IncludeInactive bool `mapstructure:"include_inactive"`
	// RefreshInterval is how often trails (and their account and region
	// folders) are discovered again.
	RefreshInterval time.Duration `mapstructure:"refresh_interval"`
	// TrailNames, when set, keeps only the trails with these names or ARNs.
	TrailNames []string `mapstructure:"trail_names"`
}

// SQSConfig configures the SQS notification mode.
type SQSConfig struct {
	// QueueURL is the queue that receives the S3 (or SNS, EventBridge,
	// CloudTrail SNS) notifications of new log files.
	QueueURL string `mapstructure:"queue_url"`
	// WaitTime is the long-polling wait of ReceiveMessage (at most 20s).
	WaitTime time.Duration `mapstructure:"wait_time"`
	// MaxMessages is the most messages one ReceiveMessage returns (1 to 10).
	MaxMessages int `mapstructure:"max_messages"`
	// VisibilityTimeout hides a received message from other collectors; it
	// is extended while the message's objects are still being read.
	VisibilityTimeout time.Duration `mapstructure:"visibility_timeout"`
	// MaxReceiveCount: a message received more often is not processed any
	// more and is left to the queue's redrive policy (dead-letter queue).
	MaxReceiveCount int `mapstructure:"max_receive_count"`
	// DeleteAfterDelivery deletes a message once every record of its
	// objects was accepted downstream.
	DeleteAfterDelivery bool `mapstructure:"delete_after_delivery"`
	// DoneWindow is how long the objects read to the end are remembered, so
	// that a message naming one again (it was not deleted, or a duplicate
	// notification) does not read it again. 0: the queue's message
	// retention period plus the visibility timeout.
	DoneWindow time.Duration `mapstructure:"done_window"`
}

// PriorityConfig sets the services whose records have normal priority.
type PriorityConfig struct {
	// NormalServices are service short names (the first label of eventSource).
	NormalServices []string `mapstructure:"normal_services"`
}

var (
	accountRe = regexp.MustCompile(`^\d{12}$`)
	orgRe     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	roleARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/.+$`)
)

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.Region == "" {
		errs = append(errs, errors.New("region must be set"))
	}
	if c.PollInterval <= 0 {
		errs = append(errs, errors.New("poll_interval must be positive"))
	}
	if c.Lookback < 0 {
		errs = append(errs, errors.New("lookback must not be negative"))
	}
	if c.Workers < 1 {
		errs = append(errs, errors.New("workers must be at least 1"))
	}
	if c.MaxBatchRecords < 1 {
		errs = append(errs, errors.New("max_batch_records must be at least 1"))
	}
	if c.StartTime != "" {
		if _, err := time.Parse(time.RFC3339, c.StartTime); err != nil {
			errs = append(errs, fmt.Errorf("start_time must be RFC 3339 (2006-01-02T15:04:05Z): %w", err))
		}
	}
	if len(c.Trails) == 0 && !c.Discovery.Enabled && c.SQS.QueueURL == "" {
		errs = append(errs, errors.New("at least one entry in trails is required, or discovery.enabled: true, or sqs.queue_url"))
	}
	if c.SQS.QueueURL != "" {
		if u, err := url.Parse(c.SQS.QueueURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("sqs.queue_url %q is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", c.SQS.QueueURL))
		}
		if c.SQS.WaitTime < 0 || c.SQS.WaitTime > 20*time.Second {
			errs = append(errs, errors.New("sqs.wait_time must be between 0s and 20s"))
		}
		if c.SQS.MaxMessages < 1 || c.SQS.MaxMessages > 10 {
			errs = append(errs, errors.New("sqs.max_messages must be between 1 and 10"))
		}
		if c.SQS.VisibilityTimeout < time.Second || c.SQS.VisibilityTimeout > 12*time.Hour {
			errs = append(errs, errors.New("sqs.visibility_timeout must be between 1s and 12h"))
		}
		if c.SQS.DoneWindow < 0 {
			errs = append(errs, errors.New("sqs.done_window must not be negative"))
		}
		if c.SQS.MaxReceiveCount < 1 {
			errs = append(errs, errors.New("sqs.max_receive_count must be at least 1"))
		}
	}
	if c.Discovery.RefreshInterval <= 0 {
		errs = append(errs, errors.New("discovery.refresh_interval must be positive"))
	}
	for _, r := range c.Discovery.Regions {
		if !regionRe.MatchString(r) {
			errs = append(errs, fmt.Errorf("discovery.regions: %q is not a region name", r))
		}
	}
	if c.RoleARN != "" && !roleARNRe.MatchString(c.RoleARN) {
		errs = append(errs, fmt.Errorf("role_arn %q is not an IAM role ARN (arn:aws:iam::123456789012:role/name)", c.RoleARN))
	}
	if c.ExternalID != "" && c.RoleARN == "" {
		errs = append(errs, errors.New("external_id needs role_arn"))
	}
	for i, t := range c.Trails {
		if t.Bucket == "" {
			errs = append(errs, fmt.Errorf("trails[%d]: bucket must be set", i))
		}
		if t.OrganizationID != "" && !orgRe.MatchString(t.OrganizationID) {
			errs = append(errs, fmt.Errorf("trails[%d]: organization_id %q is not an organization ID (o-xxxxxxxxxx)", i, t.OrganizationID))
		}
		for _, a := range t.Accounts {
			if !accountRe.MatchString(a) {
				errs = append(errs, fmt.Errorf("trails[%d]: account %q is not a 12-digit account ID", i, a))
			}
		}
		for _, r := range t.Regions {
			if !regionRe.MatchString(r) {
				errs = append(errs, fmt.Errorf("trails[%d]: %q is not a region name", i, r))
			}
		}
	}
	for _, s := range c.Priority.NormalServices {
		if s == "" || strings.ContainsAny(s, ". ") {
			errs = append(errs, fmt.Errorf("priority.normal_services: %q is not a service short name (such as ec2)", s))
		}
	}
	return errors.Join(errs...)
}

// startTime returns where prefixes without a checkpoint begin.
func (c *Config) startTime(now time.Time) time.Time {
	if c.StartTime == "" {
		return now.Add(-time.Hour)
	}
	t, _ := time.Parse(time.RFC3339, c.StartTime)
	return t
}

func createDefaultConfig() component.Config {
	return &Config{
		Region:          "us-east-1",
		PollInterval:    time.Minute,
		Lookback:        time.Hour,
		Workers:         4,
		MaxBatchRecords: 1000,
		IncludeInsights: true,
		Discovery:       DiscoveryConfig{RefreshInterval: 15 * time.Minute},
		SQS: SQSConfig{WaitTime: 20 * time.Second, MaxMessages: 10, VisibilityTimeout: 5 * time.Minute,
			MaxReceiveCount: 5, DeleteAfterDelivery: true},
		Priority:  PriorityConfig{NormalServices: append([]string(nil), ctattr.DefaultNormalServices...)},
		Integrity: IntegrityConfig{GracePeriod: 2 * time.Hour, Window: 48 * time.Hour},
	}
}
