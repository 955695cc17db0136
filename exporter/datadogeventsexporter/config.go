package datadogeventsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// Config is the configuration of the datadogevents exporter.
type Config struct {
	// The settings both exporters share, documented on datadog.ExporterConfig
	// (declared here, not embedded, so that an error names its key:
	// exporters::datadoglogs::api, not …::exporterconfig::api).
	API          datadog.APIConfig `mapstructure:"api"`
	datadog.HTTP `mapstructure:",squash"`
	ExtraTags    []string                                                 `mapstructure:"extra_tags"`
	RetryConfig  configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`
	QueueConfig  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// MinPriority is the lowest priority that makes an event: low (every
	// record) or normal (normal-priority records only).
	MinPriority string `mapstructure:"min_priority"`
	// IncludeReadOnly also makes events of read-only calls (Describe*, List*, Get*).
	IncludeReadOnly bool `mapstructure:"include_read_only"`
	// SourceTypeName is the events' source_type_name.
	SourceTypeName string `mapstructure:"source_type_name"`
	// Concurrency is how many events of one batch are posted at once.
	Concurrency int `mapstructure:"concurrency"`
	// ShedAfter is how long a batch waits for room in a full sending queue
	// (the receiver waits with it) before its records are shed; once a
	// batch was shed, the next ones are shed at once until the queue takes
	// a batch again. 0 sheds at once. Ignored when the queue blocks.
	ShedAfter time.Duration `mapstructure:"shed_after"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// Shared returns the settings both exporters share.
func (c *Config) Shared() *datadog.ExporterConfig {
	return &datadog.ExporterConfig{API: c.API, ClientConfig: c.ClientConfig, ExtraTags: c.ExtraTags, RetryConfig: c.RetryConfig, QueueConfig: c.QueueConfig}
}

// Validate checks the settings of this exporter.
func (c *Config) Validate() error {
	errs := []error{c.Shared().Validate()}
	if c.MinPriority != ctattr.PriorityLow && c.MinPriority != ctattr.PriorityNormal {
		errs = append(errs, fmt.Errorf("min_priority must be low or normal, not %q", c.MinPriority))
	}
	if c.SourceTypeName == "" {
		errs = append(errs, errors.New("source_type_name must be set"))
	}
	if c.ClientConfig.Compression != "" && c.ClientConfig.Compression != "none" {
		errs = append(errs, fmt.Errorf("compression must be none: the Events API takes uncompressed requests, not %q", c.ClientConfig.Compression))
	}
	if c.ShedAfter < 0 {
		errs = append(errs, fmt.Errorf("shed_after must not be negative, not %s", c.ShedAfter))
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		errs = append(errs, errors.New("concurrency must be between 1 and 64"))
	}
	return errors.Join(errs...)
}

// DefaultShedAfter is how long a batch waits for room in a full events
// queue by default: long enough that a backfill, where the queue is full
// only because the Events API takes one event per call, loses no event;
// short enough that an Events API outage holds the logs back only once.
const DefaultShedAfter = 30 * time.Second

func createDefaultConfig() component.Config {
	shared := datadog.NewExporterConfig()
	// When the Events API is down or rate-limited long enough to fill the
	// queue, records are shed (counted, logged) rather than slowing the
	// whole pipeline, logs included, to the pace of the Events API.
	shared.QueueConfig.Get().BlockOnOverflow = false
	return &Config{
		API: shared.API, HTTP: datadog.HTTP{ClientConfig: shared.ClientConfig}, ExtraTags: shared.ExtraTags,
		RetryConfig: shared.RetryConfig, QueueConfig: shared.QueueConfig,
		MinPriority:    ctattr.PriorityLow,
		SourceTypeName: "amazon cloudtrail",
		Concurrency:    8,
		ShedAfter:      DefaultShedAfter,
	}
}
