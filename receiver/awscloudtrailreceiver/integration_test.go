package awscloudtrailreceiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadatatest"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// trailTree seeds a bucket with several accounts and regions, an
// organization layout, samples, insight, digest and plain JSON files. It
// returns the eventIDs that must be delivered and the source records.
func trailTree(t testing.TB, s3srv *devstack.S3Server) (want []string, source map[string]map[string]any) {
	source = map[string]map[string]any{}
	add := func(key string, recs []map[string]any) {
		want = append(want, putFile(t, s3srv, key, recs)...)
		for _, r := range recs {
			source[r["eventID"].(string)] = r
		}
	}
	for i, acct := range []string{"111111111111", "333333333333"} {
		for j, region := range []string{"us-east-1", "eu-west-1"} {
			g := trailgen.New(uint64(100+10*i+j), acct, region)
			for f := 0; f < 3; f++ {
				at := t0.Add(time.Duration(f*5) * time.Minute)
				add(trailgen.Key("", "", acct, "CloudTrail", region, at, fmt.Sprintf("u%d", f)), genRecords(g, at, 10+f))
			}
		}
	}
	// Organization trail layout.
	g := trailgen.New(200, "222222222222", "us-west-2")
	add(trailgen.Key("", "o-abcdefghij", "222222222222", "CloudTrail", "us-west-2", t0, "org1"), genRecords(g, t0, 7))
	// Public samples: console logins lack recipientAccountId (the key's account stands in).
	add(trailgen.Key("", "", "111122223333", "CloudTrail", "us-east-2", t0, "login"), loadSamples(t, "console-login.ndjson"))
	add(trailgen.Key("", "", "111111111111", "CloudTrail", "us-east-2", t0, "sts"), loadSamples(t, "assume-role.ndjson"))
	// Insight files.
	gi := trailgen.New(300, "123456789012", "us-east-1")
	insights := append(loadSamples(t, "insight.ndjson"), gi.Insight(t0))
	add(trailgen.Key("", "", "123456789012", "CloudTrail-Insight", "us-east-1", t0, "ins"), insights)
	// A plain JSON (not gzipped) file.
	gp := trailgen.New(400, "123456789012", "us-east-1")
	plain := genRecords(gp, t0, 4)
	key := trailgen.Key("", "", "123456789012", "CloudTrail", "us-east-1", t0, "plain")
	require.NoError(t, s3srv.Put(testBucket, key[:len(key)-len(".gz")], trailgen.LogFile(plain, false)))
	for _, r := range plain {
		want = append(want, r["eventID"].(string))
		source[r["eventID"].(string)] = r
	}
	// A digest file: never records.
	digest := []byte(`{"awsAccountId":"111111111111","digestStartTime":"2026-11-20T09:00:00Z","logFiles":[]}`)
	dkey := "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/11/20/111111111111_CloudTrail-Digest_us-east-1_trail_us-east-1_20261120T100000Z.json.gz"
	require.NoError(t, s3srv.Put(testBucket, dkey, devstack.Gzip(digest)))
	return want, source
}

