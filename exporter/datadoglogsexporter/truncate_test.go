package datadoglogsexporter

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// oversizeShapes are records whose entries are over the 1 MB limit in
// ways value shortening alone cannot fix, each as JSON text.
func oversizeShapes() map[string]string {
	members := func(n int, member func(i int) string) string {
		var b strings.Builder
		b.WriteString(`{"eventVersion":"1.08","eventID":"shape","eventName":"RunInstances"`)
		for i := range n {
			b.WriteByte(',')
			b.WriteString(member(i))
		}
		b.WriteString(`,"awsRegion":"us-east-1"}`)
		return b.String()
	}
	return map[string]string{
		"150k small members": members(150000, func(i int) string { return fmt.Sprintf(`"k%d":%d`, i, i) }),
		"one 2 MB key":       members(1, func(int) string { return `"` + strings.Repeat("k", 2<<20) + `":1` }),
		"a 600 kB key and a 600 kB value": members(1, func(int) string {
			return `"` + strings.Repeat("k", 600_000) + `":"` + strings.Repeat("v", 600_000) + `"`
		}),
		"keys of escapes": members(40000, func(i int) string { return fmt.Sprintf(`"\u0001\u0002\u0003%d":0`, i) }),
		"20k values just over minCut": members(20000, func(i int) string {
			return fmt.Sprintf(`"k%d":"%0*d"`, i, minCut+1, i)
		}),
		"150k duplicate eventIDs": members(150000, func(int) string { return `"eventID":"dup"` }),
		"long names of long values": members(600, func(i int) string {
			return fmt.Sprintf(`"%0300d":"%s"`, i, strings.Repeat("é", 1200))
		}),
	}
}

// TestTruncateAlwaysFits: whatever the shape of an oversize record, its
// entry is within the intake's limit, valid JSON, says what was cut, and
// keeps the record's identity (eventID, eventName, aws.s3).
func TestTruncateAlwaysFits(t *testing.T) {
	for name, text := range oversizeShapes() {
		for _, mode := range bodyModes {
			if mode == bodyModes[0] && strings.Contains(name, "duplicate") {
				continue // a map holds one member of a name
			}
			t.Run(name+"/"+mode, func(t *testing.T) {
				entry, cut := encodeOne(t, mode, text, nil)
				require.NotNil(t, cut)
				require.LessOrEqual(t, len(entry), maxEntryBytes)
				var e map[string]any
				require.NoError(t, json.Unmarshal(entry, &e))
				assert.Equal(t, true, e["dd_truncated"])
				assert.NotEmpty(t, e["eventID"])
				assert.Equal(t, "RunInstances", e["eventName"])
				assert.Equal(t, "us-east-1", e["awsRegion"], "awsRegion is protected")
				assert.Equal(t, map[string]any{"bucket": "trail-bucket", "key": "AWSLogs/x.json.gz"}, e["aws"].(map[string]any)["s3"])
				assert.Equal(t, "cloudtrail", e["service"])
				assert.Equal(t, float64(cut.dropped), e["dd_truncated_dropped"])
				assert.Equal(t, float64(cut.shortened), e["dd_truncated_shortened"])
				assert.LessOrEqual(t, len(e["dd_truncated_fields"].([]any)), cut.shortened)
			})
		}
	}
}

// TestTruncateDropsOnlyWhatItMust: members are removed only when
// shortening every value cannot make the entry fit; a record with one
// large value keeps every member.
func TestTruncateDropsOnlyWhatItMust(t *testing.T) {
	text := `{"eventID":"e","eventName":"RunInstances","requestParameters":{"p":"` + strings.Repeat("x", 1_500_000) + `"},"small":1}`
	for _, mode := range bodyModes {
		entry, cut := encodeOne(t, mode, text, nil)
		require.NotNil(t, cut)
		assert.Equal(t, 0, cut.dropped)
		assert.Equal(t, reasonShortened, cut.reason())
		var e map[string]any
		require.NoError(t, json.Unmarshal(entry, &e))
		assert.Equal(t, float64(1), e["small"])
		assert.Equal(t, []any{"requestParameters"}, e["dd_truncated_fields"])
		assert.Greater(t, len(entry), maxEntryBytes-markerBytes-1000, "the value keeps as much as fits")
	}
	_, cut := encodeOne(t, bodyModes[0], oversizeShapes()["150k small members"], nil)
	assert.Equal(t, reasonDropped, cut.reason())
}

// TestTruncateHugeAttributes: an event name of 1.5 MB (the receiver sets
// rpc.method, and so ddtags, from the record) still gives an entry
// within the limit.
func TestTruncateHugeAttributes(t *testing.T) {
	huge := strings.Repeat("N", 1_500_000)
	for _, mode := range bodyModes {
		entry, cut := encodeOne(t, mode, `{"eventID":"e","eventName":"`+huge+`"}`, func(lr plog.LogRecord) {
			lr.Attributes().PutStr(ctattr.AttrRPCMethod, huge)
		})
		require.NotNil(t, cut)
		require.LessOrEqual(t, len(entry), maxEntryBytes)
		var e map[string]any
		require.NoError(t, json.Unmarshal(entry, &e))
		assert.True(t, strings.HasPrefix(e["ddtags"].(string), "aws_account:123456789012,"))
		assert.Equal(t, "e", e["eventID"])
	}
}

