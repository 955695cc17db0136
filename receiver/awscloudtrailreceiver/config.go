package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/objectreader"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
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
	// SQS, when the section is present, makes notifications in an SQS queue
	// drive the receiver instead of listing: many collectors can share one
	// queue. Absent: polling mode.
	SQS configoptional.Optional[SQSConfig] `mapstructure:"sqs"`
	// PollInterval is the time between two listings of every prefix.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// StartTime (RFC 3339, quoted or not in YAML) is where a prefix without
	// a checkpoint starts; empty means one hour before the receiver starts.
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
	// Body is what a record's log record body holds: map (the record as a
	// map), json (its JSON text as in the file) or none. See the README.
	Body string `mapstructure:"body"`
	// Trails are the trails' buckets and prefixes to read.
	Trails []TrailConfig `mapstructure:"trails"`
	// Priority sets which records have normal priority.
	Priority PriorityConfig `mapstructure:"priority"`
	// Integrity verifies the trails' digest files (integrity.go).
	Integrity IntegrityConfig `mapstructure:"integrity"`

	// decodeErrs are the mistakes Unmarshal found but decoded past (a
	// duration without a unit), for Validate to report with the others.
	decodeErrs []error

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

// Validate checks the configuration. The sections (discovery, sqs, each
// trail, priority) validate themselves, so the collector names their path.
func (c *Config) Validate() error {
	errs := append([]error(nil), c.decodeErrs...)
	if err := checkRegion("region", c.Region); err != nil {
		errs = append(errs, err)
	}
	if err := c.checkPollInterval(); err != nil {
		errs = append(errs, err)
	}
	if c.Lookback < 0 {
		errs = append(errs, fmt.Errorf("lookback %s %w", c.Lookback, ErrNegative))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("workers %d %w", c.Workers, ErrAtLeastOne))
	}
	if c.MaxBatchRecords < 1 {
		errs = append(errs, fmt.Errorf("max_batch_records %d %w", c.MaxBatchRecords, ErrAtLeastOne))
	}
	if _, ok := objectreader.BodyModes[c.Body]; !ok {
		errs = append(errs, fmt.Errorf("body must be map, json or none, not %q", c.Body))
	}
	if c.StartTime != "" {
		if _, err := time.Parse(time.RFC3339, c.StartTime); err != nil {
			errs = append(errs, fmt.Errorf("start_time %q %w", c.StartTime, ErrStartTime))
		}
	}
	if len(c.Trails) == 0 && !c.Discovery.Enabled && !c.SQS.HasValue() {
		errs = append(errs, ErrNoSource)
	}
	if c.RoleARN != "" && !roleARNRe.MatchString(c.RoleARN) {
		errs = append(errs, fmt.Errorf("role_arn %q %w", c.RoleARN, ErrRoleARN))
	}
	if c.ExternalID != "" && c.RoleARN == "" {
		errs = append(errs, ErrExternalIDWithoutRole)
	}
	return errors.Join(errs...)
}

// checkPollInterval refuses a poll interval that would list S3 (paid LIST
// calls) almost continuously. Against an S3-compatible store of one's own
// (an endpoint outside amazonaws.com, tests) a shorter one is allowed.
func (c *Config) checkPollInterval() error {
	floor := minPollInterval
	if c.Endpoint != "" && !isAWSEndpoint(c.Endpoint) {
		floor = minPollIntervalLocal
	}
	if c.PollInterval < floor {
		return fmt.Errorf("poll_interval %s %w (%s, or %s with an endpoint outside AWS)", c.PollInterval, ErrPollInterval, minPollInterval, minPollIntervalLocal)
	}
	return nil
}

// Validate checks the discovery section.
func (d *DiscoveryConfig) Validate() error {
	var errs []error
	if d.RefreshInterval <= 0 {
		errs = append(errs, fmt.Errorf("refresh_interval %s %w", d.RefreshInterval, ErrNotPositive))
	}
	errs = append(errs, checkRegions(d.Regions)...)
	return errors.Join(errs...)
}

// Validate checks the sqs section (called only when the section is present).
func (s *SQSConfig) Validate() error {
	var errs []error
	if u, err := url.Parse(s.QueueURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("queue_url %q %w", s.QueueURL, ErrQueueURL))
	}
	if s.WaitTime < 0 || s.WaitTime > 20*time.Second {
		errs = append(errs, fmt.Errorf("wait_time %s %w 0s and 20s", s.WaitTime, ErrOutOfRange))
	}
	if s.MaxMessages < 1 || s.MaxMessages > 10 {
		errs = append(errs, fmt.Errorf("max_messages %d %w 1 and 10", s.MaxMessages, ErrOutOfRange))
	}
	if s.VisibilityTimeout < time.Second || s.VisibilityTimeout > 12*time.Hour {
		errs = append(errs, fmt.Errorf("visibility_timeout %s %w 1s and 12h", s.VisibilityTimeout, ErrOutOfRange))
	}
	if s.DoneWindow < 0 {
		errs = append(errs, fmt.Errorf("done_window %s %w", s.DoneWindow, ErrNegative))
	}
	if s.MaxReceiveCount < 1 {
		errs = append(errs, fmt.Errorf("max_receive_count %d %w", s.MaxReceiveCount, ErrAtLeastOne))
	}
	return errors.Join(errs...)
}

// Validate checks one trails entry.
func (t *TrailConfig) Validate() error {
	var errs []error
	if err := checkBucket(t.Bucket); err != nil {
		errs = append(errs, err)
	}
	if strings.HasPrefix(t.Prefix, "/") {
		errs = append(errs, fmt.Errorf("prefix %q %w", t.Prefix, ErrPrefix))
	}
	if t.OrganizationID != "" && !orgRe.MatchString(t.OrganizationID) {
		errs = append(errs, fmt.Errorf("organization_id %q %w", t.OrganizationID, ErrOrganizationID))
	}
	for i, a := range t.Accounts {
		if !accountRe.MatchString(a) {
			errs = append(errs, fmt.Errorf("accounts[%d] %q %w", i, a, ErrAccount))
		}
	}
	errs = append(errs, checkRegions(t.Regions)...)
	return errors.Join(errs...)
}

// Validate checks the priority section.
func (p *PriorityConfig) Validate() error {
	var errs []error
	for i, s := range p.NormalServices {
		if s == "" || strings.ContainsAny(s, ". ") {
			errs = append(errs, fmt.Errorf("normal_services[%d] %q %w", i, s, ErrServiceName))
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
		Body:            "map",
		IncludeInsights: true,
		Discovery:       DiscoveryConfig{RefreshInterval: 15 * time.Minute},
		SQS: configoptional.Default(SQSConfig{WaitTime: 20 * time.Second, MaxMessages: 10, VisibilityTimeout: 5 * time.Minute,
			MaxReceiveCount: 5, DeleteAfterDelivery: true}),
		Priority:  PriorityConfig{NormalServices: append([]string(nil), ctattr.DefaultNormalServices...)},
		Integrity: IntegrityConfig{GracePeriod: 2 * time.Hour, Window: 48 * time.Hour, ReportUnsigned: true},
	}
}
