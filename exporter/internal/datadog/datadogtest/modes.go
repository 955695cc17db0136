package datadogtest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// The awscloudtrail receiver's body modes (its `body:` setting).
const (
	ModeMap  = "map"
	ModeJSON = "json"
	ModeNone = "none"
)

// Modes are the body modes, map first.
var Modes = []string{ModeMap, ModeJSON, ModeNone}

// Records returns the JSON text of every public sample record
// (testdata/samples/records), as in the files, by eventID.
func Records(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(SamplesDir(), "records", "*.ndjson"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample records: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) == 0 {
				continue
			}
			var rec struct {
				EventID string `json:"eventID"`
			}
			if err := json.Unmarshal(line, &rec); err != nil || rec.EventID == "" {
				t.Fatalf("%s: a record without eventID: %v", f, err)
			}
			out[rec.EventID] = line
		}
	}
	return out
}

// InMode returns a copy of ld, log records of the receiver in `body: map`
// mode, as the receiver emits them in mode, following its contract: the
// same resources and attributes, and as Body the record's JSON text from
// texts (by eventID) for json, nothing for none. (Until the receiver's
// `body:` setting is merged, this stands in for reading the samples in
// each mode.)
func InMode(t testing.TB, ld plog.Logs, mode string, texts map[string][]byte) plog.Logs {
	t.Helper()
	out := plog.NewLogs()
	ld.CopyTo(out)
	if mode == ModeMap {
		return out
	}
	for _, rl := range out.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				id, _ := lr.Attributes().Get(ctattr.AttrEventID)
				switch mode {
				case ModeJSON:
					text, ok := texts[id.Str()]
					if !ok {
						t.Fatalf("no JSON text for record %q", id.Str())
					}
					lr.Body().SetStr(string(text))
				case ModeNone:
					_ = lr.Body().FromRaw(nil) // an empty body
				default:
					t.Fatalf("unknown body mode %q", mode)
				}
			}
		}
	}
	return out
}
