package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestValidate runs `otelcol-cloudtrail validate` on configurations with
// the mistakes that used to pass validation and fail at run time (or never):
// each is reported with its key and value, and a right configuration passes.
func TestValidate(t *testing.T) {
	bin := binary(t)
	tests := []struct {
		file string
		want []string // empty: valid
	}{
		{file: "good.yaml"},
		{file: "no_unit.yaml", want: []string{"poll_interval 5 is a number without a unit"}},
		// The storage check runs first (when the configuration is resolved);
		// its mistakes are reported before the components' own.
		{file: "mistakes.yaml", want: []string{
			`receivers::awscloudtrail::storage: extension "file_storage" is defined under extensions but not enabled: add it to service::extensions`,
			`exporters::datadoglogs::sending_queue::storage: extension "file_storage/queue" is defined under extensions but not enabled`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := exec.Command(bin, "validate", "--config", filepath.Join("testdata", "validate", tt.file)).CombinedOutput()
			if len(tt.want) == 0 {
				require.NoError(t, err, string(out))
				return
			}
			require.Error(t, err, string(out))
			for _, w := range tt.want {
				assert.Contains(t, string(out), w)
			}
		})
	}
	t.Run("shipped configurations", func(t *testing.T) {
		for _, config := range []string{"../examples/aws.yaml", "../testdata/demo/config.yaml"} {
			cmd := exec.Command(bin, "validate", "--config", config, healthGate)
			cmd.Env = append(os.Environ(), "DD_API_KEY=0123456789abcdef0123456789abcdef", "DEMO_STORAGE_DIR=/tmp",
				"DEMO_S3_ENDPOINT=http://127.0.0.1:9", "DEMO_DD_ENDPOINT=http://127.0.0.1:9", "DEMO_START_TIME=2026-11-01T00:00:00Z",
				"DEMO_HEALTH_PORT=13133", "DEMO_METRICS_PORT=8888")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s: %s", config, out)
		}
	})
	t.Run("component mistakes", func(t *testing.T) {
		// mistakes.yaml with its extensions enabled: the receiver's own checks.
		out, err := exec.Command(bin, "validate", "--config", filepath.Join("testdata", "validate", "mistakes.yaml"),
			"--set", "service.extensions=[file_storage,file_storage/queue]").CombinedOutput()
		require.Error(t, err, string(out))
		for _, w := range []string{
			`receivers::awscloudtrail: region "us-east1" is not an AWS region name`,
			`receivers::awscloudtrail::trails::0: bucket "s3://my-bucket/AWSLogs/" is not an S3 bucket name (the name only, without s3:// or a key: bucket: my-bucket, prefix: "")`,
		} {
			assert.Contains(t, string(out), w)
		}
		assert.NotContains(t, string(out), "start_time", "an unquoted start_time is a time")
	})
}

// TestReadmeExamples runs `validate` on the collector configurations of the
// root README as a reader copies them: each complete one (with receivers
// and service) alone, each fragment merged over the first complete one (the
// collector merges several --config files). Builder manifests, Prometheus
// rules and blocks elided with "..." are not collector configurations.
func TestReadmeExamples(t *testing.T) {
	bin := binary(t)
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	require.NotEmpty(t, blocks)
	dir := t.TempDir()
	var base string
	validated := 0
	for i, m := range blocks {
		text := m[1]
		var doc map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(text), &doc), "README yaml block %d:\n%s", i, text)
		if doc["groups"] != nil || doc["dist"] != nil || doc["receivers"] != nil && strings.Contains(text, "gomod:") || strings.Contains(text, "...") {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("block%d.yaml", i))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
		args := []string{"validate", healthGate}
		if doc["receivers"] != nil && doc["service"] != nil {
			if base == "" {
				base = path
			}
		} else {
			require.NotEmpty(t, base, "README yaml block %d is a fragment before any complete configuration", i)
			args = append(args, "--config", base)
		}
		args = append(args, "--config", path)
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "DD_API_KEY=0123456789abcdef0123456789abcdef", "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "README yaml block %d:\n%s\n%s", i, text, out)
		validated++
	}
	assert.GreaterOrEqual(t, validated, 4, "the durable example, the processor examples and the health_check block")
}
