package awscloudtrailreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	storageID := component.MustNewIDWithName("file_storage", "cloudtrail")

	tests := []struct {
		id      component.ID
		want    *Config
		errText []string
	}{
		{
			id: component.NewID(metadata.Type),
			want: func() *Config {
				c := createDefaultConfig().(*Config)
				c.Trails = []TrailConfig{{Bucket: "my-trail-bucket"}}
				return c
			}(),
		},
		{
			id: component.NewIDWithName(metadata.Type, "full"),
			want: &Config{
				Region: "eu-west-1", Endpoint: "http://127.0.0.1:9000", S3ForcePathStyle: true,
				RoleARN: "arn:aws:iam::123456789012:role/cloudtrail-reader", ExternalID: "abc123",
				Discovery: DiscoveryConfig{Enabled: true, Regions: []string{"us-east-1", "eu-west-1"}, IncludeInactive: true,
					RefreshInterval: 5 * time.Minute, TrailNames: []string{"management-events"}},
				SQS: configoptional.Some(SQSConfig{QueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail-files", WaitTime: 10 * time.Second,
					MaxMessages: 5, VisibilityTimeout: 10 * time.Minute, MaxReceiveCount: 3, DeleteAfterDelivery: false, DoneWindow: 96 * time.Hour}),
				PollInterval: 30 * time.Second, StartTime: "2026-11-01T00:00:00Z", Lookback: 2 * time.Hour,
				Workers: 8, MaxBatchRecords: 500, Storage: &storageID, IncludeInsights: false, CopyPayloadAttributes: true, Body: "json",
				Trails: []TrailConfig{{Bucket: "org-trail-bucket", Prefix: "security", OrganizationID: "o-exampleorg1",
					Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"us-east-1", "eu-west-1"}}},
				Priority:  PriorityConfig{NormalServices: []string{"ec2", "iam", "sts"}},
				Integrity: IntegrityConfig{Enabled: true, GracePeriod: 3 * time.Hour, Window: 72 * time.Hour},
			},
		},
		{id: component.NewIDWithName(metadata.Type, "no_trails"), errText: []string{"at least one entry in trails is required, or discovery.enabled: true, or sqs.queue_url"}},
		{
			// sqs absent: polling mode (the section stays unset).
			id: component.NewIDWithName(metadata.Type, "discovery_only"),
			want: func() *Config {
				c := createDefaultConfig().(*Config)
				c.Discovery.Enabled = true
				return c
			}(),
		},
		{
			// sqs: with only queue_url means SQS mode, the defaults for the rest.
			id: component.NewIDWithName(metadata.Type, "sqs_queue_only"),
			want: func() *Config {
				c := createDefaultConfig().(*Config)
				c.SQS = configoptional.Some(SQSConfig{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/cloudtrail",
					WaitTime: 20 * time.Second, MaxMessages: 10, VisibilityTimeout: 5 * time.Minute, MaxReceiveCount: 5, DeleteAfterDelivery: true})
				return c
			}(),
		},
		{id: component.NewIDWithName(metadata.Type, "sqs_without_queue"), errText: []string{`sqs: queue_url "" is not a queue URL`}},
		{id: component.NewIDWithName(metadata.Type, "invalid"), errText: []string{
			"poll_interval 0s is shorter than the minimum", "workers 0 must be at least 1", "max_batch_records 0 must be at least 1",
			`start_time "yesterday" is not an RFC 3339 time`, `role_arn "arn:aws:iam::123:user/x" is not an IAM role ARN`,
			"discovery: refresh_interval 0s must be positive", `regions[0] "Moon" is not an AWS region name`,
			`sqs: queue_url "not a url" is not a queue URL`, "wait_time 30s must be between 0s and 20s",
			"max_messages 11 must be between 1 and 10", "visibility_timeout 0s must be between 1s and 12h",
			"done_window -1h0m0s must not be negative", "max_receive_count 0 must be at least 1",
			`trails::0: bucket "" is not an S3 bucket name (it must be set)`, `organization_id "org" is not an organization ID`,
			`accounts[0] "12345" is not a 12-digit account ID`, `regions[0] "Mars" is not an AWS region name`,
			`priority: normal_services[0] "ec2.amazonaws.com" is not a service short name`,
			`body must be map, json or none, not "raw"`,
			"integrity: grace_period 10m0s must be at least 1h", "window 15m0s must be at least twice grace_period (10m0s)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if len(tt.errText) > 0 {
				require.Error(t, err)
				for _, e := range tt.errText {
					assert.Contains(t, err.Error(), e)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, ctattr.DefaultNormalServices, cfg.Priority.NormalServices)
	assert.Equal(t, time.Minute, cfg.PollInterval)
	assert.Equal(t, time.Hour, cfg.Lookback)
	assert.Equal(t, "map", cfg.Body)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, now.Add(-time.Hour), cfg.startTime(now))
	cfg.StartTime = "2026-01-02T03:04:05Z"
	assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), cfg.startTime(now))
}

