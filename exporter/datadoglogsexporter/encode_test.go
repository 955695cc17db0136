package datadoglogsexporter

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
)

// TestMetaKeysPlain: appendEntry writes the keys of the exporter's own
// fields without escaping them; each must need none.
func TestMetaKeysPlain(t *testing.T) {
	for k := range reserved {
		assert.Equal(t, `"`+k+`"`, string(datadog.AppendString(nil, k)))
	}
	for _, f := range (&truncation{}).markers() {
		assert.True(t, reserved[f.key], f.key)
	}
}

// TestEncoderReusedAcrossBatches: the encoder kept with a pooled batch
// carries nothing from one batch to the next. Hostile JSON-text bodies
// (a member renamed, an escaped key, a text that is not an object, an
// entry over 1 MB) go first, then the public samples in each body mode,
// whose entries must be those a fresh exporter sends.
func TestEncoderReusedAcrossBatches(t *testing.T) {
	samples := datadogtest.Logs(t, false)
	texts := datadogtest.Records(t)
	hostile := cloudTrailLogs(4, "")
	for i, text := range []string{`{"service":"s","eventID":"event-00000"}`, `{"event\u0049D":"event-00001"}`, `[1]`,
		`{"eventID":"event-00003","big":"` + strings.Repeat("x", 1<<20) + `"}`} {
		hostile.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(i).Body().SetStr(text)
	}
	for _, mode := range datadogtest.Modes {
		t.Run(mode, func(t *testing.T) {
			ld := datadogtest.InMode(t, samples, mode, texts)
			in := startIntake(t)
			te := newTestExporter(t, testConfig(in.URL))
			for range 3 {
				require.NoError(t, te.exp.pushLogs(context.Background(), hostile))
			}
			before := len(in.Logs())
			require.NoError(t, te.exp.pushLogs(context.Background(), ld))
			reused := map[string]map[string]any{}
			for _, e := range in.Logs()[before:] {
				reused[e["eventID"].(string)] = e
			}
			assert.Equal(t, entriesOf(t, ld), reused)
		})
	}
}
