package recordstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/widemap"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// readAll reads every record of input, returning the records as raw maps
// and the error that ended the stream (nil for a clean end).
func readAll(t *testing.T, r *Reader) ([]map[string]any, []int, error) {
	t.Helper()
	var out []map[string]any
	var skipped []int
	for i := 0; i < 1000; i++ {
		m := pcommon.NewMap()
		err := r.Next(m)
		var re *RecordError
		switch {
		case err == nil:
			out = append(out, m.AsRaw())
		case errors.As(err, &re):
			skipped = append(skipped, re.Index)
		case errors.Is(err, io.EOF):
			return out, skipped, nil
		default:
			return out, skipped, err
		}
	}
	t.Fatal("reader did not end")
	return nil, nil, nil
}

func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []map[string]any
		skipped []int
		err     error
		errText string
	}{
		{name: "empty records", input: `{"Records":[]}`, want: nil},
		{name: "one record", input: `{"Records":[{"eventName":"RunInstances","n":3,"f":1.5,"b":true,"z":null}]}`,
			want: []map[string]any{{"eventName": "RunInstances", "n": int64(3), "f": 1.5, "b": true, "z": nil}}},
		{name: "white space everywhere", input: " \n{ \"Records\" : [ { \"a\" : [ 1 , { } , [ ] ] } , { } ] } \n\t",
			want: []map[string]any{{"a": []any{int64(1), map[string]any{}, []any{}}}, {}}},
		{name: "members before and after Records", input: `{"x":{"y":[1,2,{"z":"\"}"}]},"Records":[{"a":1}],"after":"ok"}`,
			want: []map[string]any{{"a": int64(1)}}},
		{name: "escapes and unicode", input: `{"Records":[{"s":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00 ✓","k\u0041":"v"}]}`,
			want: []map[string]any{{"s": "a\"b\\c/d\n\té😀 ✓", "kA": "v"}}},
		{name: "lone surrogate becomes replacement", input: `{"Records":[{"s":"\ud800x"}]}`,
			want: []map[string]any{{"s": "\uFFFDx"}}},
		{name: "invalid utf-8 is replaced", input: "{\"Records\":[{\"s\":\"a\xffb\"}]}",
			want: []map[string]any{{"s": "a\uFFFDb"}}},
		{name: "each invalid utf-8 byte is replaced, as encoding/json does", input: "{\"Records\":[{\"s\":\"a\xff\xfe\xe2\x82b\",\"e\":\"\\n\xc3\",\"k\xc3\xc3\":1}]}",
			want: []map[string]any{{"s": "a\uFFFD\uFFFD\uFFFD\uFFFDb", "e": "\n\uFFFD", "k\uFFFD\uFFFD": int64(1)}}},
		{name: "big and negative numbers", input: `{"Records":[{"a":-12,"b":12345678901234567890,"c":1e3,"d":-0.5E-2}]}`,
			want: []map[string]any{{"a": int64(-12), "b": 12345678901234567890.0, "c": 1000.0, "d": -0.005}}},
		{name: "elements that are not objects are skipped", input: `{"Records":[1,{"a":1},"x",[{}],null,{"b":2}]}`,
			want: []map[string]any{{"a": int64(1)}, {"b": int64(2)}}, skipped: []int{0, 2, 3, 4}},
		{name: "empty input", input: ``, err: ErrNotCloudTrail},
		{name: "not an object", input: `[{"Records":[]}]`, err: ErrNotCloudTrail},
		{name: "no Records", input: `{"awsAccountId":"1","logFiles":[]}`, err: ErrNotCloudTrail},
		{name: "Records not an array", input: `{"Records":{"a":1}}`, err: ErrNotCloudTrail},
		{name: "truncated inside a record", input: `{"Records":[{"a":1},{"b":"xy`, want: []map[string]any{{"a": int64(1)}}, err: io.ErrUnexpectedEOF},
		{name: "truncated after a record", input: `{"Records":[{"a":1}`, want: []map[string]any{{"a": int64(1)}}, err: io.ErrUnexpectedEOF},
		{name: "truncated before the end", input: `{"Records":[{"a":1}]`, want: []map[string]any{{"a": int64(1)}}, err: io.ErrUnexpectedEOF},
		{name: "bad literal", input: `{"Records":[{"a":tru}]}`, errText: "invalid literal"},
		{name: "bad number", input: `{"Records":[{"a":01}]}`, errText: "invalid number"},
		{name: "missing colon", input: `{"Records":[{"a" 1}]}`, errText: "expected ':'"},
		{name: "trailing garbage", input: `{"Records":[]} x`, errText: "unexpected data"},
		{name: "control character", input: "{\"Records\":[{\"a\":\"x\ny\"}]}", errText: "control character"},
		{name: "bad escape", input: `{"Records":[{"a":"\q"}]}`, errText: "invalid escape"},
		{name: "too deep inside a broken record", input: `{"Records":[` + strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 299) + `]}`, errText: "expected ',' or '}'"},
	}
	for _, tt := range tests {
		for _, mode := range []string{"whole", "one byte at a time", "whole, no body", "one byte at a time, no body"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				var src io.Reader = strings.NewReader(tt.input)
				if mode != "whole" {
					src = iotest.OneByteReader(src)
				}
				got, skipped, err := readAll(t, NewReader(src, 0))
				assert.Equal(t, tt.want, got)
				assert.Equal(t, tt.skipped, skipped)
				switch {
				case tt.err != nil:
					assert.ErrorIs(t, err, tt.err)
				case tt.errText != "":
					require.Error(t, err)
					assert.Contains(t, err.Error(), tt.errText)
					var se *SyntaxError
					assert.ErrorAs(t, err, &se)
				default:
					assert.NoError(t, err)
				}
			})
		}
	}
}

