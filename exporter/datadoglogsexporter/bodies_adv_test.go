package datadoglogsexporter

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// hostileBodies are JSON-text bodies a processor may have left.
func hostileBodies() map[string]string {
	big := `{"eventID":"big","requestParameters":{"policy":"` + strings.Repeat(`a\u00e9\"`, 2<<20/8) + `"}}`
	return map[string]string{
		"two objects":         `{"a":1}{"b":2}`,
		"service only":        `{"service":"x"}`,
		"lone surrogate":      `{"a":"\ud800"}`,
		"trailing garbage":    `{"eventID":"e"}garbage`,
		"2MB object":          big,
		"2MB garbage":         big + "}",
		"number":              `123`,
		"string":              `"{\"eventID\":\"e\"}"`,
		"null":                `null`,
		"array":               `[{"eventID":"e"}]`,
		"nul":                 "{\"eventID\":\"e\",\"s\":\"\\u0000\"}",
		"raw NUL":             "{\"eventID\":\"e\",\"s\":\"\x00\"}",
		"bom":                 "\ufeff{\"eventID\":\"e\"}",
		"deep":                `{"d":` + strings.Repeat("[", 12000) + strings.Repeat("]", 12000) + `}`,
		"1e400":               `{"eventID":"e","n":1e400}`,
		"-1e400 nested":       `{"eventID":"e","p":{"n":[-1E+400]}}`,
		"huge int":            `{"eventID":"e","n":123456789012345678901234567890}`,
		"-0":                  `{"eventID":"e","n":-0}`,
		"invalid UTF-8 key":   "{\"ev\xffent\":\"e\"}",
		"dup keys":            `{"eventID":"e","eventID":"f"}`,
		"escaped message key": `{"m\u0065ssage":"x","eventID":"e"}`,
		"crlf":                "{\r\n\"eventID\"\r\n:\r\n\"e\"\r\n}\r\n",
		"empty":               ``,
	}
}

// TestAdvManyTopLevelMembersNotDropped: a record with so many top-level
// members that their keys alone pass the 1 MB entry limit is still
// delivered (truncated), in every body mode.
func TestAdvManyTopLevelMembersNotDropped(t *testing.T) {
	text := manySmall(150000)
	for _, mode := range bodyModes {
		t.Run(mode, func(t *testing.T) {
			in := startIntake(t)
			te := newTestExporter(t, testConfig(in.URL))
			ld := cloudTrailLogs(2, "")
			lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1)
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(text), &m))
			require.NoError(t, lr.Body().SetEmptyMap().FromRaw(m))
			require.NoError(t, te.exp.pushLogs(context.Background(), inBodyMode(mode, ld)))
			require.Len(t, in.Logs(), 2)
			ids := idCounts(in)
			assert.Equal(t, 1, ids["many"])
			assert.Equal(t, 1, ids["event-00000"])
			for _, e := range in.Logs() {
				if e["eventID"] == "many" {
					assert.Equal(t, true, e["dd_truncated"])
					assert.Greater(t, e["dd_truncated_dropped"], float64(0))
				}
			}
			assert.Equal(t, int64(1), devstack.Counter(te.tel, "otelcol_exporter_datadoglogs_entries_truncated", "reason", reasonDropped))
		})
	}
}

func manySmall(n int) string {
	var b strings.Builder
	b.WriteString(`{"eventID":"many"`)
	for i := range n {
		fmt.Fprintf(&b, `,"k%d":%d`, i, i)
	}
	b.WriteString("}")
	return b.String()
}

// TestAdvHostileJSONTextBodies: whatever text a processor leaves in a
// CloudTrail record's body, the request is valid JSON, the intake accepts
// it (no entry over 1 MB), and every record of the batch gives one entry;
// records of other bodies in the same request are not lost with it.
func TestAdvHostileJSONTextBodies(t *testing.T) {
	for name, text := range hostileBodies() {
		t.Run(name, func(t *testing.T) {
			in := startIntake(t)
			te := newTestExporter(t, testConfig(in.URL))
			ld := multiResourceLogs(shape{resources: 2, scopes: 1, records: 3})
			ld.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(1).Body().SetStr(text)
			// The other records in json mode too.
			ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(2).Body().SetStr(`{"eventID":"r0-s0-00002","eventName":"RunInstances"}`)
			err := te.exp.pushLogs(context.Background(), ld)
			require.NoError(t, err)
			require.Len(t, in.Logs(), 6)
			ids := idCounts(in)
			for _, id := range []string{"r0-s0-00000", "r0-s0-00001", "r0-s0-00002", "r1-s0-00003", "r1-s0-00005"} {
				assert.Equal(t, 1, ids[id], id)
			}
		})
	}
}

