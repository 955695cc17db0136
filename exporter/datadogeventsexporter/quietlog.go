package datadogeventsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"

import (
	"errors"
	"strings"

	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// withoutQueueFullErrors returns logger without exporterhelper's error
// line for a batch the full sending queue refused: shedding waits and
// tries again (every 10–500 ms for shed_after), which is normal in a
// backfill and would log one error with a stack trace per attempt. The
// shedding logs what it does itself; other errors are kept.
func withoutQueueFullErrors(logger *zap.Logger) *zap.Logger {
	return logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return queueFullFilter{c} }))
}

type queueFullFilter struct{ zapcore.Core }

func (f queueFullFilter) With(fields []zapcore.Field) zapcore.Core {
	return queueFullFilter{f.Core.With(fields)}
}

// rejecting starts exporterhelper's line for a refused batch.
const rejecting = "Exporting failed. Rejecting data."

// Check leaves every other entry to the wrapped core (its sampling too);
// a rejection goes through Write, which looks at its error.
func (f queueFullFilter) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !strings.HasPrefix(e.Message, rejecting) {
		return f.Core.Check(e, ce)
	}
	if !f.Enabled(e.Level) {
		return ce
	}
	return ce.AddCore(e, f)
}

func (f queueFullFilter) Write(e zapcore.Entry, fields []zapcore.Field) error {
	for _, fd := range fields {
		if err, ok := fd.Interface.(error); ok && fd.Type == zapcore.ErrorType && errors.Is(err, exporterhelper.ErrQueueIsFull) {
			return nil
		}
	}
	return f.Core.Write(e, fields)
}