func TestReaderSkipThenNext(t *testing.T) {
	r := NewReader(strings.NewReader(`{"Records":[{"a":1},{"b":[1,2]},{"c":3}]}`), 0)
	require.NoError(t, r.Skip())
	require.NoError(t, r.Skip())
	assert.Equal(t, 2, r.Index())
	m := pcommon.NewMap()
	require.NoError(t, r.Next(m))
	assert.Equal(t, map[string]any{"c": int64(3)}, m.AsRaw())
	assert.ErrorIs(t, r.Next(m), io.EOF)
	assert.ErrorIs(t, r.Skip(), io.EOF)
}

func TestReaderRecordTooLarge(t *testing.T) {
	big := `{"Records":[{"a":"` + strings.Repeat("x", 5000) + `"}]}`
	r := NewReader(strings.NewReader(big), 1024)
	assert.ErrorIs(t, r.Next(pcommon.NewMap()), ErrRecordTooLarge)
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := NewReader(io.MultiReader(strings.NewReader(`{"Records":[{"a":1},`), iotest.ErrReader(boom)), 0)
	require.NoError(t, r.Next(pcommon.NewMap()))
	assert.ErrorIs(t, r.Next(pcommon.NewMap()), boom)
}

func TestReaderReset(t *testing.T) {
	r := NewReader(strings.NewReader(`{"Records":[{"a":1}`), 0)
	_, _, err := readAll(t, r)
	require.Error(t, err)
	r.Reset(strings.NewReader(`{"Records":[{"b":2}]}`))
	got, _, err := readAll(t, r)
	require.NoError(t, err)
	assert.Equal(t, []map[string]any{{"b": int64(2)}}, got)
}