// TestValidateFiles loads each file of testdata/validate as a receiver
// configuration: the mistakes that cost money or hours are refused with the
// key named and the bad value shown, and the forms that are right pass.
func TestValidateFiles(t *testing.T) {
	tests := []struct {
		file string
		is   []error
		// errText: every part must appear in the error.
		errText []string
		// notText: parts that must not appear (values that are right).
		notText []string
		check   func(t *testing.T, cfg *Config)
	}{
		{file: "poll_interval_no_unit.yaml", is: []error{ErrDurationUnit}, errText: []string{"poll_interval 5 is a number without a unit"}},
		{file: "poll_interval_too_short.yaml", is: []error{ErrPollInterval}, errText: []string{"poll_interval 2s is shorter than the minimum (10s"}},
		{file: "poll_interval_vpc_endpoint.yaml", is: []error{ErrPollInterval}, errText: []string{"poll_interval 1s"}},
		{file: "poll_interval_local.yaml", check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, 100*time.Millisecond, cfg.PollInterval)
		}},
		{file: "region.yaml", is: []error{ErrRegion}, errText: []string{
			`region "us-east1" is not an AWS region name`,
			`discovery: regions[1] "eu-west1" is not an AWS region name`,
			`trails::0: regions[1] "EU-WEST-1" is not an AWS region name`,
		}},
		{file: "bucket_url.yaml", is: []error{ErrBucket}, errText: []string{
			`trails::0: bucket "s3://my-bucket/security/AWSLogs/" is not an S3 bucket name (the name only, without s3:// or a key: bucket: my-bucket, prefix: "security")`,
		}},
		{file: "bucket_slash.yaml", is: []error{ErrBucket}, errText: []string{
			`trails::1: bucket "my-bucket/AWSLogs" is not an S3 bucket name (the name only, without s3:// or a key: bucket: my-bucket, prefix: "")`,
		}},
		{file: "bucket_name.yaml", is: []error{ErrBucket}, errText: []string{`trails::0: bucket "my trail bucket" is not an S3 bucket name (3 to 63`},
			notText: []string{"My_Legacy_Bucket", "trails::1"}},
		{file: "start_time_unquoted.yaml", check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), cfg.startTime(time.Now()))
		}},
		{file: "start_time_quoted.yaml", check: func(t *testing.T, cfg *Config) {
			assert.Equal(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), cfg.startTime(time.Now()))
		}},
		{file: "start_time_offset.yaml", check: func(t *testing.T, cfg *Config) {
			assert.True(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Equal(cfg.startTime(time.Now())))
		}},
		{file: "start_time_invalid.yaml", is: []error{ErrStartTime}, errText: []string{`start_time "yesterday" is not an RFC 3339 time`}},
		{file: "sqs_durations_no_unit.yaml", is: []error{ErrDurationUnit}, errText: []string{"sqs.visibility_timeout 300 is a number without a unit"},
			notText: []string{"visibility_timeout 300ns", "done_window"}},
		{file: "no_unit_and_other_mistakes.yaml", is: []error{ErrDurationUnit, ErrRegion, ErrBucket}, errText: []string{
			"poll_interval 5 is a number without a unit: write it as a duration, such as 30s, 5m or 1h",
			"discovery.refresh_interval 900 is a number without a unit",
			`region "us-east1" is not an AWS region name`,
			`trails::0: bucket "s3://my-bucket/AWSLogs/" is not an S3 bucket name`,
		}, notText: []string{"shorter than the minimum", "refresh_interval 900ns"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cm, err := confmaptest.LoadConf(filepath.Join("testdata", "validate", tt.file))
			require.NoError(t, err)
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			// Decoding does not stop at a mistake: every one is reported
			// by the validation, in one run.
			require.NoError(t, cm.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.check != nil {
				require.NoError(t, err)
				tt.check(t, cfg)
				return
			}
			require.Error(t, err)
			for _, target := range tt.is {
				assert.ErrorIs(t, err, target)
			}
			for _, e := range tt.errText {
				assert.Contains(t, err.Error(), e)
			}
			for _, e := range tt.notText {
				assert.NotContains(t, err.Error(), e)
			}
		})
	}
}
