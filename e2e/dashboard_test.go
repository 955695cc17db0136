package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// checkDashboard: every metric of examples/datadog-dashboard.json is one
// the Agent check of examples/datadog-agent-openmetrics.yaml sends, and
// every metric that check maps is one the collector declares (our
// metadata.yaml files, exporterhelper's) or serves (scraped from col).
func checkDashboard(t *testing.T, col *devstack.Collector) {
	t.Helper()
	var agent struct {
		Instances []struct {
			Namespace string              `yaml:"namespace"`
			Metrics   []map[string]string `yaml:"metrics"`
		} `yaml:"instances"`
	}
	b, err := os.ReadFile("../examples/datadog-agent-openmetrics.yaml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &agent))
	require.Len(t, agent.Instances, 1)
	mapped := map[string]string{} // Datadog name -> Prometheus name
	for _, m := range agent.Instances[0].Metrics {
		for raw, name := range m {
			mapped[agent.Instances[0].Namespace+"."+name] = raw
		}
	}

	b, err = os.ReadFile("../examples/datadog-dashboard.json")
	require.NoError(t, err)
	var dash map[string]any
	require.NoError(t, json.Unmarshal(b, &dash), "the dashboard is JSON")
	used := regexp.MustCompile(`otelcol_cloudtrail\.[a-z_.]+`).FindAllString(string(b), -1)
	require.NotEmpty(t, used)
	for _, name := range used {
		_, ok := mapped[strings.TrimSuffix(name, ".count")]
		assert.True(t, ok, "%s of the dashboard is sent by the Agent check", name)
	}

	helper, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.opentelemetry.io/collector/exporter/exporterhelper").Output()
	require.NoError(t, err)
	declared := ""
	for _, f := range []string{"../receiver/awscloudtrailreceiver/metadata.yaml", "../exporter/datadoglogsexporter/metadata.yaml",
		"../exporter/datadogeventsexporter/metadata.yaml", filepath.Join(strings.TrimSpace(string(helper)), "metadata.yaml")} {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		declared += string(b)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", col.MetricsPort))
	require.NoError(t, err)
	served, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	for _, raw := range mapped {
		ok := strings.Contains(declared, "    "+strings.TrimPrefix(raw, "otelcol_")+":") || strings.Contains(string(served), "\n"+raw)
		assert.True(t, ok, "%s is declared in a metadata.yaml or served by the collector", raw)
	}
}