func TestReaderNumbers(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"0", int64(0)},
		{"-0", int64(0)},
		{"7", int64(7)},
		{"-12", int64(-12)},
		{"999999999999999999", int64(999999999999999999)},
		{"-999999999999999999", int64(-999999999999999999)},
		{"1000000000000000000", int64(1000000000000000000)},
		{"9223372036854775807", int64(math.MaxInt64)},
		{"-9223372036854775808", int64(math.MinInt64)},
		{"9223372036854775808", 9223372036854775808.0},
		{"-9223372036854775809", -9223372036854775809.0},
		{"18446744073709551616", 18446744073709551616.0},
		{"123456789012345678901234567890", 123456789012345678901234567890.0},
		{"1.0", 1.0},
		{"-0.0", math.Copysign(0, -1)},
		{"1e3", 1000.0},
		{"1E+2", 100.0},
		{"-0.5E-2", -0.005},
		{"1e-400", 0.0},
		{"4.9e-324", 5e-324},
		{"1.7976931348623157e308", math.MaxFloat64},
		{"0.1000000000000000055511151231257827021181583404541015625", 0.1},
		{"3.14159265358979323846264338327950288419716939937510582097494459", math.Pi},
	}
	for _, tt := range tests {
		for _, mode := range []string{"whole", "one byte at a time"} {
			t.Run(tt.in+"/"+mode, func(t *testing.T) {
				var src io.Reader = strings.NewReader(`{"Records":[{"n":` + tt.in + `,"a":[` + tt.in + `]}]}`)
				if mode != "whole" {
					src = iotest.OneByteReader(src)
				}
				got, _, err := readAll(t, NewReader(src, 0))
				require.NoError(t, err)
				require.Len(t, got, 1)
				assert.Equal(t, tt.want, got[0]["n"])
				assert.Equal(t, []any{tt.want}, got[0]["a"])
				if f, ok := tt.want.(float64); ok {
					assert.Equal(t, math.Signbit(f), math.Signbit(got[0]["n"].(float64)), "sign of %s", tt.in)
				}
			})
		}
	}
}

// TestReaderSkipsRecordsBeyondLimits: a record nested deeper than the limit
// or holding a number out of range is valid JSON that the reader cannot
// represent; it is skipped and reported, and the rest of the file is read.
func TestReaderSkipsRecordsBeyondLimits(t *testing.T) {
	deep := strings.Repeat(`{"a":[`, maxDepth) + `1` + strings.Repeat(`]}`, maxDepth)
	veryDeep := strings.Repeat(`[`, 100000) + strings.Repeat(`]`, 100000)
	tests := []struct {
		name   string
		record string
		reason string
	}{
		{name: "deeper than the limit", record: deep, reason: ReasonTooDeep},
		{name: "far deeper than the limit", record: `{"x":` + veryDeep + `}`, reason: ReasonTooDeep},
		{name: "number out of range", record: `{"a":1,"b":{"c":[1E400]}}`, reason: ReasonNumberOutOfRange},
		{name: "negative number out of range", record: `{"a":-1e309}`, reason: ReasonNumberOutOfRange},
		{name: "not an object", record: `[1,2]`, reason: ReasonNotAnObject},
	}
	for _, tt := range tests {
		for _, mode := range []string{"whole", "one byte at a time", "whole, no body", "one byte at a time, no body"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				input := `{"Records":[{"a":1},` + tt.record + `,{"b":2}]}`
				var src io.Reader = strings.NewReader(input)
				if strings.HasPrefix(mode, "one byte") {
					src = iotest.OneByteReader(src)
				}
				r := NewReader(src, 0)
				m := pcommon.NewMap()
				require.NoError(t, r.Next(m))
				var err error
				if strings.HasSuffix(mode, "no body") {
					// Checked without being built (body json or none),
					// capturing the members the mapping reads.
					_, err = r.Read(pcommon.Map{}, &mapping.Fields{WantPayload: true})
				} else {
					err = r.Next(m)
				}
				var re *RecordError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, 1, re.Index)
				assert.Equal(t, tt.reason, re.Reason)
				assert.Equal(t, int64(len(`{"Records":[{"a":1},`)), re.Offset)
				require.NoError(t, r.Next(m))
				assert.Equal(t, map[string]any{"b": int64(2)}, m.AsRaw())
				assert.ErrorIs(t, r.Next(m), io.EOF)

				// Skip passes over it as over any record.
				r.Reset(strings.NewReader(input))
				require.NoError(t, r.Skip())
				require.NoError(t, r.Skip())
				require.NoError(t, r.Next(m))
				assert.Equal(t, map[string]any{"b": int64(2)}, m.AsRaw())
			})
		}
	}
}

