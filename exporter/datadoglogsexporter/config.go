package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// Limits of the Datadog logs intake.
const (
	maxPayloadBytes = 5_000_000
	maxEntries      = 1000
	maxEntryBytes   = 1_000_000
)

// Config is the configuration of the datadoglogs exporter.
type Config struct {
	// The settings both exporters share, documented on datadog.ExporterConfig
	// (declared here, not embedded, so that an error names its key:
	// exporters::datadoglogs::api, not …::exporterconfig::api).
	API          datadog.APIConfig `mapstructure:"api"`
	datadog.HTTP `mapstructure:",squash"`
	ExtraTags    []string                                                 `mapstructure:"extra_tags"`
	RetryConfig  configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
	QueueConfig  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// MaxPayloadBytes bounds one request's uncompressed size (at most 5 MB).
	MaxPayloadBytes int `mapstructure:"max_payload_bytes"`
	// MaxEntries bounds the log entries of one request (at most 1000).
	MaxEntries int `mapstructure:"max_entries"`
	// DDSource is the ddsource of CloudTrail records ("cloudtrail" selects
	// Datadog's CloudTrail log pipeline).
	DDSource string `mapstructure:"ddsource"`
	// Hostname is sent when a record's resource has no host.name (for
	// CloudTrail records only with cloudtrail.use_collector_hostname).
	Hostname string `mapstructure:"hostname"`
	// CloudTrail sets the service, host and status of CloudTrail entries.
	CloudTrail CloudTrailConfig `mapstructure:"cloudtrail"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Shared returns the settings both exporters share.
func (c *Config) Shared() *datadog.ExporterConfig {
	return &datadog.ExporterConfig{API: c.API, ClientConfig: c.ClientConfig, ExtraTags: c.ExtraTags, RetryConfig: c.RetryConfig, QueueConfig: c.QueueConfig}
}

// CloudTrailConfig is the `cloudtrail` section: how the reserved fields of
// a CloudTrail entry are set. The defaults are what Datadog's Forwarder
// sends.
type CloudTrailConfig struct {
	// Service is the entry's service (default cloudtrail, as the Forwarder).
	Service string `mapstructure:"service"`
	// ServiceFromAWSService makes the record's AWS service (ec2 for
	// ec2.amazonaws.com) the entry's service instead of Service.
	ServiceFromAWSService bool `mapstructure:"service_from_aws_service"`
	// HostFromInstanceRole sets the host to the EC2 instance ID when
	// userIdentity.arn is an instance-role session
	// (…:assumed-role/<role>/i-0123456789abcdef0), as the Forwarder.
	HostFromInstanceRole bool `mapstructure:"host_from_instance_role"`
	// UseCollectorHostname sets the host of the other entries to the
	// resource's host.name, else to `hostname`. Off: they have no host.
	UseCollectorHostname bool `mapstructure:"use_collector_hostname"`
	// SetStatus sends a status (info, or warn when the call failed). Off:
	// no status, as the Forwarder; Datadog's pipeline decides.
	SetStatus bool `mapstructure:"set_status"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the cloudtrail section.
func (c *CloudTrailConfig) Validate() error {
	if c.Service == "" || strings.ContainsAny(c.Service, ", ") {
		return fmt.Errorf("cloudtrail.service must be a service name without spaces or commas, not %q", c.Service)
	}
	return nil
}

// Validate checks the settings of this exporter.
func (c *Config) Validate() error {
	errs := []error{c.Shared().Validate()}
	if _, err := c.Shared().Compressor(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxPayloadBytes < 1000 || c.MaxPayloadBytes > maxPayloadBytes {
		errs = append(errs, fmt.Errorf("max_payload_bytes must be between 1000 and %d (the intake's limit)", maxPayloadBytes))
	}
	if c.MaxEntries < 1 || c.MaxEntries > maxEntries {
		errs = append(errs, fmt.Errorf("max_entries must be between 1 and %d (the intake's limit)", maxEntries))
	}
	if c.DDSource == "" {
		errs = append(errs, errors.New("ddsource must be set"))
	}
	return errors.Join(errs...)
}

func createDefaultConfig() component.Config {
	shared := datadog.NewExporterConfig()
	// Retry until the collector stops: a record the logs intake has not
	// accepted is never dropped by a timer (the queue blocks the receiver
	// meanwhile). 400/401/403 answers are permanent and not retried.
	shared.RetryConfig.MaxElapsedTime = 0
	// gzip by default: measured against zstd in the README ("Compression").
	shared.ClientConfig.Compression = datadog.CompressionGzip
	return &Config{
		API: shared.API, HTTP: datadog.HTTP{ClientConfig: shared.ClientConfig}, ExtraTags: shared.ExtraTags,
		RetryConfig: shared.RetryConfig, QueueConfig: shared.QueueConfig,
		MaxPayloadBytes: maxPayloadBytes,
		MaxEntries:      maxEntries,
		DDSource:        "cloudtrail",
		CloudTrail: CloudTrailConfig{
			Service:              "cloudtrail",
			HostFromInstanceRole: true,
		},
	}
}
