package datadog

import (
	"errors"
	"strings"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// ExporterConfig is the configuration both exporters share; each embeds it
// with `mapstructure:",squash"`.
type ExporterConfig struct {
	// API holds the key and the site.
	API APIConfig `mapstructure:"api"`
	// Endpoint overrides the URL built from the site (proxies, tests).
	Endpoint string `mapstructure:"endpoint"`
	// ExtraTags are added to every log or event ("env:prod").
	ExtraTags []string `mapstructure:"extra_tags"`
	// TimeoutConfig is the timeout of one request.
	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	// RetryConfig retries 408/429/5xx and network errors with backoff.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`
	// QueueConfig is the sending queue; it can be persisted in a storage extension.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
}

// DefaultQueueSize is the default capacity of a sending queue, in log
// records (sizer items). It bounds the memory a queue holds (measured with
// the demo pipeline behind a slow intake: peak RSS ~310 MB; 10,000 passed
// 590 MB). A larger batch is queued in parts (SplitForQueue).
const DefaultQueueSize = 5_000

// NewQueueConfig returns the default sending queue: in memory, sized in
// log records, and blocking when full, so that a slow or failing intake
// slows the receiver down (backpressure) instead of growing memory or
// refusing data (a refusal makes the receiver send the batch again to
// every exporter of the pipeline).
func NewQueueConfig() exporterhelper.QueueBatchConfig {
	q := exporterhelper.NewDefaultQueueConfig()
	q.Sizer = exporterhelper.RequestSizerTypeItems
	q.QueueSize = DefaultQueueSize
	q.BlockOnOverflow = true
	return q
}

// NewExporterConfig returns the shared defaults.
func NewExporterConfig() ExporterConfig {
	return ExporterConfig{
		API:           APIConfig{Site: DefaultSite},
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: 15e9},
		RetryConfig:   configretry.NewDefaultBackOffConfig(),
		QueueConfig:   configoptional.Some(NewQueueConfig()),
	}
}

// Validate checks the shared settings (the collector validates API itself).
func (c *ExporterConfig) Validate() error {
	var errs []error
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		errs = append(errs, errors.New("endpoint must be an http:// or https:// URL"))
	}
	for _, t := range c.ExtraTags {
		if strings.ContainsAny(t, ", ") || t == "" {
			errs = append(errs, errors.New("extra_tags: \""+t+"\" is not a tag (key:value, no spaces or commas)"))
		}
	}
	return errors.Join(errs...)
}
