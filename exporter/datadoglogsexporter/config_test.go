package datadoglogsexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	tests := []struct {
		name    string
		check   func(t *testing.T, c *Config)
		errText []string
	}{
		{name: "", check: func(t *testing.T, c *Config) {
			assert.Equal(t, "datadoghq.com", c.API.Site)
			assert.Equal(t, "gzip", string(c.ClientConfig.Compression), "gzip by default (README, Compression)")
			assert.Equal(t, 5_000_000, c.MaxPayloadBytes)
			assert.Equal(t, 1000, c.MaxEntries)
			assert.Equal(t, "cloudtrail", c.DDSource)
			assert.Equal(t, 15*time.Second, c.ClientConfig.Timeout)
			assert.Empty(t, c.ClientConfig.ProxyURL, "the proxy environment variables apply")
			assert.Equal(t, 16, c.ClientConfig.Keepalive.Get().MaxIdleConnsPerHost)
			assert.True(t, c.QueueConfig.HasValue())
			assert.Equal(t, CloudTrailConfig{Service: "cloudtrail", HostFromInstanceRole: true}, c.CloudTrail, "the Forwarder's conventions")
		}},
		{name: "full", check: func(t *testing.T, c *Config) {
			assert.Equal(t, "datadoghq.eu", c.API.Site)
			assert.Equal(t, "https://proxy.example.com", c.ClientConfig.Endpoint)
			assert.Equal(t, "zstd", string(c.ClientConfig.Compression))
			assert.Equal(t, 3, int(c.ClientConfig.CompressionParams.Level))
			assert.Equal(t, 1_000_000, c.MaxPayloadBytes)
			assert.Equal(t, 500, c.MaxEntries)
			assert.Equal(t, "my-source", c.DDSource)
			assert.Equal(t, "collector-1", c.Hostname)
			assert.Equal(t, CloudTrailConfig{Service: "ec2-audit", ServiceFromAWSService: true, UseCollectorHostname: true, SetStatus: true}, c.CloudTrail)
			assert.Equal(t, []string{"env:prod", "team:sec"}, c.ExtraTags)
			assert.Equal(t, 30*time.Second, c.ClientConfig.Timeout)
			assert.Equal(t, "http://proxy.internal:3128", c.ClientConfig.ProxyURL)
			assert.True(t, c.ClientConfig.TLS.InsecureSkipVerify)
			assert.Equal(t, "1.3", c.ClientConfig.TLS.MinVersion)
			v, _ := c.ClientConfig.Headers.Get("X-Team")
			assert.Equal(t, "security", string(v))
			assert.Equal(t, 4, c.ClientConfig.Keepalive.Get().MaxIdleConnsPerHost)
			assert.Equal(t, 100, c.ClientConfig.Keepalive.Get().MaxIdleConns, "the other defaults stay")
			assert.Equal(t, time.Second, c.RetryConfig.InitialInterval)
			assert.Equal(t, 4, c.QueueConfig.Get().NumConsumers)
		}},
		{name: "no_key", errText: []string{"key must be set"}},
		{name: "invalid", errText: []string{`site "datadog.com" is not a Datadog site; use one of: datadoghq.com, datadoghq.eu`,
			"endpoint must be an http:// or https:// URL", `compression must be gzip, zstd or none, not "lz4"`,
			"max_payload_bytes must be between", "max_entries must be between", "ddsource must be set", `"bad tag" is not a tag`,
			`cloudtrail.service must be a service name without spaces or commas, not ""`, "timeout must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, tt.name).String())
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
			tt.check(t, cfg)
		})
	}
}
