package recordstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/widemap"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// FuzzReader checks that no input makes the reader panic or loop, and that
// what it accepts agrees with encoding/json.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		`{"Records":[]}`,
		`{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"Root"},"n":-1.5e3,"b":[true,false,null]}]}`,
		`{"x":1,"Records":[{"a":"\u00e9\ud83d\ude00"},2,"s"],"y":{}}`,
		`{"Records":[{"a":1},{"b":`,
		`{"awsAccountId":"123"}`,
		`{"Records":[{"min":-9223372036854775808,"max":9223372036854775807,"big":9223372036854775808,"z":-0,"e":1e2,"d":0.1}]}`,
		`{"Records":[{"a":1E400},{"b":{"c":[[[[1]]]]}},{"a":1,"a":{"x":2}}]}`,
		"{\"Records\":[{\"s\":\"\xff\"}]}",
		`{"Records":[{` + strings.Repeat(`"a":1,"b":[2],"c":{"d":3},"e":"x",`, 40) + `"z":null}]}`,
	} {
		f.Add([]byte(s))
	}
	// A wide object (past widemap.Threshold members) with repeated keys.
	var wide strings.Builder
	wide.WriteString(`{"Records":[{`)
	for i := range widemap.Threshold + 20 {
		fmt.Fprintf(&wide, `"k%d":%d,"k%d":{"v":%d},`, i, i, i/3, i)
	}
	wide.WriteString(`"k0":"last"}]}`)
	f.Add([]byte(wide.String()))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(iotest.HalfReader(strings.NewReader(string(data))), 1<<16)
		var got []map[string]any
		clean := false
		var lastErr error
		for i := 0; i <= len(data); i++ {
			m := pcommon.NewMap()
			err := r.Next(m)
			var re *RecordError
			if err == nil {
				got = append(got, m.AsRaw())
				continue
			}
			if errors.As(err, &re) {
				continue
			}
			clean = errors.Is(err, io.EOF)
			lastErr = err
			break
		}
		// Skip (the scanner) must agree with Next (the builder) on where the
		// stream is valid.
		sr := NewReader(iotest.HalfReader(strings.NewReader(string(data))), 1<<16)
		var skipErr error
		for skipErr == nil {
			skipErr = sr.Skip()
		}
		var se *SyntaxError
		switch {
		case errors.Is(lastErr, ErrRecordTooLarge):
		case clean && !errors.Is(skipErr, io.EOF):
			t.Fatalf("Next read the stream to its end, Skip failed: %v", skipErr)
		case clean && sr.Index() != r.Index():
			t.Fatalf("Next passed %d records, Skip %d", r.Index(), sr.Index())
		case !clean && errors.As(lastErr, &se) && errors.Is(skipErr, io.EOF):
			t.Fatalf("Next failed (%v), Skip read the stream to its end", lastErr)
		}
		if !clean || !json.Valid(data) {
			return
		}
		// The stream was accepted: encoding/json must see the same records,
		// with the same values.
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		var doc struct {
			Records []json.RawMessage `json:"Records"`
		}
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("reader accepted input that encoding/json rejects: %v", err)
		}
		var want []map[string]any
		for _, raw := range doc.Records {
			if len(raw) == 0 || raw[0] != '{' || depth(raw) > maxDepth {
				continue
			}
			d := json.NewDecoder(strings.NewReader(string(raw)))
			d.UseNumber()
			var rec map[string]any
			if err := d.Decode(&rec); err != nil {
				t.Fatalf("decoding record %s: %v", raw, err)
			}
			if outOfRange(rec) {
				continue
			}
			want = append(want, rec)
		}
		if len(want) != len(got) {
			t.Fatalf("reader read %d objects, encoding/json %d", len(got), len(want))
		}
		for i := range want {
			if path, ok := sameJSON(want[i], got[i]); !ok {
				t.Fatalf("record %d differs at %s:\nencoding/json: %#v\nreader:        %#v", i, path, want[i], got[i])
			}
		}
	})
}

// depth is how deeply the JSON value raw nests.
func depth(raw []byte) int {
	d, deepest, inStr := 0, 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}

// outOfRange reports whether v holds a number that a float64 cannot hold.
func outOfRange(v any) bool {
	switch v := v.(type) {
	case json.Number:
		_, err := strconv.ParseFloat(string(v), 64)
		return err != nil
	case map[string]any:
		for _, e := range v {
			if outOfRange(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if outOfRange(e) {
				return true
			}
		}
	}
	return false
}

// sameJSON compares a value decoded by encoding/json (with UseNumber) with
// the raw form of the pdata value the reader built: a number written as an
// integer that fits int64 must be that Int, every other number the Double
// that strconv.ParseFloat gives, bit for bit.
func sameJSON(want, got any) (string, bool) {
	switch w := want.(type) {
	case json.Number:
		s := string(w)
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				g, ok := got.(int64)
				return s, ok && g == n
			}
		}
		f, _ := strconv.ParseFloat(s, 64)
		g, ok := got.(float64)
		return s, ok && math.Float64bits(g) == math.Float64bits(f)
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return "{}", false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("[%q] (missing)", k), false
			}
			if path, ok := sameJSON(wv, gv); !ok {
				return fmt.Sprintf("[%q]%s", k, path), false
			}
		}
		return "", true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return "[]", false
		}
		for i := range w {
			if path, ok := sameJSON(w[i], g[i]); !ok {
				return fmt.Sprintf("[%d]%s", i, path), false
			}
		}
		return "", true
	default:
		return fmt.Sprint(want), want == got
	}
}
