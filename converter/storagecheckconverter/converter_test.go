package storagecheckconverter

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestConvert(t *testing.T) {
	tests := []struct {
		file    string
		is      error
		errText []string
	}{
		{file: "ok.yaml"},
		{file: "not_enabled.yaml", is: ErrNotEnabled, errText: []string{
			`receivers::awscloudtrail::storage: extension "file_storage" is defined under extensions but not enabled: add it to service::extensions`,
			`exporters::datadoglogs::sending_queue::storage: extension "file_storage" is defined under extensions but not enabled`,
		}},
		{file: "not_defined.yaml", is: ErrNotDefined, errText: []string{
			`exporters::datadogevents::sending_queue::storage: extension "file_storage/queue" is not defined under extensions (defined: file_storage)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			conf, err := confmaptest.LoadConf(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			before := conf.ToStringMap()
			err = NewFactory().Create(confmap.ConverterSettings{}).Convert(context.Background(), conf)
			assert.Equal(t, before, conf.ToStringMap(), "the configuration is left unchanged")
			if tt.is == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.is)
			for _, e := range tt.errText {
				assert.Contains(t, err.Error(), e)
			}
		})
	}
}