// TestTruncateLinear: truncating a record of n members is linear in n
// (it was quadratic: 150k members took about a minute of CPU). It counts
// the work (fields visited) and the allocations, not the time.
func TestTruncateLinear(t *testing.T) {
	shapes := map[string]struct {
		sizes  [2]int
		record func(n int) string
	}{
		"small members (dropped)": {[2]int{100_000, 300_000}, func(n int) string {
			var b strings.Builder
			b.WriteString(`{"eventID":"e"`)
			for i := range n {
				fmt.Fprintf(&b, `,"k%d":%d`, i, i)
			}
			return b.String() + "}"
		}},
		"members over minCut (shortened)": {[2]int{10_000, 40_000}, func(n int) string {
			var b strings.Builder
			b.WriteString(`{"eventID":"e"`)
			for i := range n {
				fmt.Fprintf(&b, `,"k%d":"%0200d"`, i, i)
			}
			return b.String() + "}"
		}},
	}
	shapes["one wide member, spaced (normalised)"] = struct {
		sizes  [2]int
		record func(n int) string
	}{[2]int{20_000, 80_000}, func(n int) string {
		var b strings.Builder
		b.WriteString(`{"eventID":"e", "requestParameters": {`)
		for i := range n {
			if i > 0 {
				b.WriteString(" , ")
			}
			fmt.Fprintf(&b, `"k%d" : "%050d"`, i, i)
		}
		return b.String() + "}}"
	}}
	for name, sh := range shapes {
		for _, mode := range bodyModes {
			t.Run(name+"/"+mode, func(t *testing.T) {
				measure := func(n int) (work int, allocs float64) {
					res, lr := oneRecord(t, mode, sh.record(n), nil)
					var cut *truncation
					allocs = testing.AllocsPerRun(1, func() { _, cut = newEncoder().encode(nil, res, lr) })
					require.NotNil(t, cut)
					return cut.work, allocs
				}
				small, large := sh.sizes[0], sh.sizes[1]
				smallWork, smallAllocs := measure(small)
				largeWork, largeAllocs := measure(large)
				t.Logf("%d members: work %d, %.0f allocations; %d members: work %d, %.0f allocations", small, smallWork, smallAllocs, large, largeWork, largeAllocs)
				// Linear: a bounded number of visits and allocations per
				// member (each pass visits each member once); quadratic:
				// about as many visits per member as there are members.
				assert.LessOrEqual(t, smallWork, 6*small)
				assert.LessOrEqual(t, largeWork, 6*large)
				assert.LessOrEqual(t, smallAllocs, float64(8*small+200))
				assert.LessOrEqual(t, largeAllocs, float64(8*large+200))
			})
		}
	}
}

// encodeOne encodes one CloudTrail record of body text (as a map or as
// text, per mode) with the default settings; edit may change the record.
func encodeOne(t testing.TB, mode, text string, edit func(lr plog.LogRecord)) ([]byte, *truncation) {
	t.Helper()
	res, lr := oneRecord(t, mode, text, edit)
	return newEncoder().encode(nil, res, lr)
}

func newEncoder() *encoder {
	cfg := createDefaultConfig().(*Config)
	return &encoder{ddsource: cfg.DDSource, ct: cfg.CloudTrail}
}

// oneRecord returns a CloudTrail record of body text (as a map or as
// text, per mode); edit may change it.
func oneRecord(t testing.TB, mode, text string, edit func(lr plog.LogRecord)) (pcommon.Resource, plog.LogRecord) {
	t.Helper()
	ld := cloudTrailLogs(1, "")
	rl := ld.ResourceLogs().At(0)
	lr := rl.ScopeLogs().At(0).LogRecords().At(0)
	lr.Attributes().PutStr(ctattr.AttrS3Bucket, "trail-bucket")
	lr.Attributes().PutStr(ctattr.AttrS3Key, "AWSLogs/x.json.gz")
	lr.Body().SetStr(text)
	if mode == bodyModes[0] {
		// (datadog.ParseJSON keeps the order but is quadratic in the
		// members of an object.)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(text), &m))
		require.NoError(t, lr.Body().SetEmptyMap().FromRaw(m))
	}
	if edit != nil {
		edit(lr)
	}
	return rl.Resource(), lr
}

// TestNormalisedAsMapBody: a JSON-text member is re-encoded as the same
// value of a map body is (ParseJSON, as the receiver builds it, then
// AppendValue).
func TestNormalisedAsMapBody(t *testing.T) {
	for _, v := range []string{
		`"plain"`, `"esc\u00e9\n\"q"`, `"\ud800"`, `1`, `-0`, `0`, `123456789012345678901234567890`, `1.50e+3`,
		`1e400`, `-1E+400`, `true`, `null`, `{ "a" : [ 1 , 2.0 , { } , [ ] ] , "b" : null }`, `[ ]`, "{\r\n\"k\"\t:\"v\"}",
	} {
		t.Run(v, func(t *testing.T) {
			pv := pcommon.NewValueEmpty()
			require.NoError(t, datadog.ParseJSON([]byte(v), pv))
			assert.Equal(t, string(datadog.AppendValue(nil, pv)), string(normalised([]byte(v))))
		})
	}
	assert.Equal(t, `{"a":1}{`, string(normalised([]byte(`{"a":1}{`))), "not one JSON value: unchanged")
}
