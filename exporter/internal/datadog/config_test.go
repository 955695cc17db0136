package datadog_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"
)

// collectorValidate validates an exporter's configuration as the collector
// does (otelcol.Config: confmap.Validate over its `exporters` map), so that
// the error names the setting by the path the collector prints.
func collectorValidate(id component.ID, cfg component.Config) error {
	return confmap.Validate(struct {
		Exporters map[component.ID]component.Config `mapstructure:"exporters"`
	}{map[component.ID]component.Config{id: cfg}})
}

// TestValidationErrorPaths: a mistake in a shared setting is named by the
// keys the user wrote in the YAML (exporters::datadogevents::api), not by
// the Go struct the setting is declared in (exporterconfig), for both
// exporters.
func TestValidationErrorPaths(t *testing.T) {
	for _, f := range []exporter.Factory{datadoglogsexporter.NewFactory(), datadogeventsexporter.NewFactory()} {
		t.Run(f.Type().String(), func(t *testing.T) {
			id := component.NewID(f.Type())
			p := "exporters::" + f.Type().String()

			// No api.key (the default configuration).
			err := collectorValidate(id, f.CreateDefaultConfig())
			require.Error(t, err)
			assert.Equal(t, p+"::api: key must be set (for example key: ${env:DD_API_KEY})", err.Error())

			// A key, and a mistake in each other shared section.
			cfg := f.CreateDefaultConfig()
			conf := confmap.NewFromStringMap(map[string]any{
				"api":              map[string]any{"key": "k", "site": "datadog.com"},
				"sending_queue":    map[string]any{"queue_size": -1},
				"retry_on_failure": map[string]any{"randomization_factor": 2},
				"extra_tags":       []any{"team a"},
				"tls":              map[string]any{"min_version": "0.9"},
			})
			require.NoError(t, conf.Unmarshal(cfg))
			err = collectorValidate(id, cfg)
			require.Error(t, err)
			msg := err.Error()
			assert.NotContains(t, msg, "exporterconfig")
			for _, line := range []string{
				p + `::api: site "datadog.com" is not a Datadog site; use one of: datadoghq.com,`,
				p + "::sending_queue: ",
				p + "::retry_on_failure: ",
				p + `: extra_tags: "team a" is not a tag (key:value, no spaces or commas)`,
				// confighttp's own check: the path of the squashed
				// client settings, as the exporters' READMEs say.
				p + `::http::clientconfig::tls: invalid TLS min_version`,
			} {
				assert.True(t, hasLinePrefix(msg, line), "a line starting %q in:\n%s", line, msg)
			}
		})
	}
}

func hasLinePrefix(text, prefix string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestUnknownKeysRefused: a key neither exporter knows (a typo) is refused
// when the configuration is decoded, also beside the squashed HTTP client
// settings (whose own Unmarshal, were the decoder to call it, ignores the
// keys it does not know and makes the decoder ignore the others too).
func TestUnknownKeysRefused(t *testing.T) {
	for _, f := range []exporter.Factory{datadoglogsexporter.NewFactory(), datadogeventsexporter.NewFactory()} {
		t.Run(f.Type().String(), func(t *testing.T) {
			conf := confmap.NewFromStringMap(map[string]any{
				"api":             map[string]any{"key": "k"},
				"timeout":         "5s",
				"no_such_setting": 1,
			})
			err := conf.Unmarshal(f.CreateDefaultConfig())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "no_such_setting")
		})
	}
}
