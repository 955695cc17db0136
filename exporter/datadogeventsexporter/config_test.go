package datadogeventsexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter/internal/metadata"
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
			assert.Equal(t, "low", c.MinPriority)
			assert.False(t, c.IncludeReadOnly)
			assert.Equal(t, "amazon cloudtrail", c.SourceTypeName)
			assert.Equal(t, 8, c.Concurrency)
		}},
		{name: "full", check: func(t *testing.T, c *Config) {
			assert.Equal(t, "us5.datadoghq.com", c.API.Site)
			assert.Equal(t, "http://127.0.0.1:8080", c.ClientConfig.Endpoint)
			assert.Equal(t, "normal", c.MinPriority)
			assert.True(t, c.IncludeReadOnly)
			assert.Equal(t, "my cloudtrail", c.SourceTypeName)
			assert.Equal(t, 2, c.Concurrency)
			assert.Equal(t, 5*time.Second, c.ClientConfig.Timeout)
			assert.Equal(t, "http://proxy.internal:3128", c.ClientConfig.ProxyURL)
			assert.Equal(t, "/etc/ssl/corp-ca.pem", c.ClientConfig.TLS.CAFile)
			v, _ := c.ClientConfig.Headers.Get("X-Team")
			assert.Equal(t, "security", string(v))
		}},
		{name: "invalid", errText: []string{"key must be set", `min_priority must be low or normal, not "high"`,
			"source_type_name must be set", "concurrency must be between 1 and 64",
			`compression must be none: the Events API takes uncompressed requests, not "gzip"`}},
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

func TestURLs(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "https://api.datadoghq.com/api/v1/events", eventsURL(cfg))
	cfg.API.Site = "datadoghq.eu"
	assert.Equal(t, "https://api.datadoghq.eu/api/v1/events", eventsURL(cfg))
	cfg.ClientConfig.Endpoint = "http://localhost:1234/"
	assert.Equal(t, "http://localhost:1234/api/v1/events", eventsURL(cfg))
}
