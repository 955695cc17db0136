package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"

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
	datadog.ExporterConfig `mapstructure:",squash"`
	// Compression of the requests: gzip or none.
	Compression string `mapstructure:"compression"`
	// MaxPayloadBytes bounds one request's uncompressed size (at most 5 MB).
	MaxPayloadBytes int `mapstructure:"max_payload_bytes"`
	// MaxEntries bounds the log entries of one request (at most 1000).
	MaxEntries int `mapstructure:"max_entries"`
	// DDSource is the ddsource of CloudTrail records ("cloudtrail" selects
	// Datadog's CloudTrail log pipeline).
	DDSource string `mapstructure:"ddsource"`
	// Hostname is sent when a record's resource has no host.name.
	Hostname string `mapstructure:"hostname"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Validate checks the settings of this exporter (the collector validates
// the embedded shared settings itself).
func (c *Config) Validate() error {
	var errs []error
	if c.Compression != datadog.CompressionGzip && c.Compression != datadog.CompressionNone {
		errs = append(errs, fmt.Errorf("compression must be gzip or none, not %q", c.Compression))
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
	return &Config{
		ExporterConfig:  shared,
		Compression:     datadog.CompressionGzip,
		MaxPayloadBytes: maxPayloadBytes,
		MaxEntries:      maxEntries,
		DDSource:        "cloudtrail",
	}
}
