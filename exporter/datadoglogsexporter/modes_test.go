package datadoglogsexporter

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog/datadogtest"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/golden"
)

// bodyModes are the modes the delivery tests run in: the record as a map
// and as its JSON text (spliced).
var bodyModes = []string{datadogtest.ModeMap, datadogtest.ModeJSON}

// inBodyMode returns ld with its map bodies as JSON text for ModeJSON.
func inBodyMode(mode string, ld plog.Logs) plog.Logs {
	if mode != datadogtest.ModeJSON {
		return ld
	}
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				lr.Body().SetStr(string(datadog.AppendValue(nil, lr.Body())))
			}
		}
	}
	return ld
}

// entriesOf sends ld and returns the accepted entries by eventID.
func entriesOf(t *testing.T, ld plog.Logs) map[string]map[string]any {
	t.Helper()
	in := startIntake(t)
	te := newTestExporter(t, testConfig(in.URL))
	require.NoError(t, te.exp.pushLogs(context.Background(), ld))
	out := map[string]map[string]any{}
	for _, e := range in.Logs() {
		out[e["eventID"].(string)] = e
	}
	require.Len(t, out, ld.LogRecordCount())
	return out
}

// diffPaths returns the dotted paths where a and b differ.
func diffPaths(prefix string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			return []string{prefix}
		}
		return nil
	}
	var out []string
	for k := range am {
		out = append(out, diffPaths(strings.TrimPrefix(prefix+"."+k, "."), am[k], bm[k])...)
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			out = append(out, strings.TrimPrefix(prefix+"."+k, "."))
		}
	}
	sort.Strings(out)
	return out
}

// TestBodyModesGolden: the public sample records, read by the receiver and
// given as a map body, as their JSON text and as attributes only, make
// entries identical in content; for attributes only, except exactly the
// fields the attributes do not carry.
func TestBodyModesGolden(t *testing.T) {
	texts := datadogtest.Records(t)
	mapLogs := datadogtest.Logs(t, true)
	// An attribute added by a processor travels in every mode.
	for _, rl := range mapLogs.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				lr.Attributes().PutEmptyMap("team").PutStr("name", "security")
			}
		}
	}
	byMode := map[string]map[string]map[string]any{}
	for _, mode := range datadogtest.Modes {
		byMode[mode] = entriesOf(t, datadogtest.InMode(t, mapLogs, mode, texts))
	}
	want := byMode[datadogtest.ModeMap]
	for _, e := range want {
		require.Equal(t, "security", e["team.name"])
	}
	assert.Equal(t, want, byMode[datadogtest.ModeJSON], "json bodies make the entries of map bodies")
	lost := map[string][]string{}
	for id, e := range byMode[datadogtest.ModeNone] {
		if d := diffPaths("", want[id], e); len(d) > 0 {
			lost[id] = d
		}
	}
	// What body: none loses or gains, by eventID: the fields that have no
	// attribute (ec2RoleDelivery, webIdFederationData, serviceEventDetails)
	// and the resource's account for a record without recipientAccountId.
	golden.AssertJSON(t, filepath.Join("testdata", "golden_none_mode_differences.json"), lost)
}

// TestJSONTextBodies: a JSON-text body that is not one JSON object never
// puts invalid JSON on the wire (the intake emulator refuses invalid JSON
// and invalid UTF-8 with 400): the entry holds the record the attributes
// carry and the text as message. A valid text with invalid UTF-8 is
// repaired as map bodies are; a member named as a field the exporter sets
// is renamed record.<name>, as in map bodies.
func TestJSONTextBodies(t *testing.T) {
	tests := []struct {
		name, text string
		check      func(t *testing.T, e map[string]any)
	}{
		{"cut short", `{"eventID":"e","eventName":"RunInstances","requestParameters":{"a":`, malformed},
		{"an array", `[{"eventID":"e"}]`, malformed},
		{"text after the object", `{"eventID":"e"} {"x":1}`, malformed},
		{"control character in a string", "{\"eventID\":\"e\",\"userAgent\":\"a\x01b\"}", malformed},
		{"bad escape", `{"eventID":"e","userAgent":"a\qb"}`, malformed},
		{"bad number", `{"eventID":"e","n":01}`, malformed},
		{"single quotes", `{'eventID':'e'}`, malformed},
		{"empty", ``, malformed},
		{"invalid UTF-8 repaired", "{\"eventID\":\"e\",\"userAgent\":\"a\xffb\"}", func(t *testing.T, e map[string]any) {
			assert.Equal(t, "a\uFFFDb", e["userAgent"])
			assert.NotContains(t, e, "message")
		}},
		{"reserved names renamed", `{"eventID":"e","service":"s","message":"m","aws":{"x":1},"eventName":"RunInstances"}`, func(t *testing.T, e map[string]any) {
			assert.Equal(t, "s", e["record.service"])
			assert.Equal(t, "m", e["record.message"])
			assert.Equal(t, map[string]any{"x": 1.0}, e["record.aws"])
			assert.Equal(t, "cloudtrail", e["service"])
			assert.Equal(t, "RunInstances", e["eventName"])
		}},
		{"escaped reserved name renamed", `{"eventID":"e","\u0073ervice":"s"}`, func(t *testing.T, e map[string]any) {
			assert.Equal(t, "s", e["record.service"])
		}},
		{"whitespace and exact numbers kept", " {\n\"eventID\" : \"e\", \"n\": 12345678901234567890123, \"f\": 1.50 }\n", func(t *testing.T, e map[string]any) {
			assert.Equal(t, 12345678901234567890123.0, e["n"])
			assert.Equal(t, 1.5, e["f"])
		}},
		{"empty object", `{}`, func(t *testing.T, e map[string]any) {
			assert.Equal(t, "cloudtrail", e["ddsource"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := startIntake(t)
			te := newTestExporter(t, testConfig(in.URL))
			ld := cloudTrailLogs(1, "")
			ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().SetStr(tt.text)
			require.NoError(t, te.exp.pushLogs(context.Background(), ld), "the intake accepted the request")
			require.Len(t, in.Logs(), 1)
			tt.check(t, in.Logs()[0])
			if strings.Contains(tt.name, "repaired") || strings.Contains(tt.name, "renamed") || strings.Contains(tt.name, "kept") || tt.name == "empty object" {
				assert.Zero(t, te.logs.FilterMessageSnippet("not a JSON object").Len())
			} else {
				assert.Equal(t, 1, te.logs.FilterMessageSnippet("not a JSON object").Len(), "logged")
			}
		})
	}
}

// malformed checks the entry of a JSON-text body that is not a JSON
// object: the record's attributes as fields, the text as message.
func malformed(t *testing.T, e map[string]any) {
	assert.Equal(t, "event-00000", e["eventID"], "from the attributes")
	assert.Equal(t, "RunInstances", e["eventName"])
	assert.Equal(t, "2026-11-20T10:00:00Z", e["eventTime"])
	assert.Contains(t, e, "message")
	assert.Equal(t, "cloudtrail", e["ddsource"])
}
