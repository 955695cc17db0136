package datadogeventsexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
)

// eventsOf builds the event of every record of ld, by eventID.
func eventsOf(ld plog.Logs, cfg *Config) map[string]event {
	out := map[string]event{}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				rec := datadog.ReadRecord(rl.Resource(), lr)
				out[rec.EventID] = buildEvent(rec, rl.Resource(), lr, cfg)
			}
		}
	}
	return out
}

// TestBodyModes: the public samples make the same events whatever the
// receiver's body mode (map, JSON text, attributes only with
// copy_payload_attributes); without copy_payload_attributes, attributes
// only lose the request parameters of the text and an Insight's details.
func TestBodyModes(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	texts := datadogtest.Records(t)
	withPayload := datadogtest.Logs(t, true)
	want := eventsOf(datadogtest.InMode(t, withPayload, datadogtest.ModeMap, texts), cfg)
	require.Len(t, want, 6)
	for _, mode := range datadogtest.Modes[1:] {
		assert.Equal(t, want, eventsOf(datadogtest.InMode(t, withPayload, mode, texts), cfg), mode)
	}
	// Attributes only, without the payload maps.
	bare := eventsOf(datadogtest.InMode(t, datadogtest.Logs(t, false), datadogtest.ModeNone, texts), cfg)
	require.Len(t, bare, len(want))
	withParams := 0
	for i := range want {
		require.Contains(t, bare, i)
		insight := want[i].AggregationKey[:8] == "insight:"
		if want[i].Text != bare[i].Text && !insight {
			assert.Contains(t, want[i].Text, "**Request parameters**", want[i].Title)
			assert.NotContains(t, bare[i].Text, "**Request parameters**")
			withParams++
		}
		if insight {
			assert.NotEqual(t, want[i].Title, bare[i].Title, "an Insight's type and state are in insightDetails")
			continue
		}
		w, b := want[i], bare[i]
		w.Text, b.Text = "", ""
		assert.Equal(t, w, b)
	}
	assert.Positive(t, withParams)
}
