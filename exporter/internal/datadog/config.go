package datadog

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// ExporterConfig is the configuration both exporters share, as the run-time
// part they share (NewExporter, NewLogs) reads it. Each exporter declares
// these fields in its own Config, with the same keys, and returns them with
// Shared; it does not embed this struct: the collector names a validation
// error by the path of Go fields, and an embedded (squashed) struct adds
// its type name to the path (exporters::datadogevents::exporterconfig::api
// instead of exporters::datadogevents::api).
type ExporterConfig struct {
	// API holds the key and the site.
	API APIConfig `mapstructure:"api"`
	// ClientConfig is the HTTP client configuration (see HTTP).
	ClientConfig confighttp.ClientConfig
	// ExtraTags are added to every log or event ("env:prod").
	ExtraTags []string `mapstructure:"extra_tags"`
	// RetryConfig retries 408/429/5xx and network errors with backoff.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`
	// QueueConfig is the sending queue; it can be persisted in a storage extension.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
}

// HTTP holds the collector's HTTP client configuration, as in contrib's
// Datadog components: endpoint (the base URL instead of the site's, for
// proxies and tests), proxy_url, tls, timeout (of one request), headers,
// auth, connection pool. Its compression is not used to compress requests:
// the exporters compress themselves. Each exporter embeds HTTP with
// `mapstructure:",squash"`, and HTTP holds ClientConfig as a named,
// squashed field, so that the collector's decoder does not call
// ClientConfig's Unmarshal: squashed straight into a component's
// configuration, that Unmarshal decodes its own keys and the decoder then
// ignores every key it does not know (a typo would pass unnoticed).
type HTTP struct {
	ClientConfig confighttp.ClientConfig `mapstructure:",squash"`
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
	hc := confighttp.NewDefaultClientConfig()
	hc.Timeout = 15 * time.Second
	ka := confighttp.NewDefaultKeepaliveClientConfig()
	ka.MaxIdleConnsPerHost = 16
	hc.Keepalive = configoptional.Some(ka)
	return ExporterConfig{
		API:          APIConfig{Site: DefaultSite},
		ClientConfig: hc,
		RetryConfig:  configretry.NewDefaultBackOffConfig(),
		QueueConfig:  configoptional.Some(NewQueueConfig()),
	}
}

// Compressor returns the compressor of the `compression` setting.
func (c *ExporterConfig) Compressor() (*Compressor, error) {
	return NewCompressor(c.ClientConfig.Compression, c.ClientConfig.CompressionParams.Level)
}

// HTTPClient returns the HTTP client of the configuration (proxy, TLS,
// timeout, headers, auth and middleware extensions of host). It does not
// compress: the Client does (Compressor), once.
func (c *ExporterConfig) HTTPClient(ctx context.Context, host component.Host, set component.TelemetrySettings) (*http.Client, error) {
	cc := c.ClientConfig
	cc.Compression = ""
	var ext map[component.ID]component.Component
	if host != nil {
		ext = host.GetExtensions()
	}
	return cc.ToClient(ctx, ext, set)
}

// Validate checks the shared settings that have no Validate of their own;
// each exporter's Validate calls it (the collector validates API,
// ClientConfig, RetryConfig and QueueConfig through the exporter's fields).
func (c *ExporterConfig) Validate() error {
	var errs []error
	if c.ClientConfig.Timeout < 0 {
		errs = append(errs, errors.New("timeout must not be negative"))
	}
	if e := c.ClientConfig.Endpoint; e != "" && !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
		errs = append(errs, errors.New("endpoint must be an http:// or https:// URL"))
	}
	for _, t := range c.ExtraTags {
		if strings.ContainsAny(t, ", ") || t == "" {
			errs = append(errs, errors.New("extra_tags: \""+t+"\" is not a tag (key:value, no spaces or commas)"))
		}
	}
	return errors.Join(errs...)
}
