package datadog

import (
	"encoding/json"
	"testing"
)

// FuzzScanObject: ScanObject accepts exactly the JSON objects that
// encoding/json accepts (invalid UTF-8 aside, which it reports).
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, ` {"a":[1,2,{"b":null}],"c":"x\"y\u00e9"} `, `{"a":1,}`, `{"a" 1}`, `[1]`, `{"a":01}`, `{"a":-0.5e+3}`, "{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":tru}`, `{"abcdefghijklmnop":"qrstuvwxyz0123456789"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, ok := ScanObject(b, nil)
		var m map[string]json.RawMessage
		want := json.Unmarshal(b, &m) == nil && m != nil
		if sc.BadUTF8 {
			return
		}
		if ok != want {
			t.Fatalf("ScanObject(%q) = %v, encoding/json: %v", b, ok, want)
		}
		if ok && len(sc.Members) > 0 {
			for _, mem := range sc.Members {
				k := mem.Key(b)
				if _, found := m[k]; !found {
					t.Fatalf("member %q not in %q", k, b)
				}
				if !json.Valid(b[mem.ValueStart:mem.ValueEnd]) {
					t.Fatalf("value of %q is not JSON", k)
				}
			}
		}
	})
}
