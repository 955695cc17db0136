package awscloudtrailreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
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
				SQS: SQSConfig{QueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/cloudtrail-files", WaitTime: 10 * time.Second,
					MaxMessages: 5, VisibilityTimeout: 10 * time.Minute, MaxReceiveCount: 3, DeleteAfterDelivery: false, DoneWindow: 96 * time.Hour},
				PollInterval: 30 * time.Second, StartTime: "2026-11-01T00:00:00Z", Lookback: 2 * time.Hour,
				Workers: 8, MaxBatchRecords: 500, Storage: &storageID, IncludeInsights: false, CopyPayloadAttributes: true,
				Trails: []TrailConfig{{Bucket: "org-trail-bucket", Prefix: "security", OrganizationID: "o-exampleorg1",
					Accounts: []string{"111111111111", "222222222222"}, Regions: []string{"us-east-1", "eu-west-1"}}},
				Priority:  PriorityConfig{NormalServices: []string{"ec2", "iam", "sts"}},
				Integrity: IntegrityConfig{Enabled: true, GracePeriod: 3 * time.Hour, Window: 72 * time.Hour},
			},
		},
		{id: component.NewIDWithName(metadata.Type, "no_trails"), errText: []string{"at least one entry in trails is required, or discovery.enabled: true, or sqs.queue_url"}},
		{
			id: component.NewIDWithName(metadata.Type, "discovery_only"),
			want: func() *Config {
				c := createDefaultConfig().(*Config)
				c.Discovery.Enabled = true
				return c
			}(),
		},
		{id: component.NewIDWithName(metadata.Type, "invalid"), errText: []string{
			"poll_interval must be positive", "workers must be at least 1", "max_batch_records must be at least 1",
			"start_time must be RFC 3339", "trails[0]: bucket must be set", "organization_id \"org\"",
			"account \"12345\"", "\"Mars\" is not a region", "\"ec2.amazonaws.com\" is not a service short name",
			"sqs.done_window must not be negative",
			"integrity.grace_period must be at least 1h", "integrity.window must be at least twice integrity.grace_period",
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
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, now.Add(-time.Hour), cfg.startTime(now))
	cfg.StartTime = "2026-01-02T03:04:05Z"
	assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), cfg.startTime(now))
}
