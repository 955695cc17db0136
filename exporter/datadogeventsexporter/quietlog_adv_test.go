package datadogeventsexporter

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// TestWithoutQueueFullErrorsKeepsSampling: the collector's logger samples
// (zap's sampler core, under the filter). A rejection for another error
// than a full queue must be sampled as before the filter: the same number
// of lines kept with and without it. Check sends every rejection to the
// filter's Write: the sampler's Check, where it samples, must still be
// asked (it was not, at first: 10 of 10 kept, 2 without the filter).
func TestWithoutQueueFullErrorsKeepsSampling(t *testing.T) {
	const first, n = 2, 10
	for _, tc := range []struct {
		name string
		log  func(*zap.Logger)
	}{
		{"other rejection", func(l *zap.Logger) { l.Error(rejecting, zap.Error(errors.New("permanent: 400 Bad Request"))) }},
		{"other error line", func(l *zap.Logger) { l.Error("failed", zap.Error(exporterhelper.ErrQueueIsFull)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kept := func(wrap func(*zap.Logger) *zap.Logger) int {
				obs, logged := observer.New(zap.InfoLevel)
				sampled := zapcore.NewSamplerWithOptions(obs, time.Hour, first, 0)
				l := wrap(zap.New(sampled))
				for range n {
					tc.log(l)
				}
				return logged.Len()
			}
			without := kept(func(l *zap.Logger) *zap.Logger { return l })
			assert.Equal(t, first, without)
			assert.Equal(t, without, kept(withoutQueueFullErrors), "lines kept with the filter")
		})
	}
}
