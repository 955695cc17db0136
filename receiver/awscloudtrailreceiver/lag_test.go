package awscloudtrailreceiver

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// gauge scrapes a gauge of the receiver's telemetry, by trail.
func (h *harness) gauge(t testing.TB, name string) map[string]float64 {
	t.Helper()
	return seriesByAttribute(t, h, name, "trail", func(d metricdata.Aggregation) ([]metricdata.DataPoint[float64], bool) {
		g, ok := d.(metricdata.Gauge[float64])
		return g.DataPoints, ok
	})
}

const testTrail = testBucket + "/"

// TestLagGrowsWhileStalled: the lag is computed when scraped, from the
// newest eventTime delivered, so it grows while nothing new is delivered
// instead of freezing at its last value.
func TestLagGrowsWhileStalled(t *testing.T) {
	s3srv := startS3(t)
	_, ids := putFolder(t, s3srv, "333333333333", t0, 3, 1)
	sk := newSink()
	h := startReceiver(t, testConfig(s3srv.URL), sk, componenttest.NewNopHost())
	require.Eventually(t, func() bool { return hasAll(sk, ids) }, waitFor, 5*time.Millisecond)

	newest := t0.Add(2*time.Minute + time.Second) // genRecords: one record per file, at its minute
	// The sink holds the records as soon as ConsumeLogs has them; the
	// receiver notes the delivery when ConsumeLogs returns, so wait for the
	// gauge to reflect the newest record (an older one reads 60 s more).
	var first float64
	require.Eventually(t, func() bool {
		first = h.gauge(t, "otelcol_receiver_awscloudtrail_lag")[testTrail]
		return first > 0 && first < time.Since(newest).Seconds()+30
	}, waitFor, 5*time.Millisecond, "the lag reflects the newest record delivered")
	assert.InDelta(t, time.Since(newest).Seconds(), first, 30, "now − the newest eventTime delivered")
	require.Eventually(t, func() bool {
		return h.gauge(t, "otelcol_receiver_awscloudtrail_lag")[testTrail] > first+0.05
	}, waitFor, 10*time.Millisecond, "the lag grows while the trail delivers nothing")
	// The object lag is noted when an object is read to its end, after its
	// last batch was accepted (and after the lag above): wait for it too.
	require.Eventually(t, func() bool {
		return h.gauge(t, "otelcol_receiver_awscloudtrail_object_lag")[testTrail] > 0
	}, waitFor, 5*time.Millisecond, "the object lag is reported once an object was read to its end")
	require.NoError(t, h.stop())
}

// TestOldestUnreadAge: an object listed but not read (its GET denied) shows
// as the age of the oldest unread object of its trail; 0 once it is read.
func TestOldestUnreadAge(t *testing.T) {
	s3srv := startS3(t)
	keys, ids := putFolder(t, s3srv, "333333333333", t0, 3, 1)
	s3srv.FailGet(testBucket, keys[1], devstack.Fault{Status: 403, Code: "AccessDenied"})
	sk := newSink()
	cfg := testConfig(s3srv.URL)
	h := startReceiver(t, cfg, sk, componenttest.NewNopHost())
	require.Eventually(t, func() bool { return s3srv.Gets(testBucket, keys[1]) >= 2 }, waitFor, 5*time.Millisecond)
	// The other two objects are unread too until each is finished (after
	// its records were accepted), and the first is a minute older: once
	// they are, the denied object is the oldest unread one.
	require.Eventually(t, func() bool {
		age := h.gauge(t, "otelcol_receiver_awscloudtrail_oldest_unread_age")[testTrail]
		return math.Abs(time.Since(t0.Add(time.Minute)).Seconds()-age) <= 5
	}, waitFor, 5*time.Millisecond, "the age of the denied object, from its name")

	s3srv.FailGet(testBucket, keys[1], devstack.Fault{Status: 403, Code: "AccessDenied", Times: 1}) // the last denial
	require.Eventually(t, func() bool { return hasAll(sk, ids) }, waitFor, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		v, ok := h.gauge(t, "otelcol_receiver_awscloudtrail_oldest_unread_age")[testTrail]
		return ok && v == 0
	}, waitFor, 5*time.Millisecond, "nothing waits")
	require.NoError(t, h.stop())
}

// TestLagBeforeAnyDelivery: the lag of a configured trail whose S3
// endpoint refuses every connection exists from the start, counting from
// start_time (nothing before it is read, on purpose), and grows while
// nothing is delivered — so a stall alert fires for a trail never read.
// Nothing waits: its oldest_unread_age is 0.
func TestLagBeforeAnyDelivery(t *testing.T) {
	startS3(t)                              // the test credentials
	cfg := testConfig("http://127.0.0.1:9") // nothing listens there
	cfg.Trails = []TrailConfig{{Bucket: "refused-bucket", Prefix: "org/"}}
	const trail = "refused-bucket/org"
	h := startReceiver(t, cfg, newSink(), componenttest.NewNopHost())

	floor := cfg.startTime(time.Now())
	lag, ok := h.gauge(t, "otelcol_receiver_awscloudtrail_lag")[trail]
	require.True(t, ok, "the lag of %s exists before any delivery: %v", trail, h.gauge(t, "otelcol_receiver_awscloudtrail_lag"))
	assert.InDelta(t, time.Since(floor).Seconds(), lag, 5, "now − start_time")
	objLag, ok := h.gauge(t, "otelcol_receiver_awscloudtrail_object_lag")[trail]
	require.True(t, ok)
	assert.InDelta(t, time.Since(floor).Seconds(), objLag, 5)
	age, ok := h.gauge(t, "otelcol_receiver_awscloudtrail_oldest_unread_age")[trail]
	require.True(t, ok)
	assert.Zero(t, age)
	require.Eventually(t, func() bool {
		return h.gauge(t, "otelcol_receiver_awscloudtrail_lag")[trail] > lag+0.05
	}, waitFor, 10*time.Millisecond, "the lag grows while nothing is delivered")
	require.NoError(t, h.stop())
}

// TestLagOfDiscoveredTrail: a discovered trail whose bucket is missing has
// a lag from the refresh that found it, counting from start_time.
func TestLagOfDiscoveredTrail(t *testing.T) {
	s3srv := startS3(t)
	s3srv.AWS().PutTrail(devstack.Trail{Name: "gone", HomeRegion: "us-east-1", Account: "111111111111",
		Bucket: "missing-bucket", Prefix: "p", Logging: true})
	cfg := discoveryConfig(s3srv.URL)
	h := startReceiver(t, cfg, newSink(), componenttest.NewNopHost())
	require.Eventually(t, func() bool { return s3srv.Lists("missing-bucket", "p/AWSLogs/") >= 1 }, waitFor, 5*time.Millisecond)
	lag, ok := h.gauge(t, "otelcol_receiver_awscloudtrail_lag")["missing-bucket/p"]
	require.True(t, ok, "%v", h.gauge(t, "otelcol_receiver_awscloudtrail_lag"))
	assert.InDelta(t, time.Since(cfg.startTime(time.Now())).Seconds(), lag, 5)
	require.NoError(t, h.stop())
}