// TestReaderObjectMembers checks the members of objects, small and wide
// (built without pcommon.Map.PutEmpty), against pdata's own semantics: a
// repeated key keeps its first place and takes its last value.
func TestReaderObjectMembers(t *testing.T) {
	wide := func(n int, extra string) string {
		var b strings.Builder
		b.WriteString(`{`)
		for i := range n {
			fmt.Fprintf(&b, `"k%d":%d,`, i, i)
		}
		b.WriteString(extra + `}`)
		return b.String()
	}
	tests := []struct {
		name   string
		object string
	}{
		{name: "small", object: `{"a":1,"b":{"c":[1,"x"]},"d":null}`},
		{name: "small with a repeated key", object: `{"a":1,"b":2,"a":{"x":[3]}}`},
		{name: "wide", object: wide(1000, `"z":true`)},
		{name: "wide with repeated keys", object: wide(300, `"k5":{"m":[1,{"n":2}]},"k200":"s","k5":[true],"z":null,"k299":-1`)},
		{name: "repeated key across the switch to wide", object: wide(widemap.Threshold, `"k0":"first","x":1,"k0":"last"`)},
		{name: "wide nested in wide", object: wide(200, `"in":`+wide(500, `"k1":"one"`)+`,"k1":{"k2":`+wide(300, ``)[:len(wide(300, ``))-2]+`}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, src := range []io.Reader{strings.NewReader(`{"Records":[` + tt.object + `]}`), chunkReader{strings.NewReader(`{"Records":[` + tt.object + `]}`), 100}} {
				got := pcommon.NewMap()
				require.NoError(t, NewReader(src, 0).Next(got))
				want := pcommon.NewMap()
				putEmptyJSON(t, want, tt.object)
				assert.Equal(t, keys(want), keys(got))
				assert.True(t, want.Equal(got))
				assert.Equal(t, want.AsRaw(), got.AsRaw())
			}
		})
	}
}

func keys(m pcommon.Map) []string {
	var out []string
	for k, v := range m.All() {
		out = append(out, k)
		if v.Type() == pcommon.ValueTypeMap {
			for _, sub := range keys(v.Map()) {
				out = append(out, k+"."+sub)
			}
		}
	}
	return out
}

// putEmptyJSON fills m with the JSON object s, member by member with
// pcommon.Map.PutEmpty: the reference semantics.
func putEmptyJSON(t *testing.T, m pcommon.Map, s string) {
	dec := json.NewDecoder(strings.NewReader(s))
	var fill func(v pcommon.Value)
	fillObject := func(m pcommon.Map) {
		for dec.More() {
			k, err := dec.Token()
			require.NoError(t, err)
			fill(m.PutEmpty(k.(string)))
		}
		_, _ = dec.Token()
	}
	fill = func(v pcommon.Value) {
		tok, err := dec.Token()
		require.NoError(t, err)
		switch tok := tok.(type) {
		case json.Delim:
			if tok == '{' {
				fillObject(v.SetEmptyMap())
				return
			}
			s := v.SetEmptySlice()
			for dec.More() {
				fill(s.AppendEmpty())
			}
			_, _ = dec.Token()
		case float64:
			if tok == math.Trunc(tok) {
				v.SetInt(int64(tok))
			} else {
				v.SetDouble(tok)
			}
		case string:
			v.SetStr(tok)
		case bool:
			v.SetBool(tok)
		}
	}
	_, err := dec.Token()
	require.NoError(t, err)
	fillObject(m)
}