func TestIntegrationTrailTree(t *testing.T) {
	forBodyModes(t, func(t *testing.T, body string) {
		s3srv := startS3(t)
		want, source := trailTree(t, s3srv)
		sk := newSink()
		cfg := testConfig(s3srv.URL)
		cfg.Body = body
		h := startReceiver(t, cfg, sk, nil)

		require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 20*time.Millisecond)

		// A file delivered late, whose key sorts behind the newest file read,
		// is read once; one older than the lookback window is not.
		late := genRecords(trailgen.New(500, "111111111111", "us-east-1"), t0.Add(2*time.Minute), 5)
		lateIDs := putFile(t, s3srv, trailgen.Key("", "", "111111111111", "CloudTrail", "us-east-1", t0.Add(2*time.Minute), "late"), late)
		want = append(want, lateIDs...)
		tooLate := genRecords(trailgen.New(501, "111111111111", "us-east-1"), t0.Add(-2*time.Hour), 3)
		tooLateKey := trailgen.Key("", "", "111111111111", "CloudTrail", "us-east-1", t0.Add(-2*time.Hour), "toolate")
		putFile(t, s3srv, tooLateKey, tooLate)
		for _, r := range late {
			source[r["eventID"].(string)] = r
		}
		require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 20*time.Millisecond)
		waitPolls(t, s3srv, testBucket, "AWSLogs/111111111111/CloudTrail/us-east-1/") // nothing is read twice
		require.NoError(t, h.stop())

		got := sk.ids()
		assert.Len(t, got, len(want))
		for _, id := range want {
			assert.Equal(t, 1, got[id], "eventID %s delivered %d times", id, got[id])
		}
		assert.Empty(t, sk.duplicates())
		assert.Zero(t, s3srv.Gets(testBucket, tooLateKey), "a file older than the lookback window is not read")

		// Every record: body equal to the source, contract attributes present.
		for id, src := range source {
			lr, ok := sk.records[id]
			require.True(t, ok, id)
			assertBody(t, body, src, lr)
			attrs := lr.Attributes().AsRaw()
			assert.Equal(t, id, attrs[ctattr.AttrEventID])
			assert.Contains(t, []any{ctattr.PriorityNormal, ctattr.PriorityLow}, attrs[ctattr.AttrPriority])
			assert.Equal(t, testBucket, attrs[ctattr.AttrS3Bucket])
			assert.NotEmpty(t, attrs[ctattr.AttrS3Key])
			if _, hasErr := src["errorCode"]; hasErr {
				assert.Equal(t, plog.SeverityNumberWarn, lr.SeverityNumber(), id)
			} else {
				assert.Equal(t, plog.SeverityNumberInfo, lr.SeverityNumber(), id)
			}
			ts, _ := time.Parse(time.RFC3339, src["eventTime"].(string))
			assert.Equal(t, pcommon.NewTimestampFromTime(ts), lr.Timestamp(), id)
			assert.NotZero(t, lr.ObservedTimestamp())
		}

		// The sample records, attribute by attribute: TestGoldenSamples.

		// Telemetry: records by priority as delivered, every log file but the
		// digest and the one outside the window.
		byPriority := map[string]int64{}
		for _, lr := range sk.records {
			p, _ := lr.Attributes().Get(ctattr.AttrPriority)
			byPriority[p.Str()]++
		}
		require.Positive(t, byPriority[ctattr.PriorityNormal])
		metadatatest.AssertEqualReceiverAwscloudtrailRecords(t, h.tel, []metricdata.DataPoint[int64]{
			{Attributes: attribute.NewSet(attribute.String("priority", ctattr.PriorityNormal)), Value: byPriority[ctattr.PriorityNormal]},
			{Attributes: attribute.NewSet(attribute.String("priority", ctattr.PriorityLow)), Value: byPriority[ctattr.PriorityLow]},
		}, metricdatatest.IgnoreTimestamp())
		metadatatest.AssertEqualReceiverAwscloudtrailObjectsRead(t, h.tel, []metricdata.DataPoint[int64]{{Value: 18}}, metricdatatest.IgnoreTimestamp())
		assert.Positive(t, h.counter(t, "otelcol_receiver_awscloudtrail_bytes_read", "", ""))
	})
}

func TestIntegrationInsightsDisabled(t *testing.T) {
	s3srv := startS3(t)
	gi := trailgen.New(300, "123456789012", "us-east-1")
	putFile(t, s3srv, trailgen.Key("", "", "123456789012", "CloudTrail-Insight", "us-east-1", t0, "ins"), []map[string]any{gi.Insight(t0)})
	ids := putFile(t, s3srv, trailgen.Key("", "", "123456789012", "CloudTrail", "us-east-1", t0, "log"), genRecords(gi, t0, 3))
	cfg := testConfig(s3srv.URL)
	cfg.IncludeInsights = false
	sk := newSink()
	h := startReceiver(t, cfg, sk, nil)
	require.Eventually(t, func() bool { return sk.count() >= len(ids) }, waitFor, 20*time.Millisecond)
	waitPolls(t, s3srv, testBucket, "AWSLogs/123456789012/CloudTrail/us-east-1/") // the Insight folder is never listed
	require.NoError(t, h.stop())
	assert.Equal(t, len(ids), sk.count())
}

