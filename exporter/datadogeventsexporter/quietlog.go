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

// Check leaves every other entry to the wrapped core. A rejection is
// checked by the wrapped core too (its level and sampling decide), and
// written through it unless its error is a full queue.
func (f queueFullFilter) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if !strings.HasPrefix(e.Message, rejecting) {
		return f.Core.Check(e, ce)
	}
	inner := f.Core.Check(e, nil)
	if inner == nil {
		return ce
	}
	return ce.AddCore(e, rejection{Core: f.Core, inner: inner})
}

// rejection writes one checked rejection through the wrapped core's
// checked entry, unless its error is a full queue.
type rejection struct {
	zapcore.Core
	inner *zapcore.CheckedEntry
}

func (r rejection) Write(_ zapcore.Entry, fields []zapcore.Field) error {
	for _, fd := range fields {
		if err, ok := fd.Interface.(error); ok && fd.Type == zapcore.ErrorType && errors.Is(err, exporterhelper.ErrQueueIsFull) {
			return nil
		}
	}
	r.inner.Write(fields...)
	return nil
}
