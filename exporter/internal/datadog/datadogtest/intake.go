package datadogtest

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// APIKey is the API key of the exporters' tests: StartIntake's intake
// accepts it and Configure sets it.
const APIKey = "0123456789abcdef0123456789abcdef"

// StartIntake starts a Datadog intake emulator that accepts APIKey and is
// closed when t ends. When clock is not zero, it is the intake's time (the
// events intake refuses events older than 18 hours against it).
func StartIntake(t testing.TB, clock time.Time) *devstack.Intake {
	t.Helper()
	in, err := devstack.StartIntake("", APIKey)
	if err != nil {
		t.Fatal(err)
	}
	if !clock.IsZero() {
		in.SetNow(func() time.Time { return clock })
	}
	t.Cleanup(in.Close)
	return in
}

// Settings returns the settings of an exporter of type typ under test: its
// telemetry is recorded in tel (shut down when t ends) and its log lines,
// from debug up, in logs.
func Settings(t testing.TB, typ component.Type) (set exporter.Settings, tel *componenttest.Telemetry, logs *observer.ObservedLogs) {
	tel = componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	core, logs := observer.New(zap.DebugLevel)
	set = exportertest.NewNopSettings(typ)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	set.Logger = zap.New(core)
	return set, tel, logs
}