func TestIntegrationBadInput(t *testing.T) {
	forBodyModes(t, func(t *testing.T, body string) {
		s3srv := startS3(t)
		acct, region := "111111111111", "us-east-1"
		g := trailgen.New(7, acct, region)
		key := func(min int, u string) string {
			return trailgen.Key("", "", acct, "CloudTrail", region, t0.Add(time.Duration(min)*time.Minute), u)
		}
		var want []string
		want = append(want, putFile(t, s3srv, key(0, "good1"), genRecords(g, t0, 20))...)
		want = append(want, putFile(t, s3srv, key(9, "good2"), genRecords(g, t0, 20))...)

		corrupt := devstack.Gzip([]byte(`{"Records":[]}`))
		corrupt[10] = 0xff // the first deflate block has the reserved block type
		require.NoError(t, s3srv.Put(testBucket, key(1, "corrupt"), corrupt))

		first := g.Record(t0)
		firstJSON, _ := json.Marshal(first)
		require.NoError(t, s3srv.Put(testBucket, key(2, "truncated"), devstack.Gzip([]byte(`{"Records":[`+string(firstJSON)+`,{"eventVersion":"1.08","eventTi`))))
		want = append(want, first["eventID"].(string))

		require.NoError(t, s3srv.Put(testBucket, key(3, "notcloudtrail"), devstack.Gzip([]byte(`{"message":"hello"}`))))

		noTime := g.Record(t0)
		delete(noTime, "eventTime")
		want = append(want, putFile(t, s3srv, key(4, "notime"), []map[string]any{noTime})...)

		denied := genRecords(g, t0, 5)
		deniedKey := key(5, "denied")
		want = append(want, putFile(t, s3srv, deniedKey, denied)...)
		s3srv.FailGet(testBucket, deniedKey, devstack.Fault{Status: 403, Code: "AccessDenied"})

		slow := genRecords(g, t0, 5)
		slowKey := key(6, "slow")
		want = append(want, putFile(t, s3srv, slowKey, slow)...)
		s3srv.FailGet(testBucket, slowKey, devstack.Fault{Status: 503, Code: "SlowDown", Times: 2})

		vanishedKey := key(7, "vanished")
		putFile(t, s3srv, vanishedKey, genRecords(g, t0, 5))
		s3srv.FailGet(testBucket, vanishedKey, devstack.Fault{Status: 404, Code: "NoSuchKey"})

		// Elements of Records that are not objects are skipped, the rest kept.
		mixed := g.Record(t0)
		mixedJSON, _ := json.Marshal(mixed)
		require.NoError(t, s3srv.Put(testBucket, key(8, "mixed"), devstack.Gzip([]byte(`{"Records":[42,`+string(mixedJSON)+`,"x"]}`))))
		want = append(want, mixed["eventID"].(string))

		sk := newSink()
		cfg := testConfig(s3srv.URL)
		cfg.Body = body
		h := startReceiver(t, cfg, sk, nil)
		deniedCount := func() int64 {
			return h.counter(t, "otelcol_receiver_awscloudtrail_objects_failed", "reason", "access_denied")
		}
		require.Eventually(t, func() bool { return sk.count() >= len(want)-len(denied) && deniedCount() >= 2 }, waitFor, 20*time.Millisecond)

		// Access is granted again: the denied object is read on a later poll.
		s3srv.FailGet(testBucket, deniedKey, devstack.Fault{Status: 403, Code: "AccessDenied", Times: 1})
		require.Eventually(t, func() bool { return sk.count() >= len(want) }, waitFor, 20*time.Millisecond)
		waitPolls(t, s3srv, testBucket, "AWSLogs/111111111111/CloudTrail/us-east-1/")
		require.NoError(t, h.stop())

		got := sk.ids()
		assert.Len(t, got, len(want))
		for _, id := range want {
			assert.Equal(t, 1, got[id], id)
		}
		for reason, n := range map[string]int64{"corrupt_gzip": 1, "truncated": 1, "not_cloudtrail": 1, "not_found": 1} {
			assert.Equal(t, n, h.counter(t, "otelcol_receiver_awscloudtrail_objects_failed", "reason", reason), reason)
		}
		assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_awscloudtrail_records_invalid", "reason", "missing_event_time"))
		assert.Equal(t, int64(2), h.counter(t, "otelcol_receiver_awscloudtrail_records_invalid", "reason", "not_an_object"))
		assert.Zero(t, h.counter(t, "otelcol_receiver_awscloudtrail_objects_failed", "reason", "throttled"), "SlowDown is retried by the SDK")
		for _, k := range []string{key(1, "corrupt"), key(2, "truncated"), key(3, "notcloudtrail"), deniedKey, vanishedKey, key(4, "notime")} {
			assert.NotEmpty(t, h.logsWith("key", k), "a log line names %s", k)
		}
		assert.Equal(t, 1, s3srv.Gets(testBucket, key(1, "corrupt")), "a damaged object is not read again")
		assert.Zero(t, sk.records[noTime["eventID"].(string)].Timestamp())
	})
}

