package datadog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/widemap"
)

// wideText is an object of n members k0…k(n-1), with extra members after.
func wideText(n int, extra string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(extra)
	b.WriteByte('}')
	return b.String()
}

// TestParseJSONWideObjects: objects past widemap.Threshold members (built
// in linear time) decode as PutEmpty, member by member, decodes them: key
// order kept, a repeated key in its first place with its last value.
func TestParseJSONWideObjects(t *testing.T) {
	n := widemap.Threshold
	for _, tc := range []struct{ name, text string }{
		{"small", `{"a":1,"b":"x","a":2}`},
		{"at the threshold", wideText(n-1, `"last":true`)},
		{"wide", wideText(3*n, `"last":true`)},
		{"repeated key across the switch", wideText(n+5, `"k3":"again","k300":{"x":[1,2]},"k3":"last"`)},
		{"nested wide", `{"a":[` + wideText(2*n, `"z":null`) + `],"b":` + wideText(n+1, `"k0":1.5`) + `}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pcommon.NewValueEmpty()
			require.NoError(t, ParseJSON([]byte(tc.text), got))
			want := pcommon.NewValueEmpty()
			dec := json.NewDecoder(bytes.NewReader([]byte(tc.text)))
			dec.UseNumber()
			require.NoError(t, putEachMember(dec, want))
			assert.Equal(t, members(want), members(got))
			assert.Equal(t, want.AsRaw(), got.AsRaw())
		})
	}
}

// putEachMember is the reference: every member put with PutEmpty.
func putEachMember(dec *json.Decoder, v pcommon.Value) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			m := v.SetEmptyMap()
			for dec.More() {
				k, _ := dec.Token()
				if err := putEachMember(dec, m.PutEmpty(k.(string))); err != nil {
					return err
				}
			}
		} else {
			s := v.SetEmptySlice()
			for dec.More() {
				if err := putEachMember(dec, s.AppendEmpty()); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token()
		return err
	case json.Number:
		return ParseJSON([]byte(t), v) // numbers as ParseJSON reads them
	default:
		return v.FromRaw(t)
	}
}

// members lists every map's keys in order, depth first.
func members(v pcommon.Value) []string {
	var out []string
	switch v.Type() {
	case pcommon.ValueTypeMap:
		for k, e := range v.Map().All() {
			out = append(out, k)
			out = append(out, members(e)...)
		}
	case pcommon.ValueTypeSlice:
		for _, e := range v.Slice().All() {
			out = append(out, members(e)...)
		}
	}
	return out
}

// BenchmarkParseJSONWide: the time per member stays flat as the object
// grows (it grew with the member count before widemap: 3.3 s for 20k
// members, 25 s for 80k).
func BenchmarkParseJSONWide(b *testing.B) {
	for _, n := range []int{10_000, 40_000, 160_000} {
		text := []byte(wideText(n, `"end":0`))
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if err := ParseJSON(text, pcommon.NewValueEmpty()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/member")
		})
	}
}
