package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