func TestIntegrationRestartResumes(t *testing.T) {
	forBodyModes(t, func(t *testing.T, body string) {
		s3srv := startS3(t)
		var want []string
		for i, region := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
			g := trailgen.New(uint64(900+i), "444444444444", region)
			for f := 0; f < 5; f++ {
				at := t0.Add(time.Duration(f) * time.Minute)
				want = append(want, putFile(t, s3srv, trailgen.Key("", "", "444444444444", "CloudTrail", region, at, fmt.Sprintf("f%d", f)), genRecords(g, at, 50))...)
			}
		}
		host, storageID := devstack.FileStorageHost(t, t.TempDir())
		cfg := testConfig(s3srv.URL)
		cfg.Storage = &storageID
		cfg.Body = body
		cfg.MaxBatchRecords = 7 // objects end mid-batch: the stop lands inside objects
		cfg.Workers = 2

		// The first collector delivers 20 batches, then its consumer refuses
		// everything (as a downstream outage would) and it is stopped.
		first := newSink()
		first.fail = func(n int) error {
			if n >= 20 {
				return errors.New("downstream unavailable")
			}
			return nil
		}
		h1 := startReceiver(t, cfg, first, host)
		require.Eventually(t, func() bool { return first.batchCount() >= 20 && len(h1.logsWith("bucket", testBucket)) > 0 }, waitFor, 20*time.Millisecond)
		require.NoError(t, h1.stop())
		delivered := first.count()
		require.Less(t, delivered, len(want))

		second := newSink()
		h2 := startReceiver(t, cfg, second, host)
		if !assert.Eventually(t, func() bool { return first.count()+second.count() >= len(want) }, waitFor, 20*time.Millisecond) {
			t.Logf("first %d second %d want %d", first.count(), second.count(), len(want))
			for _, e := range h2.logs.All() {
				t.Log(e.Message, e.ContextMap())
			}
		}
		waitPolls(t, s3srv, testBucket, "AWSLogs/444444444444/CloudTrail/us-east-1/")
		require.NoError(t, h2.stop())

		union := first.ids()
		for id, n := range second.ids() {
			union[id] += n
		}
		var dups []string
		for id, n := range union {
			if n != 1 {
				dups = append(dups, id)
			}
		}
		sort.Strings(dups)
		assert.Empty(t, dups, "records delivered more than once")
		assert.Len(t, union, len(want))
		for _, id := range want {
			assert.Contains(t, union, id)
		}
		t.Logf("first collector delivered %d records, the second %d", delivered, second.count())
	})
}

// bodyModes are the values of the body setting; the delivery tests run
// in each.
var bodyModes = []string{"map", "json", "none"}

func forBodyModes(t *testing.T, f func(t *testing.T, body string)) {
	for _, body := range bodyModes {
		t.Run("body="+body, func(t *testing.T) { f(t, body) })
	}
}

// assertBody checks a record's body in a body mode against its source.
func assertBody(t *testing.T, mode string, src map[string]any, lr plog.LogRecord) {
	t.Helper()
	switch mode {
	case "map":
		assertJSONEqual(t, src, lr.Body().Map().AsRaw())
	case "json":
		require.Equal(t, pcommon.ValueTypeStr, lr.Body().Type())
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(lr.Body().Str()), &got))
		assertJSONEqual(t, src, got)
	default:
		assert.Equal(t, pcommon.ValueTypeEmpty, lr.Body().Type())
	}
}

// assertJSONEqual compares values through their JSON encodings, so that
// int64 and float64 numbers of the same value are equal.
func assertJSONEqual(t testing.TB, want, got any) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(w), string(g))
}

// statusHost records the component status events the receiver reports.
type statusHost struct {
	component.Host
	mu     sync.Mutex
	events []componentstatus.Status
}

func (h *statusHost) Report(ev *componentstatus.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev.Status())
}

func (h *statusHost) statuses() []componentstatus.Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

func TestStatusReporting(t *testing.T) {
	s3srv := startS3(t)
	putFile(t, s3srv, trailgen.Key("", "", "111111111111", "CloudTrail", "us-east-1", t0, "a"), genRecords(trailgen.New(1, "111111111111", "us-east-1"), t0, 3))
	s3srv.FailList(testBucket, devstack.Fault{Status: 503, Code: "ServiceUnavailable", Times: 1000})
	host := &statusHost{Host: componenttest.NewNopHost()}
	cfg := testConfig(s3srv.URL)
	cfg.Discovery.RefreshInterval = 100 * time.Millisecond
	sk := newSink()
	h := startReceiver(t, cfg, sk, host)
	require.Eventually(t, func() bool { return slices.Contains(host.statuses(), componentstatus.StatusRecoverableError) }, waitFor, 20*time.Millisecond)
	s3srv.FailList(testBucket, devstack.Fault{Status: 503, Code: "ServiceUnavailable", Times: 1}) // the last failure
	require.Eventually(t, func() bool { return sk.count() == 3 }, waitFor, 20*time.Millisecond)
	require.Eventually(t, func() bool { st := host.statuses(); return st[len(st)-1] == componentstatus.StatusOK }, waitFor, 20*time.Millisecond)
	require.NoError(t, h.stop())
}
