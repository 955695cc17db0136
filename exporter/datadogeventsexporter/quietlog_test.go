package datadogeventsexporter

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestWithoutQueueFullErrors(t *testing.T) {
	tests := []struct {
		name string
		log  func(*zap.Logger)
		kept bool
	}{
		{"queue full", func(l *zap.Logger) { l.Error(rejecting, zap.Error(exporterhelper.ErrQueueIsFull)) }, false},
		{"queue full, wrapped", func(l *zap.Logger) {
			l.Error(rejecting+" Try enabling retry_on_failure", zap.Error(fmt.Errorf("send: %w", exporterhelper.ErrQueueIsFull)))
		}, false},
		{"other rejection", func(l *zap.Logger) { l.Error(rejecting, zap.Error(errors.New("permanent: 400 Bad Request"))) }, true},
		{"other message with the error", func(l *zap.Logger) { l.Warn("queue", zap.Error(exporterhelper.ErrQueueIsFull)) }, true},
		{"fields given before", func(l *zap.Logger) {
			l.With(zap.String("exporter", "datadogevents")).Error(rejecting, zap.Error(exporterhelper.ErrQueueIsFull))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logged := observer.New(zap.InfoLevel)
			tt.log(withoutQueueFullErrors(zap.New(core)))
			assert.Equal(t, tt.kept, logged.Len() == 1)
		})
	}
}