// TestAdvNonFiniteNumbersInMapAndAttributes: NaN and ±Inf (set by a
// processor) in a map body or in the attributes a none-mode record is
// rebuilt from never make invalid JSON.
func TestAdvNonFiniteNumbersInMapAndAttributes(t *testing.T) {
	for _, mode := range []string{"map", "none", "json-malformed"} {
		t.Run(mode, func(t *testing.T) {
			in := startIntake(t)
			te := newTestExporter(t, testConfig(in.URL))
			ld := cloudTrailLogs(3, "p")
			lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			for i, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				lr := lrs.At(i)
				lr.Body().Map().PutDouble("n", f)
				lr.Attributes().PutEmptyMap(ctattr.AttrRequestParameters).PutDouble("n", f)
				lr.Attributes().PutDouble("custom", f)
				switch mode {
				case "none":
					_ = lr.Body().FromRaw(nil)
				case "json-malformed":
					lr.Body().SetStr("not json")
				}
			}
			require.NoError(t, te.exp.pushLogs(context.Background(), ld))
			require.Len(t, in.Logs(), 3)
		})
	}
}

// TestAdvTruncatedJSONTextEqualsMap: an oversize record gives the same
// truncated entry whether its body is a map or its JSON text.
func TestAdvTruncatedJSONTextEqualsMap(t *testing.T) {
	for _, params := range []string{strings.Repeat("é\"\\x", 400_000), strings.Repeat("a", 1_100_000)} {
		mapLogs := cloudTrailLogs(2, params)
		lrs := mapLogs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		lrs.At(1).Body().Map().PutEmptyMap("responseElements").PutStr("x", params)
		byMode := map[string][]map[string]any{}
		for _, mode := range bodyModes {
			ld := plog.NewLogs()
			mapLogs.CopyTo(ld)
			in := startIntake(t)
			te := newTestExporter(t, testConfig(in.URL))
			require.NoError(t, te.exp.pushLogs(context.Background(), inBodyMode(mode, ld)))
			byMode[mode] = in.Logs()
			for _, e := range in.Logs() {
				assert.Equal(t, true, e["dd_truncated"])
				b, _ := json.Marshal(e)
				assert.LessOrEqual(t, len(b), 1<<20)
			}
		}
		assert.Equal(t, byMode[bodyModes[0]], byMode[bodyModes[1]])
	}
}

// TestAdvMixedModes413AndPartialFailure: one batch of several resources
// holding map, json and none bodies (and a malformed text), split on 413
// and failing with 503 at each request: exactly once through retries.
func TestAdvMixedModes413AndPartialFailure(t *testing.T) {
	s := shape{resources: 3, scopes: 2, records: 7}
	for fail := 0; fail < 8; fail++ {
		t.Run(fmt.Sprintf("503 after %d", fail), func(t *testing.T) {
			in := startIntake(t)
			in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 413, Times: 2})
			in.Fail(devstack.IntakeFault{Path: "/api/v2/logs", Status: 503, After: fail, Times: 1})
			cfg := testConfig(in.URL)
			cfg.MaxEntries = 100
			te := newTestExporter(t, cfg)
			ld := multiResourceLogs(s)
			n := 0
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						switch n % 4 {
						case 1:
							lr.Body().SetStr(string(datadog.AppendValue(nil, lr.Body())))
						case 2:
							v, _ := lr.Attributes().Get(ctattr.AttrEventID)
							id := v.Str()
							lr.Body().FromRaw(nil)
							lr.Attributes().PutStr(ctattr.AttrEventID, id)
						case 3:
							lr.Body().SetStr(`{"x":1}{`)
						}
						n++
					}
				}
			}
			all := eventIDs(ld)
			err := te.exp.pushLogs(context.Background(), ld)
			if err != nil {
				var le consumererror.Logs
				require.ErrorAs(t, err, &le)
				accepted, rest := idCounts(in), eventIDs(le.Data())
				for id := range all {
					require.Equal(t, 1, accepted[id]+rest[id], id)
				}
				require.NoError(t, te.exp.pushLogs(context.Background(), le.Data()))
			}
			assertExactlyOnce(t, in, all)
		})
	}
}

// TestAdvTruncatedSpacedJSONTextEqualsMap: an oversize record whose text
// has white space and numbers in other spellings (a file's text, kept as
// it is) is truncated to the same entry as its map body.
func TestAdvTruncatedSpacedJSONTextEqualsMap(t *testing.T) {
	big := strings.Repeat("x", 700_000)
	text := "{ \"eventID\" : \"e\" ,\n \"eventName\":\"RunInstances\", \"requestParameters\" : { \"a\" : [ 1.50e+3 , 2 ] , \"b\" : \"" + big + "\" } ,\n \"responseElements\" : { \"c\" : \"" + big + "\" } }"
	byMode := map[string]map[string]any{}
	for _, mode := range []string{"map", "json"} {
		in := startIntake(t)
		te := newTestExporter(t, testConfig(in.URL))
		ld := cloudTrailLogs(1, "")
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		if mode == "map" {
			// As the receiver builds it: the members in the text's order.
			require.NoError(t, datadog.ParseJSON([]byte(text), lr.Body()))
		} else {
			lr.Body().SetStr(text)
		}
		require.NoError(t, te.exp.pushLogs(context.Background(), ld))
		require.Len(t, in.Logs(), 1)
		byMode[mode] = in.Logs()[0]
	}
	for k, v := range byMode["map"] {
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(byMode["json"][k])
		if string(a) != string(b) {
			t.Errorf("field %s: map %.80s… vs json %.80s…", k, a, b)
		}
	}
}
