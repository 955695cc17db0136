package awscloudtrailreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// counterSeries returns the value of every series of an int counter of
// the receiver, by the value of its attribute key.
func (h *harness) counterSeries(t testing.TB, name, key string) map[string]int64 {
	t.Helper()
	return seriesByAttribute(t, h, name, key, func(d metricdata.Aggregation) ([]metricdata.DataPoint[int64], bool) {
		sum, ok := d.(metricdata.Sum[int64])
		return sum.DataPoints, ok
	})
}

// seriesByAttribute returns the data points of a metric of the receiver
// (points takes them out of its data), by the value of attribute key;
// empty before the metric is recorded.
func seriesByAttribute[N int64 | float64](t testing.TB, h *harness, name, key string,
	points func(metricdata.Aggregation) ([]metricdata.DataPoint[N], bool),
) map[string]N {
	t.Helper()
	out := map[string]N{}
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return out
	}
	dps, ok := points(m.Data)
	require.True(t, ok, "%s has the expected type", name)
	for _, dp := range dps {
		v, _ := dp.Attributes.Value(attribute.Key(key))
		out[v.AsString()] = dp.Value
	}
	return out
}

// TestCountersAtZeroFromStart: the counters that alerts watch exist at 0
// from the start, one series per reason (outcome, status), so that
// Prometheus' increase() sees the first failure.
func TestCountersAtZeroFromStart(t *testing.T) {
	startS3(t) // the test credentials
	zeros := func(names ...string) map[string]int64 {
		out := map[string]int64{}
		for _, n := range names {
			out[n] = 0
		}
		return out
	}
	failed := zeros("not_found", "access_denied", "throttled", "s3_error", "consumer_rejected",
		"corrupt_gzip", "invalid_json", "truncated", "not_cloudtrail", "record_too_large", "read_error")
	invalid := zeros("not_an_object", "too_deep", "number_out_of_range", "missing_event_time")

	t.Run("polling", func(t *testing.T) {
		cfg := testConfig("http://127.0.0.1:9") // nothing listens there
		h := startReceiver(t, cfg, newSink(), nil)
		assert.Equal(t, failed, h.counterSeries(t, "otelcol_receiver_awscloudtrail_objects_failed", "reason"))
		assert.Equal(t, invalid, h.counterSeries(t, "otelcol_receiver_awscloudtrail_records_invalid", "reason"))
		assert.Empty(t, h.counterSeries(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome"), "not in polling mode")
		assert.Empty(t, h.counterSeries(t, "otelcol_receiver_awscloudtrail_integrity_findings", "status"), "integrity is off")
		require.NoError(t, h.stop())
	})
	t.Run("sqs and integrity", func(t *testing.T) {
		cfg := sqsConfig("http://127.0.0.1:9", "http://127.0.0.1:9/123456789012/q")
		cfg.Integrity.Enabled = true
		h := startReceiver(t, cfg, newSink(), nil)
		assert.Equal(t, zeros("received", "deleted", "failed", "ignored"), h.counterSeries(t, "otelcol_receiver_awscloudtrail_sqs_messages", "outcome"))
		assert.Equal(t, zeros("modified", "missing", "unsigned", "bad_signature", "chain_broken"),
			h.counterSeries(t, "otelcol_receiver_awscloudtrail_integrity_findings", "status"))
		require.NoError(t, h.stop())
	})
}
